// What only the local-files backend promises: the on-disk layout, what a killed upload leaves
// and how it is cleaned, repairs. The contract itself is
// tests/contract/blob_store_contract_test.cc.

#include "store/localfs/local_blob_store.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/crypto.h"
#include "store/localfs/register.h"

namespace argus::store::localfs {
namespace {

namespace fs = std::filesystem;

using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr int64_t kHourUs = 3'600'000'000;

TimestampUs WallNowUs() { return SystemClock::Get().NowUs(); }

std::string HexSha256(std::string_view bytes) { return HexEncode(Sha256(bytes)); }

class LocalBlobStoreTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = testing::TempDir() + "argus-localfs-XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr) << pattern;
    dir_ = pattern;
    OpenStore();
  }

  void TearDown() override {
    store_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void OpenStore() {
    store_.reset();
    auto store = LocalBlobStore::Create(StoreArgs{.data_dir = dir_});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }

  BlobInfo MustPut(std::string_view bytes) {
    auto writer = store_->NewWriter();
    EXPECT_TRUE(writer.ok()) << writer.status().ToString();
    if (!writer.ok()) return {};
    EXPECT_TRUE((*writer)->Write(bytes).ok());
    auto info = (*writer)->Commit();
    EXPECT_TRUE(info.ok()) << info.status().ToString();
    return info.ok() ? *info : BlobInfo{};
  }

  std::string BlobPath(const std::string& sha256) const {
    std::string path = dir_;
    path.append("/blobs/").append(sha256.substr(0, 2)).append("/").append(sha256.substr(2, 2));
    path.append("/").append(sha256);
    return path;
  }

  std::string TmpDir() const { return dir_ + "/blobs/tmp"; }

  std::vector<std::string> TmpNames() const {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(TmpDir())) {
      names.push_back(entry.path().filename().string());
    }
    return names;
  }

  static std::string ReadFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
  }

  static void WriteFile(const std::string& path, std::string_view bytes) {
    std::ofstream out(path, std::ios::binary);
    out << bytes;
  }

  static void SetMtime(const std::string& path, TimestampUs mtime_us) {
    timespec times[2];
    times[0].tv_sec = times[1].tv_sec = mtime_us / 1'000'000;
    times[0].tv_nsec = times[1].tv_nsec = (mtime_us % 1'000'000) * 1000;
    ASSERT_EQ(utimensat(AT_FDCWD, path.c_str(), times, 0), 0) << path;
  }

  std::string dir_;
  std::unique_ptr<BlobStore> store_;
};

TEST_F(LocalBlobStoreTest, CommittedBlobLivesUnderItsShaPrefixesReadableOnlyByOwner) {
  BlobInfo info = MustPut("layout");
  ASSERT_EQ(info.sha256, HexSha256("layout"));
  std::string path = BlobPath(info.sha256);
  EXPECT_EQ(ReadFile(path), "layout");
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_THAT(TmpNames(), IsEmpty());
}

TEST_F(LocalBlobStoreTest, UncommittedWriteIsOnlyAPartFileInTmp) {
  auto writer = store_->NewWriter();
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  ASSERT_TRUE((*writer)->Write("in flight").ok());
  std::vector<std::string> names = TmpNames();
  ASSERT_EQ(names.size(), 1u);
  EXPECT_TRUE(names[0].ends_with(".part")) << names[0];
  // Small writes are buffered (1 MiB pieces go to the file); a full piece is on disk.
  EXPECT_EQ(ReadFile(TmpDir() + "/" + names[0]), "");
  std::string piece(1 << 20, 'p');
  ASSERT_TRUE((*writer)->Write(piece).ok());
  EXPECT_EQ(ReadFile(TmpDir() + "/" + names[0]), "in flight" + piece.substr(0, piece.size() - 9));
  EXPECT_EQ((*writer)->size(), static_cast<int64_t>(piece.size() + 9));
  struct stat st;
  ASSERT_EQ(stat((TmpDir() + "/" + names[0]).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // Nothing but tmp/ under blobs/.
  std::vector<std::string> top;
  for (const auto& entry : fs::directory_iterator(dir_ + "/blobs")) {
    top.push_back(entry.path().filename().string());
  }
  EXPECT_THAT(top, ElementsAre("tmp"));
  writer->reset();
  EXPECT_THAT(TmpNames(), IsEmpty());
}

TEST_F(LocalBlobStoreTest, AbortAndRejectedCommitRemoveTheirPartFiles) {
  auto aborted = store_->NewWriter();
  ASSERT_TRUE(aborted.ok());
  ASSERT_TRUE((*aborted)->Write("aborted").ok());
  (*aborted)->Abort();
  auto rejected = store_->NewWriter();
  ASSERT_TRUE(rejected.ok());
  ASSERT_TRUE((*rejected)->Write("rejected").ok());
  EXPECT_EQ((*rejected)->Commit(HexSha256("other")).status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(TmpNames(), IsEmpty());
  EXPECT_FALSE(fs::exists(BlobPath(HexSha256("rejected"))));
}

TEST_F(LocalBlobStoreTest, KilledUploadLeavesAPartFileThatCleanupTakesOnceStale) {
  // What kill -9 mid-upload leaves: a .part file no writer owns, seen by the next process.
  std::string crashed = TmpDir() + "/0123456789abcdef0123456789abcdef.part";
  WriteFile(crashed, "half an upload");
  SetMtime(crashed, WallNowUs() - 2 * kHourUs);
  std::string foreign = TmpDir() + "/notes.txt";  // not ours: never removed
  WriteFile(foreign, "keep");
  SetMtime(foreign, WallNowUs() - 2 * kHourUs);
  OpenStore();
  EXPECT_THAT(*store_->List("", 100), IsEmpty());
  EXPECT_FALSE(*store_->Exists(HexSha256("half an upload")));

  auto live = store_->NewWriter();
  ASSERT_TRUE(live.ok());
  ASSERT_TRUE((*live)->Write("live upload").ok());

  auto removed = store_->CleanTemporary(WallNowUs() - 3 * kHourUs);
  ASSERT_TRUE(removed.ok()) << removed.status().ToString();
  EXPECT_EQ(*removed, 0);
  EXPECT_TRUE(fs::exists(crashed));

  removed = store_->CleanTemporary(WallNowUs() - kHourUs);
  ASSERT_TRUE(removed.ok()) << removed.status().ToString();
  EXPECT_EQ(*removed, 1);
  EXPECT_FALSE(fs::exists(crashed));
  EXPECT_TRUE(fs::exists(foreign));
  auto info = (*live)->Commit();
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(ReadFile(BlobPath(info->sha256)), "live upload");
}

TEST_F(LocalBlobStoreTest, CleanupAheadOfTimeAlsoTakesALiveWritersPartFile) {
  auto live = store_->NewWriter();
  ASSERT_TRUE(live.ok());
  ASSERT_TRUE((*live)->Write("too slow").ok());
  auto removed = store_->CleanTemporary(WallNowUs() + kHourUs);
  ASSERT_TRUE(removed.ok()) << removed.status().ToString();
  EXPECT_EQ(*removed, 1);
  // The writer finds out at commit, and stores nothing.
  auto info = (*live)->Commit();
  EXPECT_EQ(info.status().code(), StatusCode::kInternal);
  EXPECT_FALSE(fs::exists(BlobPath(HexSha256("too slow"))));
}

TEST_F(LocalBlobStoreTest, DeduplicatedCommitRefreshesTheMtime) {
  BlobInfo info = MustPut("popular");
  TimestampUs old = WallNowUs() - kHourUs;
  SetMtime(BlobPath(info.sha256), old);
  auto listed = store_->List("", 10);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front().last_used, old);

  TimestampUs before = WallNowUs();
  EXPECT_EQ(MustPut("popular").sha256, info.sha256);
  listed = store_->List("", 10);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  // File times come from the kernel's coarse clock, a tick behind at most.
  EXPECT_GE(listed->front().last_used, before - 100'000);
  EXPECT_THAT(TmpNames(), IsEmpty());
}

TEST_F(LocalBlobStoreTest, CommitReplacesADamagedCopy) {
  BlobInfo info = MustPut("intact bytes");
  ASSERT_EQ(truncate(BlobPath(info.sha256).c_str(), 3), 0);
  EXPECT_EQ(MustPut("intact bytes").sha256, info.sha256);
  EXPECT_EQ(ReadFile(BlobPath(info.sha256)), "intact bytes");
}

TEST_F(LocalBlobStoreTest, ReadingABlobTruncatedUnderneathIsInternal) {
  BlobInfo info = MustPut("soon shorter");
  auto reader = store_->Open(info.sha256);
  ASSERT_TRUE(reader.ok());
  ASSERT_EQ(truncate(BlobPath(info.sha256).c_str(), 4), 0);
  EXPECT_EQ((*reader)->ReadAt(0, 100).status().code(), StatusCode::kInternal);
  EXPECT_EQ((*reader)->ReadAt(-1, 1).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(LocalBlobStoreTest, ListSkipsFilesThatAreNotBlobs) {
  BlobInfo info = MustPut("real");
  std::string other = HexSha256("misplaced");
  fs::create_directories(dir_ + "/blobs/zz/00");
  WriteFile(dir_ + "/blobs/zz/00/" + other, "x");
  WriteFile(dir_ + "/blobs/README", "x");
  std::string leaf = BlobPath(info.sha256);
  leaf.resize(leaf.rfind('/'));
  WriteFile(leaf + "/" + other, "in the wrong directory");
  WriteFile(leaf + "/" + info.sha256.substr(0, 10), "short name");
  auto listed = store_->List("", 100);
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front().sha256, info.sha256);
}

TEST_F(LocalBlobStoreTest, WritersAndReadersOutliveTheStore) {
  BlobInfo info = MustPut("read me later");
  auto reader = store_->Open(info.sha256);
  ASSERT_TRUE(reader.ok());
  auto writer = store_->NewWriter();
  ASSERT_TRUE(writer.ok());
  store_.reset();
  ASSERT_TRUE((*writer)->Write("written late").ok());
  auto committed = (*writer)->Commit();
  ASSERT_TRUE(committed.ok()) << committed.status().ToString();
  EXPECT_EQ(ReadFile(BlobPath(committed->sha256)), "written late");
  auto bytes = (*reader)->ReadAt(0, 100);
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(*bytes, "read me later");
}

TEST_F(LocalBlobStoreTest, CreateNeedsAnExistingDataDirectory) {
  EXPECT_EQ(LocalBlobStore::Create(StoreArgs{}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(LocalBlobStore::Create(StoreArgs{.data_dir = dir_ + "/missing"}).status().code(),
            StatusCode::kFailedPrecondition);
  WriteFile(dir_ + "/a_file", "x");
  EXPECT_EQ(LocalBlobStore::Create(StoreArgs{.data_dir = dir_ + "/a_file"}).status().code(),
            StatusCode::kFailedPrecondition);
}

TEST_F(LocalBlobStoreTest, ListRejectsANonPositiveLimit) {
  EXPECT_EQ(store_->List("", 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->List("", -1).status().code(), StatusCode::kInvalidArgument);
}

TEST(LocalFsRegisterTest, RegistersTheBlobStoreAsLocal) {
  StoreRegistry registry;
  ASSERT_TRUE(RegisterLocalFsStores(registry).ok());
  auto caps = registry.blobs.CapabilitiesOf("local");
  ASSERT_TRUE(caps.ok());
  EXPECT_TRUE(caps->durable);
  EXPECT_FALSE(caps->multi_process);
  EXPECT_TRUE(caps->content_addressed);
  EXPECT_EQ(RegisterLocalFsStores(registry).code(), StatusCode::kAlreadyExists);
}

TEST(LocalBlobStoreNameTest, ValidSha256IsSixtyFourLowercaseHexDigits) {
  EXPECT_TRUE(IsBlobSha256(HexSha256("")));
  EXPECT_FALSE(IsBlobSha256(""));
  EXPECT_FALSE(IsBlobSha256(std::string(63, 'a')));
  EXPECT_FALSE(IsBlobSha256(std::string(65, 'a')));
  EXPECT_FALSE(IsBlobSha256(std::string(64, 'A')));
  EXPECT_FALSE(IsBlobSha256(std::string(64, 'g')));
}

}  // namespace
}  // namespace argus::store::localfs
