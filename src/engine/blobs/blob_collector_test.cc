#include "engine/blobs/blob_collector.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <memory>
#include <string>
#include <thread>

#include "core/config.h"
#include "core/crypto.h"
#include "core/id.h"
#include "core/metrics.h"
#include "domain/object_ingest.h"
#include "store/localfs/register.h"
#include "store/sqlite/register.h"
#include "store/store_registry.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fault_injecting_blob_store.h"

namespace argus::engine {
namespace {

using namespace std::chrono_literals;

constexpr int64_t kHourUs = 3'600'000'000;

std::string Sha(std::string_view bytes) { return HexEncode(Sha256(bytes)); }

// The embedded stores in a fresh directory (SQLite metadata, local blobs: what users run), the
// blobs behind a FaultInjectingBlobStore, and a collector with grace 0. Blob times are wall-clock
// file times while the collector reads the injected clock: it stands an hour ahead, so every blob
// is past the grace unless a test says otherwise.
class BlobCollectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path().string() + "/argus-collector-" + NewId();
    std::filesystem::create_directories(dir_);
    ASSERT_TRUE(store::sqlite::RegisterSqliteStores(registry_).ok());
    ASSERT_TRUE(store::localfs::RegisterLocalFsStores(registry_).ok());
    const store::StoreArgs args{.config = &config_, .data_dir = dir_, .clock = &clock_};
    auto metadata = registry_.metadata.Create("sqlite", args);
    ASSERT_TRUE(metadata.ok()) << metadata.status().ToString();
    metadata_ = std::move(metadata).value();
    auto blobs = registry_.blobs.Create("local", args);
    ASSERT_TRUE(blobs.ok()) << blobs.status().ToString();
    local_ = std::move(blobs).value();
    blobs_ = std::make_unique<store::FaultInjectingBlobStore>(local_.get());
    ASSERT_TRUE(metadata_->CreateNamespace({.id = NewId(), .name = "a"}).ok());
    auto ns = metadata_->GetNamespaceByName("a");
    ASSERT_TRUE(ns.ok());
    auto bucket = metadata_->CreateBucket({.id = NewId(), .namespace_id = ns->id, .name = "b"});
    ASSERT_TRUE(bucket.ok()) << bucket.status().ToString();
    bucket_ = *bucket;
    collector_ = MakeCollector(0);
  }

  void TearDown() override {
    collector_.reset();
    metadata_.reset();
    blobs_.reset();
    local_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::unique_ptr<BlobCollector> MakeCollector(double grace_s) {
    return std::make_unique<BlobCollector>(blobs_.get(), metadata_.get(), metadata_.get(),
                                           BlobCollectorOptions{.grace_s = grace_s}, &clock_,
                                           &metrics_);
  }

  // The upload path of the API and the syncs: bytes in, blob committed, object row written.
  Result<domain::IngestResult> Upload(const std::string& key, std::string_view bytes) {
    domain::IngestContext ctx{.buckets = metadata_.get(),
                              .references = metadata_.get(),
                              .blobs = blobs_.get(),
                              .clock = &clock_};
    ARGUS_ASSIGN_OR_RETURN(auto incoming, domain::IncomingObject::Start(ctx, bucket_));
    ARGUS_RETURN_IF_ERROR(incoming->Append(bytes));
    return domain::CommitObject(ctx, *incoming, {.key = key});
  }

  // Whether `sha256` is stored with exactly the bytes its name promises.
  bool Intact(const std::string& sha256) {
    auto bytes = store::ReadWholeBlob(*local_, sha256, 1 << 20);
    return bytes.ok() && Sha(*bytes) == sha256;
  }

  Config config_;
  FakeClock clock_{SystemClock::Get().NowUs() + kHourUs};
  MetricsRegistry metrics_;
  std::string dir_;
  store::StoreRegistry registry_;
  std::unique_ptr<store::MetadataStore> metadata_;
  std::unique_ptr<store::BlobStore> local_;
  std::unique_ptr<store::FaultInjectingBlobStore> blobs_;
  store::Bucket bucket_;
  std::unique_ptr<BlobCollector> collector_;
};

TEST_F(BlobCollectorTest, FreesOnlyBlobsNothingRefersTo) {
  ASSERT_TRUE(Upload("kept", "kept bytes").ok());
  ASSERT_TRUE(Upload("gone", "gone bytes").ok());
  ASSERT_TRUE(metadata_->DeleteObject(bucket_.id, "gone").ok());
  auto freed = collector_->CollectOnce(/*startup=*/false);
  ASSERT_TRUE(freed.ok()) << freed.status().ToString();
  EXPECT_EQ(*freed, 1);
  EXPECT_TRUE(Intact(Sha("kept bytes")));
  EXPECT_FALSE(*local_->Exists(Sha("gone bytes")));
}

TEST_F(BlobCollectorTest, BlobsWithinTheGraceAreKept) {
  ASSERT_TRUE(Upload("gone", "gone bytes").ok());
  ASSERT_TRUE(metadata_->DeleteObject(bucket_.id, "gone").ok());
  collector_ = MakeCollector(/*grace_s=*/2 * 3600);  // the blob is an hour old by the clock
  EXPECT_EQ(*collector_->CollectOnce(false), 0);
  EXPECT_TRUE(Intact(Sha("gone bytes")));
}

// The upload's blob is committed (here: deduplicated against an unreferenced copy) and a pass
// runs before its object row is written. The pass must leave the blob alone.
TEST_F(BlobCollectorTest, BlobCommittedButNotYetRecordedIsKept) {
  ASSERT_TRUE(Upload("first", "same bytes").ok());
  ASSERT_TRUE(metadata_->DeleteObject(bucket_.id, "first").ok());
  Result<int64_t> pass = 0;
  blobs_->SetAfterCommit([&](const store::BlobInfo&) { pass = collector_->CollectOnce(false); });
  auto second = Upload("second", "same bytes");
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  ASSERT_TRUE(pass.ok()) << pass.status().ToString();
  EXPECT_EQ(*pass, 0);
  EXPECT_TRUE(Intact(second->put.object.sha256)) << "an object whose bytes the collector took";
}

// A pass has found the blob unreferenced and is about to delete it when an upload of the same
// bytes arrives. Whatever the order, the upload's object must end up with its bytes.
TEST_F(BlobCollectorTest, UploadRacingADeleteKeepsItsBytes) {
  ASSERT_TRUE(Upload("first", "same bytes").ok());
  ASSERT_TRUE(metadata_->DeleteObject(bucket_.id, "first").ok());
  std::future<Result<domain::IngestResult>> upload;
  blobs_->SetBeforeDelete([&](std::string_view) {
    blobs_->SetBeforeDelete(nullptr);
    upload = std::async(std::launch::async, [&] { return Upload("second", "same bytes"); });
    // Let the upload get as far as it can before the delete goes on: all the way to its object
    // row when nothing holds it back.
    upload.wait_for(200ms);
  });
  auto pass = collector_->CollectOnce(false);
  ASSERT_TRUE(pass.ok()) << pass.status().ToString();
  ASSERT_TRUE(upload.valid());
  auto second = upload.get();
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_TRUE(Intact(second->put.object.sha256)) << "an object whose bytes the collector took";
}

TEST_F(BlobCollectorTest, DerivedBlobsGoWithTheirSource) {
  auto source = Upload("photo", "source bytes");
  ASSERT_TRUE(source.ok());
  auto thumb = Upload("thumb", "thumbnail bytes");  // stored through an object, then let go
  ASSERT_TRUE(thumb.ok());
  ASSERT_TRUE(metadata_->DeleteObject(bucket_.id, "thumb").ok());
  ASSERT_TRUE(metadata_
                  ->PutDerivedBlob({.source_sha256 = Sha("source bytes"),
                                    .variant = "thumbnail-64.jpeg",
                                    .sha256 = Sha("thumbnail bytes"),
                                    .media_type = "image/jpeg",
                                    .size = 15})
                  .ok());
  EXPECT_EQ(*collector_->CollectOnce(false), 0);  // referenced while its source is
  EXPECT_TRUE(Intact(Sha("thumbnail bytes")));
  ASSERT_TRUE(metadata_->DeleteObject(bucket_.id, "photo").ok());
  ASSERT_TRUE(collector_->CollectOnce(false).ok());
  ASSERT_TRUE(collector_->CollectOnce(false).ok());
  EXPECT_FALSE(*local_->Exists(Sha("source bytes")));
  EXPECT_FALSE(*local_->Exists(Sha("thumbnail bytes")));
  EXPECT_EQ(metadata_->GetDerivedBlob(Sha("source bytes"), "thumbnail-64.jpeg").status().code(),
            StatusCode::kNotFound);
}

TEST_F(BlobCollectorTest, PartsOfExpiredUploadsAreFreed) {
  ASSERT_TRUE(Upload("part", "part bytes").ok());
  ASSERT_TRUE(metadata_->DeleteObject(bucket_.id, "part").ok());
  store::Upload upload{.id = NewId(),
                       .bucket_id = bucket_.id,
                       .key = "big",
                       .created_at = clock_.NowUs(),
                       .expires_at = clock_.NowUs() + 1};
  ASSERT_TRUE(metadata_->CreateUpload(upload).ok());
  ASSERT_TRUE(metadata_
                  ->PutUploadPart(bucket_.id, upload.id,
                                  {.number = 1, .sha256 = Sha("part bytes"), .size = 10})
                  .ok());
  EXPECT_EQ(*collector_->CollectOnce(false), 0);
  clock_.AdvanceUs(2);
  EXPECT_EQ(*collector_->CollectOnce(false), 1);
  EXPECT_FALSE(*local_->Exists(Sha("part bytes")));
}

// A delete that fails is the pass's error; the blob stays, and uploads of its bytes go on.
TEST_F(BlobCollectorTest, FailedDeleteEndsThePassAndKeepsTheBlob) {
  ASSERT_TRUE(Upload("gone", "gone bytes").ok());
  ASSERT_TRUE(metadata_->DeleteObject(bucket_.id, "gone").ok());
  blobs_->plan().Fail("Delete", UnavailableError("blob store down"));
  auto pass = collector_->CollectOnce(false);
  EXPECT_EQ(pass.status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(Intact(Sha("gone bytes")));
  auto again = Upload("again", "gone bytes");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(*collector_->CollectOnce(false), 0);
  EXPECT_TRUE(Intact(Sha("gone bytes")));
}

}  // namespace
}  // namespace argus::engine
