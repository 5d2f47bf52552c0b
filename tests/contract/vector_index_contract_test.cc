// VectorIndex conformance (src/store/vector_index.h), run against every backend by name: answers
// equal to an exact search on small sets, recall on embedding-like data at every filter
// selectivity, replacement, tombstones, bad input, persistence and growth, concurrent use.
// Indexes are created only through the StoreRegistry, in a fresh directory per test.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <set>
#include <thread>

#include "core/id.h"
#include "store/hnsw/register.h"
#include "store/store_registry.h"

namespace argus::store {
namespace {

// Embedding-like vectors: a random 8-d latent mixed into `dim` dimensions plus noise (i.i.d.
// random vectors defeat every graph index and would measure nothing).
std::vector<float> Embeddings(int n, int dim, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  constexpr int kLatent = 8;
  std::mt19937 mix_rng(7);
  std::vector<float> mix(kLatent * dim);
  for (float& v : mix) v = normal(mix_rng);
  std::vector<float> out(static_cast<size_t>(n) * dim);
  for (int i = 0; i < n; ++i) {
    float z[kLatent];
    for (float& v : z) v = normal(rng);
    for (int d = 0; d < dim; ++d) {
      float x = 0.3f * normal(rng);
      for (int l = 0; l < kLatent; ++l) x += z[l] * mix[l * dim + d];
      out[static_cast<size_t>(i) * dim + d] = x;
    }
  }
  return out;
}

class VectorIndexContractTest : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(hnsw::RegisterHnswStores(registry_).ok());
    dir_ = testing::TempDir() + "/vindex_" + NewId();
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<VectorIndex> Open(int dim, VectorMetric metric = VectorMetric::kCosine,
                                    std::string name = "f",
                                    VectorStorage storage = VectorStorage::kF32) {
    VectorIndexArgs args{.path = dir_ + "/" + name + ".hnsw",
                         .options = {.dimension = dim, .metric = metric, .storage = storage}};
    auto index = registry_.vector_index.Create(GetParam(), args);
    EXPECT_TRUE(index.ok()) << index.status().ToString();
    return index.ok() ? std::move(index).value() : nullptr;
  }

  static std::vector<uint64_t> Keys(int n, uint64_t first = 1) {
    std::vector<uint64_t> keys(n);
    for (int i = 0; i < n; ++i) keys[i] = first + i;
    return keys;
  }

  // The exact k nearest by cosine (the test's own arithmetic), among `allowed` when given.
  static std::vector<uint64_t> BruteForce(const std::vector<float>& data, int dim,
                                          const std::vector<uint64_t>& keys,
                                          std::span<const float> q, int k,
                                          const std::set<uint64_t>* allowed = nullptr) {
    std::vector<std::pair<double, uint64_t>> scored;
    double qn = 0;
    for (float v : q) qn += v * v;
    for (size_t i = 0; i < keys.size(); ++i) {
      if (allowed != nullptr && !allowed->count(keys[i])) continue;
      double dot = 0, n = 0;
      for (int d = 0; d < dim; ++d) {
        dot += data[i * dim + d] * q[d];
        n += data[i * dim + d] * data[i * dim + d];
      }
      scored.emplace_back(-dot / std::sqrt(n * qn), keys[i]);
    }
    std::sort(scored.begin(), scored.end());
    std::vector<uint64_t> out;
    for (int i = 0; i < k && i < static_cast<int>(scored.size()); ++i)
      out.push_back(scored[i].second);
    return out;
  }

  static std::vector<uint64_t> HitKeys(const std::vector<VectorHit>& hits) {
    std::vector<uint64_t> out;
    for (const auto& h : hits) out.push_back(h.key);
    return out;
  }

  StoreRegistry registry_;
  std::string dir_;
};

TEST_P(VectorIndexContractTest, SmallSetsAnswerExactlyWithScoresByMetric) {
  auto index = Open(3, VectorMetric::kCosine);
  ASSERT_NE(index, nullptr);
  const std::vector<float> v = {1, 0, 0, 0, 2, 0, 1, 1, 0};
  ASSERT_TRUE(index->Upsert(Keys(3), v).ok());
  EXPECT_EQ(index->Size(), 3);
  const std::vector<float> q = {3, 0.1f, 0};
  auto hits = index->Search({.vector = q, .k = 3});
  ASSERT_TRUE(hits.ok()) << hits.status().ToString();
  EXPECT_THAT(HitKeys(*hits), testing::ElementsAre(1, 3, 2));
  EXPECT_NEAR((*hits)[0].score, 3 / std::sqrt(9.01), 1e-5) << "cosine similarity";
  auto stored = index->Get(2);
  ASSERT_TRUE(stored.ok());
  EXPECT_NEAR((*stored)[1], 1.0, 1e-6) << "stored normalised";

  auto l2 = Open(2, VectorMetric::kL2, "l2");
  ASSERT_TRUE(l2->Upsert(Keys(2), std::vector<float>{0, 0, 3, 4}).ok());
  auto near = l2->Search({.vector = std::vector<float>{3, 3}, .k = 2});
  ASSERT_TRUE(near.ok());
  EXPECT_THAT(HitKeys(*near), testing::ElementsAre(2, 1));
  EXPECT_FLOAT_EQ((*near)[0].score, -1.0f) << "minus the squared distance";
  auto ip = Open(2, VectorMetric::kInnerProduct, "ip");
  ASSERT_TRUE(ip->Upsert(Keys(2), std::vector<float>{1, 0, 5, 5}).ok());
  auto dot = ip->Search({.vector = std::vector<float>{1, 1}, .k = 1});
  ASSERT_TRUE(dot.ok());
  EXPECT_EQ((*dot)[0].key, 2u);
  EXPECT_FLOAT_EQ((*dot)[0].score, 10.0f) << "the dot product, not normalised";
}

TEST_P(VectorIndexContractTest, AnUpsertReplacesAndARemovedKeyIsGoneUntilAddedAgain) {
  auto index = Open(2);
  ASSERT_TRUE(index->Upsert(Keys(3), std::vector<float>{1, 0, 0, 1, -1, 0}).ok());
  ASSERT_TRUE(index->Upsert(std::vector<uint64_t>{3}, std::vector<float>{0.9f, 0.1f}).ok());
  EXPECT_EQ(index->Size(), 3);
  auto hits = index->Search({.vector = std::vector<float>{1, 0}, .k = 2});
  ASSERT_TRUE(hits.ok());
  EXPECT_THAT(HitKeys(*hits), testing::ElementsAre(1, 3)) << "key 3 moved";
  ASSERT_TRUE(index->Remove(std::vector<uint64_t>{1, 99}).ok()) << "unknown keys are ignored";
  EXPECT_EQ(index->Size(), 2);
  EXPECT_EQ(index->Get(1).status().code(), StatusCode::kNotFound);
  hits = index->Search({.vector = std::vector<float>{1, 0}, .k = 3});
  EXPECT_THAT(HitKeys(*hits), testing::ElementsAre(3, 2));
  // A new key takes the tombstone's slot; the removed key comes back when added again.
  ASSERT_TRUE(index->Upsert(std::vector<uint64_t>{7}, std::vector<float>{0, -1}).ok());
  ASSERT_TRUE(index->Upsert(std::vector<uint64_t>{1}, std::vector<float>{1, 0.05f}).ok());
  EXPECT_EQ(index->Size(), 4);
  hits = index->Search({.vector = std::vector<float>{1, 0}, .k = 4});
  EXPECT_THAT(HitKeys(*hits), testing::ElementsAre(1, 3, 2, 7));
}

TEST_P(VectorIndexContractTest, BadInputIsRefusedWholeAndNamed) {
  auto index = Open(3);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  Status s = index->Upsert(Keys(2), std::vector<float>{1, 2, 3, 4, 5});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), testing::HasSubstr("2 vectors of 3 values"));
  s = index->Upsert(Keys(2), std::vector<float>{1, 2, 3, 4, nan, 6});
  EXPECT_THAT(std::string(s.message()), testing::HasSubstr("key 2"));
  s = index->Upsert(Keys(1), std::vector<float>{0, 0, 0});
  EXPECT_THAT(std::string(s.message()), testing::HasSubstr("all zeros"));
  EXPECT_EQ(index->Size(), 0) << "nothing of a refused batch is written";
  ASSERT_TRUE(index->Upsert(Keys(1), std::vector<float>{1, 2, 3}).ok());
  EXPECT_EQ(index->Search({.vector = std::vector<float>{1, 2}, .k = 1}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(index->Search({.vector = std::vector<float>{1, 2, 3}, .k = 0}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(index->Search({.vector = std::vector<float>{1, nan, 3}, .k = 1}).status().code(),
            StatusCode::kInvalidArgument);
  VectorIndexArgs bad{.path = dir_ + "/x.hnsw", .options = {.dimension = 0}};
  EXPECT_EQ(registry_.vector_index.Create(GetParam(), bad).status().code(),
            StatusCode::kInvalidArgument);
}

// Recall@10 against the exact answer on embedding-like data, with and without filters, and the
// plan the selectivity calls for.
TEST_P(VectorIndexContractTest, FilteredSearchKeepsItsRecallAtEverySelectivity) {
  constexpr int kN = 6000, kDim = 32, kQueries = 40, kK = 10;
  auto index = Open(kDim);
  const std::vector<float> data = Embeddings(kN, kDim, 1);
  const std::vector<uint64_t> keys = Keys(kN, 1000);
  ASSERT_TRUE(index->Upsert(keys, data).ok());
  EXPECT_EQ(index->Size(), kN) << "grown past its first capacity";
  const std::vector<float> queries = Embeddings(kQueries, kDim, 2);
  std::mt19937 rng(3);
  std::set<VectorPlan> plans;
  for (double selectivity : {1.0, 0.3, 0.1, 0.01, 0.002}) {
    std::set<uint64_t> allowed_set;
    for (uint64_t k : keys) {
      if (std::uniform_real_distribution<double>()(rng) < selectivity) allowed_set.insert(k);
    }
    const std::vector<uint64_t> allowed(allowed_set.begin(), allowed_set.end());
    int found = 0, wanted = 0;
    for (int q = 0; q < kQueries; ++q) {
      std::span<const float> qv(queries.data() + q * kDim, kDim);
      VectorSearchStats stats;
      auto hits = index->Search(
          {.vector = qv, .k = kK, .allowed = selectivity < 1 ? &allowed : nullptr}, &stats);
      ASSERT_TRUE(hits.ok()) << hits.status().ToString();
      plans.insert(stats.plan);
      auto exact = BruteForce(data, kDim, keys, qv, kK, selectivity < 1 ? &allowed_set : nullptr);
      for (uint64_t k : HitKeys(*hits)) {
        EXPECT_TRUE(selectivity == 1 || allowed_set.count(k)) << "a key outside the filter";
        found += std::count(exact.begin(), exact.end(), k) > 0 ? 1 : 0;
      }
      wanted += static_cast<int>(exact.size());
      for (size_t i = 1; i < hits->size(); ++i) EXPECT_GE((*hits)[i - 1].score, (*hits)[i].score);
    }
    const double recall = static_cast<double>(found) / wanted;
    EXPECT_GE(recall, 0.95) << "selectivity " << selectivity;
  }
  EXPECT_TRUE(plans.count(VectorPlan::kGraph));
  EXPECT_TRUE(plans.count(VectorPlan::kExact)) << "few allowed keys are scanned";
  EXPECT_TRUE(plans.count(VectorPlan::kFilteredGraph)) << "many go through the graph";
}

TEST_P(VectorIndexContractTest, AFilterOverKeysSpreadFarApartKeepsItsAnswers) {
  // Keys a million apart (a collection whose documents were mostly deleted): the filter cannot
  // be a bitmap of the key range, and the graph still only returns allowed keys.
  constexpr int kN = 3000, kDim = 16, kK = 10;
  auto index = Open(kDim);
  const std::vector<float> data = Embeddings(kN, kDim, 4);
  std::vector<uint64_t> keys(kN);
  for (int i = 0; i < kN; ++i) keys[i] = 1'000'000ull * (i + 1);
  ASSERT_TRUE(index->Upsert(keys, data).ok());
  std::set<uint64_t> allowed_set;
  for (int i = 0; i < kN; i += 2) allowed_set.insert(keys[i]);
  const std::vector<uint64_t> allowed(allowed_set.begin(), allowed_set.end());
  const std::vector<float> queries = Embeddings(20, kDim, 5);
  int found = 0, wanted = 0;
  for (int q = 0; q < 20; ++q) {
    std::span<const float> qv(queries.data() + q * kDim, kDim);
    VectorSearchStats stats;
    auto hits = index->Search({.vector = qv, .k = kK, .allowed = &allowed}, &stats);
    ASSERT_TRUE(hits.ok()) << hits.status().ToString();
    EXPECT_EQ(stats.plan, VectorPlan::kFilteredGraph);
    auto exact = BruteForce(data, kDim, keys, qv, kK, &allowed_set);
    for (uint64_t k : HitKeys(*hits)) {
      EXPECT_TRUE(allowed_set.count(k)) << "a key outside the filter";
      found += std::count(exact.begin(), exact.end(), k) > 0 ? 1 : 0;
    }
    wanted += static_cast<int>(exact.size());
  }
  EXPECT_GE(static_cast<double>(found) / wanted, 0.95);
}

TEST_P(VectorIndexContractTest, F16AndI8StorageAnswerLikeF32) {
  constexpr int kN = 3000, kDim = 48, kQueries = 30, kK = 10;
  const std::vector<float> data = Embeddings(kN, kDim, 6);
  const std::vector<uint64_t> keys = Keys(kN);
  const std::vector<float> queries = Embeddings(kQueries, kDim, 7);
  for (VectorStorage storage : {VectorStorage::kF16, VectorStorage::kI8}) {
    const std::string name(VectorStorageName(storage));
    auto index = Open(kDim, VectorMetric::kCosine, name, storage);
    ASSERT_NE(index, nullptr);
    ASSERT_TRUE(index->Upsert(keys, data).ok());
    int found = 0, wanted = 0;
    for (int q = 0; q < kQueries; ++q) {
      std::span<const float> qv(queries.data() + q * kDim, kDim);
      auto hits = index->Search({.vector = qv, .k = kK, .ef = 128});
      ASSERT_TRUE(hits.ok()) << hits.status().ToString();
      auto exact = BruteForce(data, kDim, keys, qv, kK, nullptr);
      for (uint64_t k : HitKeys(*hits)) found += std::count(exact.begin(), exact.end(), k);
      wanted += kK;
      // Scores are cosines still, up to the storage's rounding.
      ASSERT_FALSE(hits->empty());
      EXPECT_LE((*hits)[0].score, 1.02f);
      EXPECT_GE((*hits)[0].score, 0.5f);
    }
    EXPECT_GE(static_cast<double>(found) / wanted, 0.9) << name;
    // A stored vector reads back normalised, within the storage's rounding.
    auto got = index->Get(keys[5]);
    ASSERT_TRUE(got.ok());
    double norm = 0;
    for (float v : std::span(data).subspan(5 * kDim, kDim)) norm += static_cast<double>(v) * v;
    for (int d = 0; d < kDim; ++d) {
      EXPECT_NEAR((*got)[d], data[5 * kDim + d] / std::sqrt(norm),
                  storage == VectorStorage::kF16 ? 1e-3 : 1.0 / 127)
          << name << " component " << d;
    }
    // Saved and reopened with the same storage it answers the same; another storage is refused.
    auto before = index->Search({.vector = std::span(queries).subspan(0, kDim), .k = kK});
    ASSERT_TRUE(index->Save().ok());
    index.reset();
    index = Open(kDim, VectorMetric::kCosine, name, storage);
    ASSERT_NE(index, nullptr);
    auto after = index->Search({.vector = std::span(queries).subspan(0, kDim), .k = kK});
    EXPECT_EQ(HitKeys(*before), HitKeys(*after)) << name;
    index.reset();
    auto other = registry_.vector_index.Create(
        GetParam(), {.path = dir_ + "/" + name + ".hnsw", .options = {.dimension = kDim}});
    EXPECT_EQ(other.status().code(), StatusCode::kFailedPrecondition) << name;
  }
  auto l2_i8 = registry_.vector_index.Create(
      GetParam(),
      {.path = dir_ + "/x.hnsw",
       .options = {.dimension = 4, .metric = VectorMetric::kL2, .storage = VectorStorage::kI8}});
  EXPECT_EQ(l2_i8.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseVectorStorage("f16").value(), VectorStorage::kF16);
  EXPECT_EQ(ParseVectorStorage("f8").status().code(), StatusCode::kInvalidArgument);
}

TEST_P(VectorIndexContractTest, ASavedIndexReopensWithTheSameAnswers) {
  constexpr int kDim = 16;
  const std::vector<float> data = Embeddings(1500, kDim, 4);
  std::vector<float> q(data.begin() + 5 * kDim, data.begin() + 6 * kDim);
  std::vector<uint64_t> before;
  {
    auto index = Open(kDim);
    ASSERT_TRUE(index->Upsert(Keys(1500), data).ok());
    ASSERT_TRUE(index->Remove(std::vector<uint64_t>{7, 8}).ok());
    before = HitKeys(*index->Search({.vector = q, .k = 10}));
    ASSERT_TRUE(index->Save().ok());
    ASSERT_TRUE(index->Upsert(std::vector<uint64_t>{9999}, q).ok());  // after the save: lost
  }
  auto reopened = Open(kDim);
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(reopened->Size(), 1498);
  EXPECT_EQ(HitKeys(*reopened->Search({.vector = q, .k = 10})), before);
  EXPECT_EQ(reopened->Get(7).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(before.front(), 6u) << "the query is key 6's own vector";
  // Added to after a reopen, saved again.
  ASSERT_TRUE(reopened->Upsert(std::vector<uint64_t>{7}, q).ok());
  ASSERT_TRUE(reopened->Save().ok());
  reopened.reset();
  EXPECT_EQ(Open(kDim)->Size(), 1499);

  VectorIndexArgs other{.path = dir_ + "/f.hnsw", .options = {.dimension = kDim + 1}};
  EXPECT_EQ(registry_.vector_index.Create(GetParam(), other).status().code(),
            StatusCode::kFailedPrecondition);
  std::ofstream(dir_ + "/f.hnsw", std::ios::trunc) << "garbage";
  EXPECT_EQ(registry_.vector_index
                .Create(GetParam(), {.path = dir_ + "/f.hnsw", .options = {.dimension = kDim}})
                .status()
                .code(),
            StatusCode::kDataLoss);
}

TEST_P(VectorIndexContractTest, SearchesRunWhileVectorsArrive) {
  constexpr int kDim = 16;
  auto index = Open(kDim);
  const std::vector<float> data = Embeddings(4000, kDim, 5);
  ASSERT_TRUE(index->Upsert(Keys(500), std::span(data).first(500 * kDim)).ok());
  std::atomic<bool> stop{false};
  std::atomic<int> searches{0}, errors{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&, t] {
      while (!stop) {
        std::span<const float> q(data.data() + (t * 97 % 500) * kDim, kDim);
        auto hits = index->Search({.vector = q, .k = 5});
        if (!hits.ok() || hits->empty()) errors++;
        searches++;
      }
    });
  }
  for (int from = 500; from < 4000; from += 250) {
    ASSERT_TRUE(
        index->Upsert(Keys(250, 1 + from), std::span(data).subspan(from * kDim, 250 * kDim)).ok());
  }
  stop = true;
  for (auto& r : readers) r.join();
  EXPECT_EQ(errors, 0);
  EXPECT_GT(searches, 0);
  EXPECT_EQ(index->Size(), 4000);
}

INSTANTIATE_TEST_SUITE_P(Backends, VectorIndexContractTest, testing::Values("hnsw"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace argus::store
