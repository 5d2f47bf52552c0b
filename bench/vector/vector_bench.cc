// bench/vector: filtered and unfiltered k-NN through the VectorIndex contract ("hnsw") against
// raw hnswlib 0.8 on the same data and an exact scan of the matching subset, same run, one
// query thread. For each selectivity it prints each plan's queries/s at the smallest beam that
// reaches recall@10 >= 0.95 (against brute force), and the ratio of the contract to the better
// raw plan. Data: embedding-like vectors x = z·A + 0.3·noise, z in 32-d, normalised (i.i.d.
// random vectors defeat every graph index and measure nothing).
//
//   argus_bench_vector [N=100000] [DIM=512] [QUERIES=200] [DIR=/tmp] [RAW_BUILD=1] [STORAGE=f32]
// STORAGE=f16 or i8 stores the contract's vectors compactly (the raw plans stay f32).
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "hnswlib/hnswlib.h"
#include "store/hnsw/register.h"
#include "store/store_registry.h"

namespace {

using Clock = std::chrono::steady_clock;
using argus::store::VectorHit;
using argus::store::VectorIndex;
using argus::store::VectorQuery;
using argus::store::VectorSearchStats;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

long Env(const char* name, long fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::atol(v) : fallback;
}

std::vector<float> Embeddings(size_t n, int dim, uint32_t seed) {
  constexpr int kLatent = 32;
  std::mt19937 mix_rng(11);
  std::normal_distribution<float> normal;
  std::vector<float> mix(static_cast<size_t>(kLatent) * dim);
  for (float& v : mix) v = normal(mix_rng) / std::sqrt(static_cast<float>(kLatent));
  std::mt19937 rng(seed);
  std::vector<float> out(n * dim);
  for (size_t i = 0; i < n; ++i) {
    float z[kLatent];
    for (float& v : z) v = normal(rng);
    float* x = out.data() + i * dim;
    double norm = 0;
    for (int d = 0; d < dim; ++d) {
      float s = 0.3f * normal(rng);
      for (int l = 0; l < kLatent; ++l) s += z[l] * mix[static_cast<size_t>(l) * dim + d];
      x[d] = s;
      norm += static_cast<double>(s) * s;
    }
    const float inv = static_cast<float>(1 / std::sqrt(norm));
    for (int d = 0; d < dim; ++d) x[d] *= inv;
  }
  return out;
}

float Dot(const float* a, const float* b, int dim) {
  float s = 0;
  for (int d = 0; d < dim; ++d) s += a[d] * b[d];
  return s;
}

// The exact top k of the allowed keys (keys are row numbers).
std::vector<uint64_t> Exact(const std::vector<float>& data, int dim, const float* q, int k,
                            const std::vector<uint64_t>& allowed) {
  std::vector<std::pair<float, uint64_t>> best;
  best.reserve(allowed.size());
  for (uint64_t key : allowed) best.emplace_back(-Dot(data.data() + key * dim, q, dim), key);
  const size_t kk = std::min<size_t>(k, best.size());
  std::partial_sort(best.begin(), best.begin() + kk, best.end());
  std::vector<uint64_t> out;
  for (size_t i = 0; i < kk; ++i) out.push_back(best[i].second);
  return out;
}

class Allowed final : public hnswlib::BaseFilterFunctor {
 public:
  explicit Allowed(const std::vector<uint64_t>& keys) : keys_(keys) {}
  bool operator()(hnswlib::labeltype id) override {
    return std::binary_search(keys_.begin(), keys_.end(), static_cast<uint64_t>(id));
  }

 private:
  const std::vector<uint64_t>& keys_;
};

struct Result {
  double qps = 0, recall = 0;
  int ef = 0;
  std::string plan;
};

// Runs `search` (query index, ef → keys) over the queries at growing beams until recall@k
// reaches 0.95 (or the beams run out): the figures at that beam, timing the faster of two passes.
template <typename Search>
Result AtRecall(int queries, const std::vector<std::vector<uint64_t>>& truth, int k, Search search,
                bool uses_ef = true) {
  Result r;
  for (int ef : {16, 32, 64, 128, 256, 512, 1024, 2048}) {
    int found = 0, wanted = 0;
    double best_s = 0;
    for (int round = 0; round < 2; ++round) {  // the faster of two passes: less noise
      found = wanted = 0;
      const auto start = Clock::now();
      for (int q = 0; q < queries; ++q) {
        std::vector<uint64_t> got = search(q, ef);
        for (uint64_t key : got) {
          found += std::count(truth[q].begin(), truth[q].end(), key) > 0 ? 1 : 0;
        }
        wanted += static_cast<int>(std::min<size_t>(k, truth[q].size()));
      }
      const double s = Seconds(start);
      best_s = round == 0 ? s : std::min(best_s, s);
    }
    r = {.qps = queries / best_s,
         .recall = wanted == 0 ? 1 : static_cast<double>(found) / wanted,
         .ef = uses_ef ? ef : 0};
    if (r.recall >= 0.95 || !uses_ef) return r;
  }
  return r;
}

}  // namespace

int main() {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // lines as they come, also into a file
  const size_t n = static_cast<size_t>(Env("N", 100000));
  const int dim = static_cast<int>(Env("DIM", 512));
  const int queries = static_cast<int>(Env("QUERIES", 200));
  const std::string dir = std::getenv("DIR") != nullptr ? std::getenv("DIR") : "/tmp";
  constexpr int kK = 10, kM = 16, kEfConstruction = 200;
  std::printf(
      "bench/vector: %zu x %d embedding-like vectors, %d queries, k=%d, M=%d, "
      "efConstruction=%d, one thread, contract storage %s\n",
      n, dim, queries, kK, kM, kEfConstruction,
      std::getenv("STORAGE") != nullptr ? std::getenv("STORAGE") : "f32");
  const std::vector<float> data = Embeddings(n, dim, 1);
  const std::vector<float> qdata = Embeddings(queries, dim, 2);
  std::vector<uint64_t> keys(n);
  for (size_t i = 0; i < n; ++i) keys[i] = i;

  // Through the contract.
  argus::store::StoreRegistry registry;
  if (!argus::store::hnsw::RegisterHnswStores(registry).ok()) return 1;
  const std::string path = dir + "/argus_bench_vector.hnsw";
  std::filesystem::remove(path);
  const char* storage_env = std::getenv("STORAGE");
  auto storage = argus::store::ParseVectorStorage(storage_env != nullptr ? storage_env : "f32");
  if (!storage.ok()) {
    std::fprintf(stderr, "%s\n", storage.status().ToString().c_str());
    return 1;
  }
  argus::store::VectorIndexArgs args{
      .path = path,
      .options = {
          .dimension = dim, .storage = *storage, .m = kM, .ef_construction = kEfConstruction}};
  auto created = registry.vector_index.Create("hnsw", args);
  if (!created.ok()) {
    std::fprintf(stderr, "%s\n", created.status().ToString().c_str());
    return 1;
  }
  std::unique_ptr<VectorIndex> index = std::move(created).value();
  rusage before{};
  getrusage(RUSAGE_SELF, &before);
  auto start = Clock::now();
  for (size_t from = 0; from < n; from += 1000) {
    const size_t count = std::min<size_t>(1000, n - from);
    if (!index
             ->Upsert(std::span(keys).subspan(from, count),
                      std::span(data).subspan(from * dim, count * dim))
             .ok()) {
      return 1;
    }
  }
  const double build_contract = Seconds(start);
  rusage after{};
  getrusage(RUSAGE_SELF, &after);
  start = Clock::now();
  if (!index->Save().ok()) return 1;
  const double save_s = Seconds(start);
  index.reset();
  start = Clock::now();
  index = std::move(registry.vector_index.Create("hnsw", args)).value();
  const double reopen_s = Seconds(start);
  const double file_bytes = static_cast<double>(std::filesystem::file_size(path));

  // Raw hnswlib, same parameters: built again (RAW_BUILD=1, the default), or loaded from the
  // contract's saved file (RAW_BUILD=0: the same graph, for the large runs, where a second
  // single-threaded build would double the bench's time).
  hnswlib::InnerProductSpace space(dim);
  // The contract's file is hnswlib's own format only with f32 storage.
  const bool raw_build = Env("RAW_BUILD", 1) != 0 || *storage != argus::store::VectorStorage::kF32;
  std::unique_ptr<hnswlib::HierarchicalNSW<float>> raw_index;
  start = Clock::now();
  if (raw_build) {
    raw_index =
        std::make_unique<hnswlib::HierarchicalNSW<float>>(&space, n, kM, kEfConstruction, 100);
    for (size_t i = 0; i < n; ++i) raw_index->addPoint(data.data() + i * dim, i);
  } else {
    raw_index = std::make_unique<hnswlib::HierarchicalNSW<float>>(&space, path);
  }
  const double build_raw = Seconds(start);
  hnswlib::HierarchicalNSW<float>& raw = *raw_index;

  std::printf(
      "build: contract %.1f s, raw hnswlib %.1f s (%s, one thread); save %.2f s, reopen "
      "%.2f s; %.0f bytes per vector on disk (RSS +%.0f per vector)\n",
      build_contract, build_raw, raw_build ? "built" : "loaded from the contract's file", save_s,
      reopen_s, file_bytes / n, static_cast<double>(after.ru_maxrss - before.ru_maxrss) * 1024 / n);
  std::printf(
      "\n| selectivity | contract q/s (plan, ef) | raw graph q/s (ef) | exact scan q/s | "
      "contract / best raw | contract / unfiltered |\n|---|---|---|---|---|---|\n");
  std::mt19937 rng(3);
  double unfiltered_qps = 0;
  for (double selectivity : {1.0, 0.1, 0.01, 0.001}) {
    std::vector<uint64_t> allowed;
    for (size_t i = 0; i < n; ++i) {
      if (selectivity >= 1 || std::uniform_real_distribution<double>()(rng) < selectivity) {
        allowed.push_back(i);
      }
    }
    std::vector<std::vector<uint64_t>> truth(queries);
    for (int q = 0; q < queries; ++q) {
      truth[q] = Exact(data, dim, qdata.data() + static_cast<size_t>(q) * dim, kK, allowed);
    }
    const bool filtered = selectivity < 1;
    std::string plan;
    Result contract = AtRecall(queries, truth, kK, [&](int q, int ef) {
      VectorSearchStats stats;
      auto hits = index->Search({.vector = std::span(qdata).subspan(q * dim, dim),
                                 .k = kK,
                                 .ef = ef,
                                 .allowed = filtered ? &allowed : nullptr},
                                &stats);
      plan = std::string(argus::store::VectorPlanName(stats.plan));
      std::vector<uint64_t> out;
      for (const VectorHit& h : *hits) out.push_back(h.key);
      return out;
    });
    Result graph = AtRecall(queries, truth, kK, [&](int q, int ef) {
      Allowed filter(allowed);
      auto found =
          raw.searchKnn(qdata.data() + static_cast<size_t>(q) * dim,
                        static_cast<size_t>(std::max(ef, kK)), filtered ? &filter : nullptr);
      while (found.size() > static_cast<size_t>(kK)) found.pop();
      std::vector<uint64_t> out;
      for (; !found.empty(); found.pop()) out.push_back(found.top().second);
      return out;
    });
    Result scan = AtRecall(
        queries, truth, kK,
        [&](int q, int) {
          return Exact(data, dim, qdata.data() + static_cast<size_t>(q) * dim, kK, allowed);
        },
        false);
    if (!filtered) unfiltered_qps = contract.qps;
    const double best_raw = std::max(graph.recall >= 0.95 ? graph.qps : 0.0, scan.qps);
    std::printf(
        "| %.1f %% | %.0f (%s, %d; recall %.3f) | %.0f (%d; recall %.3f) | %.0f | %.2fx | "
        "%.2fx |\n",
        selectivity * 100, contract.qps, plan.c_str(), contract.ef, contract.recall, graph.qps,
        graph.ef, graph.recall, scan.qps, contract.qps / best_raw, contract.qps / unfiltered_qps);
  }
  std::filesystem::remove(path);
  std::filesystem::remove(path + ".meta.json");
  return 0;
}
