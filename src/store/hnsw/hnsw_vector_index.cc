#include "store/hnsw/hnsw_vector_index.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <queue>
#include <sstream>
#include <utility>

#include "core/file.h"
#include "core/json.h"
#include "hnswlib/hnswlib.h"
#include "store/hnsw/quantized_spaces.h"

namespace argus::store::hnsw {

namespace {

constexpr int kFormat = 1;
constexpr size_t kInitialCapacity = 1024;

// The graph skips keys outside the allow-list (sorted), as it walks. The walk asks about every
// neighbour it meets, so membership is a bit test when the keys are dense enough for a bitmap
// of their range (at most 16 words per allowed key), else a binary search.
class AllowedKeys final : public hnswlib::BaseFilterFunctor {
 public:
  explicit AllowedKeys(const std::vector<uint64_t>& keys) : keys_(keys) {
    const uint64_t words = keys.empty() ? 0 : keys.back() / 64 + 1;
    if (words <= 16 * keys.size()) {
      bits_.assign(words, 0);
      for (uint64_t k : keys) bits_[k >> 6] |= uint64_t{1} << (k & 63);
    }
  }
  bool operator()(hnswlib::labeltype id) override {
    const auto k = static_cast<uint64_t>(id);
    if (!bits_.empty()) return (k >> 6) < bits_.size() && ((bits_[k >> 6] >> (k & 63)) & 1) != 0;
    return std::binary_search(keys_.begin(), keys_.end(), k);
  }

 private:
  const std::vector<uint64_t>& keys_;
  std::vector<uint64_t> bits_;
};

std::string MetaPath(const std::string& path) { return path + ".meta.json"; }

Json MetaJson(const VectorIndexOptions& o) {
  return {{"format", kFormat},
          {"library", "hnswlib 0.8.0"},
          {"dimension", o.dimension},
          {"metric", std::string(VectorMetricName(o.metric))},
          {"storage", std::string(VectorStorageName(o.storage))},
          {"m", o.m},
          {"ef_construction", o.ef_construction}};
}

Status CheckOptions(const VectorIndexOptions& o) {
  if (o.dimension < 1 || o.dimension > 65536) {
    return InvalidArgumentError("a vector index needs a dimension of 1..65536, not " +
                                std::to_string(o.dimension));
  }
  if (o.m < 2 || o.m > 256 || o.ef_construction < 1 || o.ef_search < 1) {
    return InvalidArgumentError("vector index options out of range (m 2..256, ef >= 1)");
  }
  if (o.storage == VectorStorage::kI8 && o.metric != VectorMetric::kCosine) {
    return InvalidArgumentError("i8 vector storage needs the cosine metric (normalised vectors)");
  }
  return OkStatus();
}

}  // namespace

HnswVectorIndex::HnswVectorIndex(VectorIndexArgs args,
                                 std::unique_ptr<hnswlib::SpaceInterface<float>> space,
                                 std::unique_ptr<Graph> graph)
    : args_(std::move(args)), space_(std::move(space)), graph_(std::move(graph)) {}

HnswVectorIndex::~HnswVectorIndex() = default;

Result<std::unique_ptr<VectorIndex>> HnswVectorIndex::Open(const VectorIndexArgs& args) {
  ARGUS_RETURN_IF_ERROR(CheckOptions(args.options));
  const auto dim = static_cast<size_t>(args.options.dimension);
  std::unique_ptr<hnswlib::SpaceInterface<float>> space;
  const bool l2 = args.options.metric == VectorMetric::kL2;
  if (args.options.storage == VectorStorage::kF16) {
    space = std::make_unique<HalfSpace>(dim, l2);
  } else if (args.options.storage == VectorStorage::kI8) {
    space = std::make_unique<Int8Space>(dim);
  } else if (l2) {
    space = std::make_unique<hnswlib::L2Space>(dim);
  } else {
    space = std::make_unique<hnswlib::InnerProductSpace>(dim);
  }
  std::unique_ptr<Graph> graph;
  std::error_code ec;
  try {
    if (!args.path.empty() && !args.fresh && std::filesystem::exists(args.path, ec)) {
      std::ifstream meta_in(MetaPath(args.path));
      std::stringstream text;
      text << meta_in.rdbuf();
      auto meta = Json::parse(text.str(), nullptr, false);
      if (meta.is_discarded() || meta.value("format", 0) != kFormat) {
        return DataLossError("vector index " + args.path + " has no readable " +
                             MetaPath(args.path) + ": rebuild it");
      }
      if (meta.value("dimension", 0) != args.options.dimension ||
          meta.value("metric", "") != VectorMetricName(args.options.metric) ||
          meta.value("storage", "f32") != VectorStorageName(args.options.storage)) {
        return FailedPreconditionError(
            "vector index " + args.path + " holds " + std::to_string(meta.value("dimension", 0)) +
            "-d " + meta.value("metric", "?") + " " + meta.value("storage", "f32") +
            " vectors, not " + std::to_string(args.options.dimension) + "-d " +
            std::string(VectorMetricName(args.options.metric)) + " " +
            std::string(VectorStorageName(args.options.storage)));
      }
      graph = std::make_unique<Graph>(space.get(), args.path, false, 0, true);
    } else {
      graph = std::make_unique<Graph>(space.get(), kInitialCapacity,
                                      static_cast<size_t>(args.options.m),
                                      static_cast<size_t>(args.options.ef_construction), 100, true);
    }
  } catch (const std::exception& e) {
    return DataLossError("vector index " + args.path + " cannot be read (" + e.what() +
                         "): rebuild it");
  }
  // searchKnn's beam is max(ef_, k): each search asks for its whole beam as k and keeps the
  // best query.k, so the graph's own ef_ must not widen it.
  graph->setEf(1);
  return std::unique_ptr<VectorIndex>(
      new HnswVectorIndex(args, std::move(space), std::move(graph)));
}

std::shared_lock<std::shared_mutex> HnswVectorIndex::ReadLock() const {
  { std::lock_guard pass(turnstile_); }
  return std::shared_lock(mu_);
}

std::unique_lock<std::shared_mutex> HnswVectorIndex::WriteLock() const {
  std::lock_guard hold(turnstile_);
  return std::unique_lock(mu_);
}

std::vector<uint8_t> HnswVectorIndex::Prepared(std::span<const float> row) const {
  std::vector<float> out(row.begin(), row.end());
  if (args_.options.metric == VectorMetric::kCosine) {
    double norm = 0;
    for (float v : out) norm += static_cast<double>(v) * v;
    const float inv = static_cast<float>(1.0 / std::sqrt(norm));
    for (float& v : out) v *= inv;
  }
  switch (args_.options.storage) {
    case VectorStorage::kF16:
      return EncodeHalf(out);
    case VectorStorage::kI8:
      return EncodeInt8(out);
    case VectorStorage::kF32:
      break;
  }
  std::vector<uint8_t> bytes(out.size() * sizeof(float));
  std::memcpy(bytes.data(), out.data(), bytes.size());
  return bytes;
}

float HnswVectorIndex::Score(float distance) const {
  // hnswlib's inner-product "distance" is 1 - dot; its L2 distance is squared.
  return args_.options.metric == VectorMetric::kL2 ? -distance : 1.0f - distance;
}

Status HnswVectorIndex::Upsert(std::span<const uint64_t> keys, std::span<const float> vectors) {
  ARGUS_RETURN_IF_ERROR(CheckVectors(keys, vectors, args_.options));
  const auto dim = static_cast<size_t>(args_.options.dimension);
  auto lock = WriteLock();
  try {
    size_t fresh = 0;
    for (uint64_t key : keys) fresh += graph_->label_lookup_.count(key) == 0 ? 1 : 0;
    const size_t needed = graph_->getCurrentElementCount() + fresh;
    if (needed > graph_->getMaxElements()) {
      graph_->resizeIndex(std::max(needed, graph_->getMaxElements() * 2));
    }
    for (size_t r = 0; r < keys.size(); ++r) {
      const std::vector<uint8_t> row = Prepared(vectors.subspan(r * dim, dim));
      auto it = graph_->label_lookup_.find(keys[r]);
      if (it == graph_->label_lookup_.end()) {
        graph_->addPoint(row.data(), keys[r], true);  // into a tombstone's slot when there is one
      } else {
        if (graph_->isMarkedDeleted(it->second)) graph_->unmarkDelete(keys[r]);
        graph_->addPoint(row.data(), keys[r], false);  // in place
      }
    }
  } catch (const std::exception& e) {
    return InternalError(std::string("vector index write failed: ") + e.what());
  }
  return OkStatus();
}

Status HnswVectorIndex::Remove(std::span<const uint64_t> keys) {
  auto lock = WriteLock();
  try {
    for (uint64_t key : keys) {
      auto it = graph_->label_lookup_.find(key);
      if (it != graph_->label_lookup_.end() && !graph_->isMarkedDeleted(it->second)) {
        graph_->markDelete(key);
      }
    }
  } catch (const std::exception& e) {
    return InternalError(std::string("vector index delete failed: ") + e.what());
  }
  return OkStatus();
}

std::vector<VectorHit> HnswVectorIndex::Exact(const void* query, int k,
                                              const std::vector<uint64_t>& allowed) const {
  // A max-heap of the k nearest so far, by distance.
  Farthest best;
  const void* param = graph_->dist_func_param_;
  for (uint64_t key : allowed) {
    auto it = graph_->label_lookup_.find(key);
    if (it == graph_->label_lookup_.end() || graph_->isMarkedDeleted(it->second)) continue;
    const float d = graph_->fstdistfunc_(query, graph_->getDataByInternalId(it->second), param);
    if (static_cast<int>(best.size()) < k) {
      best.emplace(d, key);
    } else if (d < best.top().first) {
      best.pop();
      best.emplace(d, key);
    }
  }
  return NearestFirst(std::move(best), k);
}

std::vector<VectorHit> HnswVectorIndex::NearestFirst(Farthest found, int k) const {
  while (static_cast<int>(found.size()) > k) found.pop();
  std::vector<VectorHit> out(found.size());
  for (size_t i = out.size(); i-- > 0;) {
    out[i] = {.key = found.top().second, .score = Score(found.top().first)};
    found.pop();
  }
  return out;
}

Result<std::vector<VectorHit>> HnswVectorIndex::Search(const VectorQuery& query,
                                                       VectorSearchStats* stats) const {
  ARGUS_RETURN_IF_ERROR(CheckQuery(query, args_.options));
  VectorSearchStats local;
  VectorSearchStats& s = stats != nullptr ? *stats : local;
  const std::vector<uint8_t> q = Prepared(query.vector);
  const int base = std::max(query.k, query.ef > 0 ? query.ef : args_.options.ef_search);
  auto lock = ReadLock();
  const auto live =
      static_cast<int64_t>(graph_->getCurrentElementCount() - graph_->getDeletedCount());
  s.allowed = query.allowed == nullptr ? -1 : static_cast<int64_t>(query.allowed->size());
  try {
    if (query.allowed != nullptr) {
      const auto allowed = static_cast<int64_t>(query.allowed->size());
      if (allowed <= ExactScanLimit(args_.options, base, live)) {
        s.plan = VectorPlan::kExact;
        s.beam = 0;
        return Exact(q.data(), query.k, *query.allowed);
      }
      // hnswlib's filtered walk goes on until its beam holds that many allowed keys, so the
      // beam needs no widening for a sparse filter; the walk just visits more nodes.
      s.plan = VectorPlan::kFilteredGraph;
      s.beam = base;
      AllowedKeys filter(*query.allowed);
      auto found =
          graph_->searchKnn(q.data(), static_cast<size_t>(std::max(s.beam, query.k)), &filter);
      if (static_cast<int64_t>(found.size()) < std::min<int64_t>(query.k, allowed)) {
        s.plan = VectorPlan::kExactFallback;
        return Exact(q.data(), query.k, *query.allowed);
      }
      return NearestFirst(std::move(found), query.k);
    }
    s.plan = VectorPlan::kGraph;
    s.beam = base;
    auto found = graph_->searchKnn(q.data(), static_cast<size_t>(base));
    return NearestFirst(std::move(found), query.k);
  } catch (const std::exception& e) {
    return InternalError(std::string("vector search failed: ") + e.what());
  }
}

Result<std::vector<float>> HnswVectorIndex::Get(uint64_t key) const {
  auto lock = ReadLock();
  auto it = graph_->label_lookup_.find(key);
  if (it == graph_->label_lookup_.end() || graph_->isMarkedDeleted(it->second)) {
    return NotFoundError("no vector for key " + std::to_string(key));
  }
  const char* data = graph_->getDataByInternalId(it->second);
  const auto dim = static_cast<size_t>(args_.options.dimension);
  switch (args_.options.storage) {
    case VectorStorage::kF16:
      return DecodeHalf(data, dim);
    case VectorStorage::kI8:
      return DecodeInt8(data, dim);
    case VectorStorage::kF32:
      break;
  }
  const auto* floats = reinterpret_cast<const float*>(data);
  return std::vector<float>(floats, floats + dim);
}

int64_t HnswVectorIndex::Size() const {
  auto lock = ReadLock();
  return static_cast<int64_t>(graph_->getCurrentElementCount() - graph_->getDeletedCount());
}

Status HnswVectorIndex::Save() {
  if (args_.path.empty()) return FailedPreconditionError("this vector index has no file");
  const std::string tmp = args_.path + ".tmp";
  {
    // Writers wait; searches go on (saveIndex only reads).
    auto lock = ReadLock();
    std::unique_lock write_lock(save_mu_);
    try {
      graph_->saveIndex(tmp);
    } catch (const std::exception& e) {
      return InternalError("saving vector index " + args_.path + " failed: " + e.what());
    }
    std::error_code ec;
    const auto size = std::filesystem::file_size(tmp, ec);
    if (ec || size != graph_->indexFileSize()) {
      return InternalError("saving vector index " + args_.path + " wrote a short file");
    }
  }
  ARGUS_RETURN_IF_ERROR(SyncPath(tmp));
  ARGUS_RETURN_IF_ERROR(WriteFileAtomic(MetaPath(args_.path), MetaJson(args_.options).dump()));
  std::error_code ec;
  std::filesystem::rename(tmp, args_.path, ec);
  if (ec) return InternalError("cannot rename " + tmp + ": " + ec.message());
  const std::string dir = std::filesystem::path(args_.path).parent_path().string();
  return SyncPath(dir.empty() ? "." : dir);
}

}  // namespace argus::store::hnsw
