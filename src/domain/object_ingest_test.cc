#include "domain/object_ingest.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/config.h"
#include "core/id.h"
#include "store/sqlite/register.h"

namespace argus::domain {
namespace {

class IncomingObjectTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/ingest_" + NewId();
    std::filesystem::create_directories(dir_);
    ASSERT_TRUE(store::sqlite::RegisterSqliteStores(registry_).ok());
    auto blobs = registry_.blobs.Create("sqlite", {&config_, dir_});
    ASSERT_TRUE(blobs.ok()) << blobs.status().ToString();
    blobs_ = std::move(blobs).value();
    ctx_.blobs = blobs_.get();
    ctx_.max_object_bytes = 1000;
    bucket_.name = "photos";
  }
  void TearDown() override {
    blobs_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::string dir_;
  Config config_;
  store::StoreRegistry registry_;
  std::unique_ptr<store::BlobStore> blobs_;
  IngestContext ctx_;
  store::Bucket bucket_;
};

TEST_F(IncomingObjectTest, ADeclaredLengthOverTheLimitIsRefusedBeforeAnyByte) {
  bucket_.max_object_bytes = 100;  // lower than the server's: the bucket's applies
  auto refused = IncomingObject::Start(ctx_, bucket_, 101);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kPayloadTooLarge);
  EXPECT_NE(refused.status().message().find("at most 100 bytes"), std::string_view::npos);
  auto fits = IncomingObject::Start(ctx_, bucket_, 100);
  ASSERT_TRUE(fits.ok()) << fits.status().ToString();
  EXPECT_EQ((*fits)->limit(), 100);
}

TEST_F(IncomingObjectTest, BytesPastTheLimitAreRefusedWhenNothingWasDeclared) {
  auto incoming = IncomingObject::Start(ctx_, bucket_);
  ASSERT_TRUE(incoming.ok()) << incoming.status().ToString();
  EXPECT_EQ((*incoming)->limit(), 1000);
  ASSERT_TRUE((*incoming)->Append(std::string(600, 'a')).ok());
  EXPECT_EQ((*incoming)->size(), 600);
  Status over = (*incoming)->Append(std::string(401, 'b'));
  EXPECT_EQ(over.code(), StatusCode::kPayloadTooLarge) << over.ToString();
}

TEST(ObjectSizeLimitTest, TheLowerOfTheBucketsAndTheServersWithZeroMeaningNone) {
  store::Bucket b;
  EXPECT_EQ(ObjectSizeLimit(b, 0), 0);
  EXPECT_EQ(ObjectSizeLimit(b, 50), 50);
  b.max_object_bytes = 20;
  EXPECT_EQ(ObjectSizeLimit(b, 50), 20);
  EXPECT_EQ(ObjectSizeLimit(b, 0), 20);
  b.max_object_bytes = 80;
  EXPECT_EQ(ObjectSizeLimit(b, 50), 50);
}

}  // namespace
}  // namespace argus::domain
