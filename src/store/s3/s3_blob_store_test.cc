// What the contract suite cannot see of the S3 backend: multipart uploads (its blobs stay below
// one part), the stale-upload cleanup and the bucket check. Needs a server: runs when
// ARGUS_TEST_S3_ENDPOINT (and ARGUS_TEST_S3_BUCKET) are set, as tests/s3/run_with_s3rver.sh does,
// and is skipped otherwise.

#include "store/s3/s3_blob_store.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include "core/crypto.h"
#include "store/s3/register.h"

namespace argus::store::s3 {
namespace {

std::string Env(const char* name, const char* fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : fallback;
}

std::string Bytes(size_t size, int seed) {
  std::string out(size, '\0');
  for (size_t i = 0; i < size; ++i) out[i] = static_cast<char>((i * 131 + seed * 7919) >> 3);
  return out;
}

class S3BlobStoreTest : public testing::Test {
 protected:
  static constexpr size_t kPart = 5 << 20;  // S3's minimum

  void SetUp() override {
    if (Env("ARGUS_TEST_S3_ENDPOINT", "").empty()) GTEST_SKIP() << "no ARGUS_TEST_S3_ENDPOINT";
    uint8_t random[8];
    RandomBytes(random, sizeof(random));
    std::string prefix = "unit-";
    prefix.append(HexEncode(std::string_view(reinterpret_cast<const char*>(random), 8)));
    options_ = {.endpoint = Env("ARGUS_TEST_S3_ENDPOINT", ""),
                .region = Env("ARGUS_TEST_S3_REGION", "us-east-1"),
                .bucket = Env("ARGUS_TEST_S3_BUCKET", "argus-test"),
                .prefix = prefix,
                .access_key_id = Env("ARGUS_TEST_S3_ACCESS_KEY_ID", "S3RVER"),
                .secret_access_key = Env("ARGUS_TEST_S3_SECRET_ACCESS_KEY", "S3RVER"),
                .path_style = true};
    auto store = S3BlobStore::CreateWithOptions(options_, kPart);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }

  std::string ReadAll(const std::string& sha256) {
    auto reader = store_->Open(sha256);
    EXPECT_TRUE(reader.ok()) << reader.status().ToString();
    if (!reader.ok()) return {};
    auto bytes = (*reader)->ReadAt(0, size_t{1} << 40);
    EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
    return bytes.ok() ? *bytes : std::string();
  }

  S3Options options_;
  std::unique_ptr<BlobStore> store_;
};

// The registry entry's validator: bad settings are refused by name before any connection.
TEST(S3BlobStoreValidateTest, EachMissingOrMalformedSettingIsNamed) {
  Config config;
  auto refused = [&](const char* want) {
    Status s = S3BlobStore::Validate({.config = &config, .data_dir = "/tmp"});
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
    EXPECT_NE(s.message().find(want), std::string_view::npos) << s.ToString();
  };
  refused("blobs.s3.endpoint is not set");
  ASSERT_TRUE(config.Set("blobs.s3.endpoint", "ftp://127.0.0.1:1", "test").ok());
  refused("must start with http:// or https://");
  ASSERT_TRUE(config.Set("blobs.s3.endpoint", "http://127.0.0.1:1", "test").ok());
  refused("blobs.s3.bucket");
  ASSERT_TRUE(config.Set("blobs.s3.bucket", "b", "test").ok());
  refused("access_key_id");
  ASSERT_TRUE(config.Set("blobs.s3.access_key_id", "k", "test").ok());
  ASSERT_TRUE(config.Set("blobs.s3.secret_access_key", "s", "test").ok());
  EXPECT_TRUE(S3BlobStore::Validate({.config = &config, .data_dir = "/tmp"}).ok());
  // The registry runs it before its factory.
  StoreRegistry registry;
  ASSERT_TRUE(RegisterS3Stores(registry).ok());
  Config empty;
  auto created = registry.blobs.Create("s3", {.config = &empty, .data_dir = "/tmp"});
  EXPECT_EQ(created.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(S3BlobStoreTest, MultipartBlobIsCommittedDeduplicatedAndReadBack) {
  std::string bytes = Bytes(2 * kPart + 12'345, 1);
  std::string sha256;
  for (int round = 0; round < 2; ++round) {  // the second commit deduplicates
    auto writer = store_->NewWriter();
    ASSERT_TRUE(writer.ok());
    for (size_t at = 0; at < bytes.size(); at += 1'000'003) {
      ASSERT_TRUE((*writer)->Write(std::string_view(bytes).substr(at, 1'000'003)).ok());
    }
    auto info = (*writer)->Commit();
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    EXPECT_EQ(info->sha256, HexEncode(Sha256(bytes)));
    EXPECT_EQ(info->size, static_cast<int64_t>(bytes.size()));
    sha256 = info->sha256;
  }
  EXPECT_EQ(ReadAll(sha256), bytes);
  auto listed = store_->List("", 10);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].size, static_cast<int64_t>(bytes.size()));
  // Nothing left in tmp/: no temporary, no marker.
  auto removed = store_->CleanTemporary(SystemClock::Get().NowUs() + 3'600'000'000);
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, 0);
}

TEST_F(S3BlobStoreTest, BlobOfExactlyOnePartIsOnePut) {
  std::string bytes = Bytes(kPart, 2);
  auto writer = store_->NewWriter();
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Write(bytes).ok());
  auto info = (*writer)->Commit();
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(ReadAll(info->sha256), bytes);
}

TEST_F(S3BlobStoreTest, AbortedMultipartUploadLeavesNothing) {
  auto writer = store_->NewWriter();
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Write(Bytes(kPart + 10, 3)).ok());  // one part sent
  (*writer)->Abort();
  auto removed = store_->CleanTemporary(SystemClock::Get().NowUs() + 3'600'000'000);
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, 0);
}

TEST_F(S3BlobStoreTest, CleanTemporaryAbortsAStaleMultipartUpload) {
  auto writer = store_->NewWriter();
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Write(Bytes(kPart + 10, 4)).ok());
  // A recent upload is left alone...
  auto removed = store_->CleanTemporary(SystemClock::Get().NowUs() - 3'600'000'000);
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, 0);
  // ...one older than the cut-off (as after kill -9) is aborted and its marker removed.
  removed = store_->CleanTemporary(SystemClock::Get().NowUs() + 3'600'000'000);
  ASSERT_TRUE(removed.ok()) << removed.status().ToString();
  EXPECT_EQ(*removed, 1);
  // Its writer's Commit then fails on S3 (NoSuchUpload). s3rver cannot abort uploads, so there it
  // may succeed: either way no partial blob appears and tmp/ is left empty.
  auto info = (*writer)->Commit();
  auto listed = store_->List("", 10);
  ASSERT_TRUE(listed.ok());
  if (info.ok()) {
    EXPECT_EQ(ReadAll(info->sha256), Bytes(kPart + 10, 4));
    EXPECT_EQ(listed->size(), 1u);
  } else {
    EXPECT_TRUE(listed->empty());
  }
  removed = store_->CleanTemporary(SystemClock::Get().NowUs() + 3'600'000'000);
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, 0);
}

TEST_F(S3BlobStoreTest, MissingBucketIsFailedPrecondition) {
  S3Options options = options_;
  options.bucket = "argus-no-such-bucket";
  EXPECT_EQ(S3BlobStore::CreateWithOptions(options).status().code(),
            StatusCode::kFailedPrecondition);
}

// (s3rver 3.7.1 does not verify SigV4 signatures, only that the access key id exists: a wrong
// secret passes there. sigv4_test.cc checks the signatures against AWS's examples.)
TEST_F(S3BlobStoreTest, UnknownAccessKeyIsAnError) {
  S3Options options = options_;
  options.access_key_id = "ARGUSUNKNOWNKEY";
  auto store = S3BlobStore::CreateWithOptions(options);
  EXPECT_FALSE(store.ok());
}

}  // namespace
}  // namespace argus::store::s3
