// TieredBlobStore over the real backends it is made of in `argus serve` (sqlite rows in front of
// local files): which tier a blob lands in, and blobs the files held before the tiers existed.
// The BlobStore contract suite runs it as "local+sqlite" too.

#include "store/tiered_blob_store.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <set>
#include <string>

#include "core/config.h"
#include "core/crypto.h"
#include "store/localfs/register.h"
#include "store/sqlite/register.h"
#include "store/store_registry.h"

namespace argus::store {
namespace {

constexpr int64_t kSmallMax = 1000;

class TieredBlobStoreTest : public testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(sqlite::RegisterSqliteStores(registry_).ok());
    ASSERT_TRUE(localfs::RegisterLocalFsStores(registry_).ok());
    std::string pattern = testing::TempDir() + "argus-tiered-XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    store_ = Make();
    ASSERT_NE(store_, nullptr);
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::unique_ptr<BlobStore> Create(const std::string& name) {
    auto store = registry_.blobs.Create(name, StoreArgs{.config = &config_, .data_dir = dir_});
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }
  std::unique_ptr<BlobStore> Make() {
    auto small = Create("sqlite");
    auto large = Create("local");
    if (small == nullptr || large == nullptr) return nullptr;
    return std::make_unique<TieredBlobStore>(std::move(small), std::move(large), kSmallMax);
  }

  static BlobInfo Put(BlobStore& store, const std::string& bytes, size_t piece) {
    auto writer = store.NewWriter();
    EXPECT_TRUE(writer.ok());
    if (!writer.ok()) return {};
    for (size_t at = 0; at < bytes.size(); at += piece) {
      EXPECT_TRUE((*writer)->Write(std::string_view(bytes).substr(at, piece)).ok());
    }
    EXPECT_EQ((*writer)->size(), static_cast<int64_t>(bytes.size()));
    auto info = (*writer)->Commit();
    EXPECT_TRUE(info.ok()) << info.status().ToString();
    return info.ok() ? *info : BlobInfo{};
  }

  std::string ReadAll(const std::string& sha256) {
    auto reader = store_->Open(sha256);
    EXPECT_TRUE(reader.ok()) << reader.status().ToString();
    if (!reader.ok()) return {};
    auto bytes = (*reader)->ReadAt(0, 1 << 20);
    return bytes.ok() ? *bytes : std::string();
  }

  bool IsFile(const std::string& sha256) const {
    return std::filesystem::exists(dir_ + "/blobs/" + sha256.substr(0, 2) + "/" +
                                   sha256.substr(2, 2) + "/" + sha256);
  }

  StoreRegistry registry_;
  Config config_;
  std::string dir_;
  std::unique_ptr<BlobStore> store_;
};

TEST_F(TieredBlobStoreTest, BlobsUpToTheLimitAreRowsAndLargerOnesFiles) {
  const std::string at_limit(kSmallMax, 'a');
  const std::string over_limit(kSmallMax + 1, 'b');
  BlobInfo small = Put(*store_, at_limit, 300);
  BlobInfo large = Put(*store_, over_limit, 300);  // crosses the limit in its fourth piece
  EXPECT_FALSE(IsFile(small.sha256));
  EXPECT_TRUE(IsFile(large.sha256));
  EXPECT_EQ(ReadAll(small.sha256), at_limit);
  EXPECT_EQ(ReadAll(large.sha256), over_limit);
  EXPECT_EQ(small.sha256, HexEncode(Sha256(at_limit)));
  EXPECT_EQ(large.sha256, HexEncode(Sha256(over_limit)));
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/blobs/small.db"));
}

TEST_F(TieredBlobStoreTest, AbortAfterMovingToAFileLeavesNoTemporary) {
  auto writer = store_->NewWriter();
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Write(std::string(kSmallMax + 500, 'c')).ok());
  (*writer)->Abort();
  EXPECT_FALSE((*writer)->Write("more").ok());
  EXPECT_FALSE((*writer)->Commit().ok());
  EXPECT_TRUE(std::filesystem::is_empty(dir_ + "/blobs/tmp"));
  auto listed = store_->List("", 10);
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());
}

TEST_F(TieredBlobStoreTest, FilesWrittenBeforeTheTiersStayReadableListedAndDeletable) {
  const std::string bytes = "small bytes stored as a file by an older argus";
  BlobInfo old;
  {
    std::unique_ptr<BlobStore> files_only = Create("local");
    ASSERT_NE(files_only, nullptr);
    old = Put(*files_only, bytes, 7);
  }
  ASSERT_TRUE(IsFile(old.sha256));
  EXPECT_EQ(ReadAll(old.sha256), bytes);
  EXPECT_TRUE(*store_->Exists(old.sha256));

  // The same bytes committed again land in the small tier; the blob is still listed once.
  BlobInfo again = Put(*store_, bytes, 100);
  EXPECT_EQ(again.sha256, old.sha256);
  auto listed = store_->List("", 10);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].sha256, old.sha256);
  EXPECT_EQ((*listed)[0].size, static_cast<int64_t>(bytes.size()));

  // Delete removes both copies.
  ASSERT_TRUE(store_->Delete(old.sha256).ok());
  EXPECT_FALSE(IsFile(old.sha256));
  EXPECT_FALSE(*store_->Exists(old.sha256));
  EXPECT_EQ(store_->Open(old.sha256).status().code(), StatusCode::kNotFound);
}

TEST_F(TieredBlobStoreTest, ListMergesBothTiersInOrderAndPages) {
  std::set<std::string> want;
  for (int i = 0; i < 12; ++i) {
    // Even ones small, odd ones large: the two tiers interleave in SHA-256 order.
    std::string bytes(i % 2 == 0 ? 10 + i : kSmallMax + 10 + i, static_cast<char>('a' + i));
    want.insert(Put(*store_, bytes, 4096).sha256);
  }
  std::set<std::string> got;
  std::string after;
  for (;;) {
    auto page = store_->List(after, 5);
    ASSERT_TRUE(page.ok());
    if (page->empty()) break;
    EXPECT_LE(page->size(), 5u);
    for (const auto& listed : *page) {
      EXPECT_GT(listed.sha256, after);
      after = listed.sha256;
      got.insert(listed.sha256);
    }
  }
  EXPECT_EQ(got, want);
}

}  // namespace
}  // namespace argus::store
