#include "retrieval/vector_indexes.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <random>
#include <set>
#include <thread>

#include "core/config.h"
#include "core/id.h"
#include "store/hnsw/register.h"
#include "store/sqlite/register.h"

namespace argus::retrieval {
namespace {

constexpr char kFeature[] = "e@1/v";

// Real SQLite documents and a real hnsw index: searches see every write made before them.
class VectorIndexesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/vindexes_" + NewId();
    std::filesystem::create_directories(dir_);
    ASSERT_TRUE(store::sqlite::RegisterSqliteStores(registry_).ok());
    ASSERT_TRUE(store::hnsw::RegisterHnswStores(registry_).ok());
    metadata_ = std::move(registry_.metadata.Create("sqlite", {&config_, dir_})).value();
    auto ns = *metadata_->CreateNamespace({.id = NewId(), .name = "team"});
    bucket_ = *metadata_->CreateBucket({.id = NewId(), .namespace_id = ns.id, .name = "photos"});
    store::Collection c;
    c.id = NewId();
    c.namespace_id = ns.id;
    c.name = "scenes";
    c.source_bucket_id = bucket_.id;
    collection_ = *metadata_->CreateCollection(c);
    indexes_ = std::make_unique<VectorIndexes>(metadata_.get(), &registry_.vector_index);
  }
  void TearDown() override {
    indexes_.reset();
    metadata_.reset();
    std::filesystem::remove_all(dir_);
  }

  // An object with one document whose vector is `v` (and `w` for a second feature).
  store::Document Put(const std::string& key, std::vector<float> v) {
    store::StoredObject o;
    o.id = NewId();
    o.namespace_id = bucket_.namespace_id;
    o.bucket_id = bucket_.id;
    o.key = key;
    o.size = 1;
    o.sha256 = std::string(64, 'a');
    o.media_type = "image/jpeg";
    EXPECT_TRUE(metadata_->PutObject(o, {}).ok());
    store::Document d;
    d.id = NewId();
    d.object_id = o.id;
    d.payload = {{"key", key}};
    d.vectors = {{.feature = kFeature, .values = std::move(v)},
                 {.feature = "other@1/v", .values = {1, 1, 1}}};
    auto written = metadata_->ReplaceSourceDocuments(collection_.id, o.id, {d}, 1);
    EXPECT_TRUE(written.ok()) << written.status().ToString();
    return written->front();
  }

  std::vector<uint64_t> Nearest(std::vector<float> q, int k,
                                const std::vector<uint64_t>* allowed = nullptr) {
    auto hits =
        indexes_->Search({.collection_id = collection_.id, .feature = kFeature, .dimension = 2},
                         {.vector = q, .k = k, .allowed = allowed});
    EXPECT_TRUE(hits.ok()) << hits.status().ToString();
    std::vector<uint64_t> keys;
    if (hits.ok()) {
      for (const auto& h : *hits) keys.push_back(h.key);
    }
    return keys;
  }

  std::string dir_;
  Config config_;
  store::StoreRegistry registry_;
  std::unique_ptr<store::MetadataStore> metadata_;
  store::Bucket bucket_;
  store::Collection collection_;
  std::unique_ptr<VectorIndexes> indexes_;
};

TEST_F(VectorIndexesTest, SearchesSeeEveryWriteBeforeThem) {
  store::Document a = Put("a.jpg", {1, 0});
  store::Document b = Put("b.jpg", {0, 1});
  EXPECT_EQ(Nearest({1, 0.1f}, 2), (std::vector<uint64_t>{a.key, b.key}));
  // A vector rewritten, a document added, an object deleted: the next search sees all three.
  ASSERT_TRUE(metadata_
                  ->ReplaceSourceDocuments(collection_.id, a.object_id, {[&] {
                                             store::Document d = a;
                                             d.vectors = {{.feature = kFeature, .values = {-1, 0}}};
                                             return d;
                                           }()},
                                           2)
                  .ok());
  store::Document c = Put("c.jpg", {0.9f, 0.2f});
  store::Document zero = Put("zero.jpg", {0, 0});  // no direction: left out of a cosine index
  EXPECT_EQ(Nearest({1, 0.1f}, 4), (std::vector<uint64_t>{c.key, b.key, a.key}));
  ASSERT_TRUE(metadata_->DeleteObject(bucket_.id, "c.jpg").ok());
  EXPECT_EQ(Nearest({1, 0.1f}, 3), (std::vector<uint64_t>{b.key, a.key}));
  std::vector<uint64_t> only_a = {a.key};
  EXPECT_EQ(Nearest({1, 0.1f}, 3, &only_a), (std::vector<uint64_t>{a.key}));
  // Another feature of the same documents is another index (a's rewrite dropped its vector).
  auto other =
      indexes_->Search({.collection_id = collection_.id, .feature = "other@1/v", .dimension = 3},
                       {.vector = std::vector<float>{1, 1, 1}, .k = 5});
  ASSERT_TRUE(other.ok());
  ASSERT_EQ(other->size(), 2u);  // b's and zero.jpg's, the same vector
  EXPECT_EQ(std::set<uint64_t>({(*other)[0].key, (*other)[1].key}),
            std::set<uint64_t>({b.key, zero.key}));
  // A fresh set of indexes (a restart) rebuilds from the stored vectors.
  indexes_ = std::make_unique<VectorIndexes>(metadata_.get(), &registry_.vector_index);
  EXPECT_EQ(Nearest({1, 0.1f}, 3), (std::vector<uint64_t>{b.key, a.key}));
}

// i8 storage orders neighbours roughly; its searches re-rank candidates by the stored f32
// vectors: recall of f32, exact f32 scores. Another storage asked for is built beside the
// serving index by the maintenance round, then swapped in.
TEST_F(VectorIndexesTest, AnI8IndexReRanksWithTheF32VectorsAndAnotherStorageIsBuiltBesideIt) {
  constexpr int kDim = 48, kLatent = 8, kDocs = 800;
  std::mt19937 rng(5);
  std::normal_distribution<float> normal;
  std::vector<float> mix(kLatent * kDim);
  for (float& m : mix) m = normal(rng);
  auto embedding = [&] {
    float z[kLatent];
    for (float& x : z) x = normal(rng);
    std::vector<float> v(kDim);
    for (int d = 0; d < kDim; ++d) {
      v[d] = 0.3f * normal(rng);
      for (int l = 0; l < kLatent; ++l) v[d] += z[l] * mix[l * kDim + d];
    }
    return v;
  };
  std::vector<std::pair<uint64_t, std::vector<float>>> docs;
  for (int i = 0; i < kDocs; ++i) {
    std::vector<float> v = embedding();
    docs.push_back({Put(fmt::format("o{}", i), v).key, v});
  }
  IndexKey key{.collection_id = collection_.id,
               .feature = kFeature,
               .dimension = kDim,
               .storage = store::VectorStorage::kI8};
  double found = 0;
  constexpr int kQueries = 40, kK = 10;
  for (int q = 0; q < kQueries; ++q) {
    const std::vector<float> query = embedding();
    std::vector<std::pair<float, uint64_t>> exact;
    for (const auto& [k, v] : docs) {
      exact.push_back({store::ExactScore(store::VectorMetric::kCosine, query, v), k});
    }
    std::partial_sort(exact.begin(), exact.begin() + kK, exact.end(), std::greater<>());
    auto hits = indexes_->Search(key, {.vector = query, .k = kK});
    ASSERT_TRUE(hits.ok()) << hits.status().ToString();
    ASSERT_EQ(hits->size(), static_cast<size_t>(kK));
    std::set<uint64_t> truth;
    for (int i = 0; i < kK; ++i) truth.insert(exact[i].second);
    for (size_t i = 0; i < hits->size(); ++i) {
      const auto& h = (*hits)[i];
      found += truth.count(h.key);
      // The score is the f32 cosine of the stored vector, not the i8 estimate.
      const auto& stored = std::find_if(docs.begin(), docs.end(), [&](const auto& d) {
                             return d.first == h.key;
                           })->second;
      EXPECT_NEAR(h.score, store::ExactScore(store::VectorMetric::kCosine, query, stored), 1e-6);
      if (i > 0) {
        EXPECT_GE((*hits)[i - 1].score, h.score);
      }
    }
  }
  EXPECT_GE(found / (kQueries * kK), 0.95);
  auto states = indexes_->States();
  ASSERT_EQ(states.size(), 1u);
  EXPECT_EQ(states[0].key.storage, store::VectorStorage::kI8);
  // The collection now asks for f16: the i8 index answers (re-ranked) until the maintenance
  // round has built the f16 one beside it, then that one does.
  key.storage = store::VectorStorage::kF16;
  auto meanwhile = indexes_->Search(key, {.vector = docs[3].second, .k = 1});
  ASSERT_TRUE(meanwhile.ok()) << meanwhile.status().ToString();
  ASSERT_EQ(meanwhile->size(), 1u);
  EXPECT_EQ((*meanwhile)[0].key, docs[3].first);
  EXPECT_NEAR((*meanwhile)[0].score, 1.0f, 1e-6) << "re-ranked: the exact score";
  EXPECT_EQ(indexes_->States()[0].key.storage, store::VectorStorage::kI8);
  ASSERT_TRUE(indexes_->Maintain(/*save=*/false).ok());
  states = indexes_->States();
  ASSERT_EQ(states.size(), 1u);
  EXPECT_EQ(states[0].key.storage, store::VectorStorage::kF16);
  EXPECT_EQ(states[0].size, kDocs);
  auto after = indexes_->Search(key, {.vector = docs[3].second, .k = 1});
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  ASSERT_EQ(after->size(), 1u);
  EXPECT_EQ((*after)[0].key, docs[3].first);
}

class SavedVectorIndexesTest : public VectorIndexesTest {
 protected:
  std::unique_ptr<VectorIndexes> WithFiles() {
    return std::make_unique<VectorIndexes>(metadata_.get(), &registry_.vector_index,
                                           VectorIndexesOptions{.directory = dir_ + "/indexes"});
  }
  IndexState StateOf(VectorIndexes& indexes) {
    for (const auto& s : indexes.States()) {
      if (s.key.feature == kFeature) return s;
    }
    ADD_FAILURE() << "no open index of " << kFeature;
    return {};
  }
};

TEST_F(SavedVectorIndexesTest, ARestartReopensTheSavedFileAndReplaysOnlyTheJournalAfterIt) {
  indexes_ = WithFiles();
  store::Document a = Put("a.jpg", {1, 0});
  store::Document b = Put("b.jpg", {0, 1});
  EXPECT_EQ(Nearest({1, 0.1f}, 2), (std::vector<uint64_t>{a.key, b.key}));
  EXPECT_TRUE(StateOf(*indexes_).rebuilt) << "no file yet: built from the stored vectors";
  ASSERT_TRUE(
      indexes_
          ->Search({.collection_id = collection_.id, .feature = "other@1/v", .dimension = 3},
                   {.vector = std::vector<float>{1, 1, 1}, .k = 1})
          .ok());
  ASSERT_TRUE(indexes_->Maintain(true).ok());
  const IndexState saved = StateOf(*indexes_);
  EXPECT_EQ(saved.saved_seq, saved.seq);
  EXPECT_GT(saved.seq, 0);
  // Every index of the collection saved: the journal before the oldest save is gone.
  EXPECT_EQ(metadata_->VectorChangesSince(collection_.id, 0, 10).status().code(),
            StatusCode::kOutOfRange);

  // Written after the save, and a deletion: the reopened file catches up from its seq.
  store::Document c = Put("c.jpg", {0.9f, 0.2f});
  ASSERT_TRUE(metadata_->DeleteObject(bucket_.id, "b.jpg").ok());
  indexes_ = WithFiles();
  EXPECT_EQ(Nearest({1, 0.2f}, 3), (std::vector<uint64_t>{c.key, a.key}));
  const IndexState reopened = StateOf(*indexes_);
  EXPECT_FALSE(reopened.rebuilt) << "opened from its file";
  EXPECT_EQ(reopened.saved_seq, saved.seq);
  EXPECT_GT(reopened.seq, saved.seq);
  EXPECT_EQ(reopened.size, 2);
  // Stop saves what changed; the next start opens the saved indexes before any search.
  ASSERT_TRUE(indexes_->Stop().ok());
  EXPECT_EQ(StateOf(*indexes_).saved_seq, reopened.seq);
  indexes_ = WithFiles();
  indexes_->Start();
  for (int i = 0; i < 500 && indexes_->States().size() < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(indexes_->States().size(), 2u) << "both features' files opened at start";
  EXPECT_FALSE(StateOf(*indexes_).rebuilt);
  EXPECT_EQ(Nearest({1, 0.2f}, 3), (std::vector<uint64_t>{c.key, a.key}));
}

TEST_F(SavedVectorIndexesTest, TheMaintenanceRoundBuildsIndexesNoSearchAskedForYet) {
  store::Document a = Put("a.jpg", {1, 0});
  int listed = 0;
  indexes_ = std::make_unique<VectorIndexes>(
      metadata_.get(), &registry_.vector_index,
      VectorIndexesOptions{.list_features = [&]() -> Result<std::vector<IndexKey>> {
        ++listed;
        return std::vector<IndexKey>{
            {.collection_id = collection_.id, .feature = kFeature, .dimension = 2}};
      }});
  ASSERT_TRUE(indexes_->Maintain(false).ok());
  EXPECT_TRUE(indexes_->States().empty()) << "no discovery asked for";
  ASSERT_TRUE(indexes_->Maintain(false, true).ok());
  EXPECT_EQ(listed, 1);
  ASSERT_EQ(indexes_->States().size(), 1u);
  EXPECT_EQ(StateOf(*indexes_).size, 1);
  // Later writes are applied by the next round, before any search.
  Put("b.jpg", {0, 1});
  ASSERT_TRUE(indexes_->Maintain(false).ok());
  EXPECT_EQ(StateOf(*indexes_).size, 2);
  EXPECT_EQ(Nearest({1, 0}, 1), (std::vector<uint64_t>{a.key}));
}

TEST_F(SavedVectorIndexesTest, AnIndexNoLongerListedTwiceInARowIsDroppedWithItsFiles) {
  Put("a.jpg", {1, 0});
  std::vector<IndexKey> listed = {
      {.collection_id = collection_.id, .feature = kFeature, .dimension = 2},
      {.collection_id = collection_.id, .feature = "other@1/v", .dimension = 3}};
  indexes_ = std::make_unique<VectorIndexes>(
      metadata_.get(), &registry_.vector_index,
      VectorIndexesOptions{
          .directory = dir_ + "/indexes",
          .list_features = [&]() -> Result<std::vector<IndexKey>> { return listed; }});
  ASSERT_TRUE(indexes_->Maintain(true, true).ok());
  ASSERT_EQ(indexes_->States().size(), 2u);
  const std::string folder = dir_ + "/indexes/" + collection_.id;
  ASSERT_TRUE(std::filesystem::exists(folder + "/other%401%2Fv.index"));
  // The collection no longer has the second feature: kept after one listing without it (a
  // search may have opened it just before), dropped after the second.
  listed.pop_back();
  ASSERT_TRUE(indexes_->Maintain(false, true).ok());
  EXPECT_EQ(indexes_->States().size(), 2u);
  ASSERT_TRUE(indexes_->Maintain(false, true).ok());
  ASSERT_EQ(indexes_->States().size(), 1u);
  EXPECT_EQ(indexes_->States()[0].key.feature, kFeature);
  EXPECT_FALSE(std::filesystem::exists(folder + "/other%401%2Fv.index"));
  EXPECT_FALSE(std::filesystem::exists(folder + "/other%401%2Fv.index.state.json"));
  EXPECT_TRUE(std::filesystem::exists(folder + "/e%401%2Fv.index"));
}

TEST_F(SavedVectorIndexesTest, AFileThatCannotBeUsedIsRebuiltFromTheStoredVectors) {
  indexes_ = WithFiles();
  store::Document a = Put("a.jpg", {1, 0});
  store::Document b = Put("b.jpg", {0, 1});
  EXPECT_EQ(Nearest({0.1f, 1}, 2), (std::vector<uint64_t>{b.key, a.key}));
  ASSERT_TRUE(indexes_->Maintain(true).ok());
  indexes_.reset();
  // The index file cut short: the reopen finds it unreadable and rebuilds.
  std::string file;
  for (const auto& f : std::filesystem::recursive_directory_iterator(dir_ + "/indexes")) {
    if (f.path().extension() == ".index" && f.path().string().find("e%401") != std::string::npos) {
      file = f.path().string();
    }
  }
  ASSERT_FALSE(file.empty());
  std::filesystem::resize_file(file, 100);
  store::Document c = Put("c.jpg", {0.4f, 1});
  indexes_ = WithFiles();
  EXPECT_EQ(Nearest({0.1f, 1}, 3), (std::vector<uint64_t>{b.key, c.key, a.key}));
  EXPECT_TRUE(StateOf(*indexes_).rebuilt);
}

TEST_F(SavedVectorIndexesTest, AnIndexBehindATrimmedJournalRebuildsItself) {
  // Another set of indexes (another process) saves and trims while this one is open in memory.
  store::Document a = Put("a.jpg", {1, 0});
  EXPECT_EQ(Nearest({1, 0}, 1), (std::vector<uint64_t>{a.key}));
  store::Document b = Put("b.jpg", {0.9f, 0.1f});
  auto other = WithFiles();
  ASSERT_TRUE(other
                  ->Search({.collection_id = collection_.id, .feature = kFeature, .dimension = 2},
                           {.vector = std::vector<float>{1, 0}, .k = 1})
                  .ok());
  ASSERT_TRUE(
      other
          ->Search({.collection_id = collection_.id, .feature = "other@1/v", .dimension = 3},
                   {.vector = std::vector<float>{1, 1, 1}, .k = 1})
          .ok());
  ASSERT_TRUE(other->Maintain(true).ok());
  ASSERT_EQ(metadata_->VectorChangesSince(collection_.id, 0, 10).status().code(),
            StatusCode::kOutOfRange);
  // Its catch-up from before the trim is refused: it builds itself again, b included.
  EXPECT_EQ(Nearest({1, 0}, 2), (std::vector<uint64_t>{a.key, b.key}));
}

}  // namespace
}  // namespace argus::retrieval
