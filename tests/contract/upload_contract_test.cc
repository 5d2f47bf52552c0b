// The MetadataStore conformance suite, continued: resumable uploads and their parts
// (src/store/metadata_store.h, "Resumable uploads"). The fixture and the instantiation over the
// backends are those of metadata_store_contract_test.{h,cc}.

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cctype>
#include <string>
#include <thread>
#include <vector>

#include "core/id.h"
#include "tests/contract/metadata_store_contract_test.h"

namespace argus::store {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr int64_t kHourUs = int64_t{3600} * 1'000'000;

// NotFound whose message names the upload.
void ExpectUploadNotFound(const Status& status, const std::string& id) {
  EXPECT_EQ(status.code(), StatusCode::kNotFound) << status.ToString();
  EXPECT_THAT(std::string(status.message()), HasSubstr(id));
}

TEST_P(MetadataStoreContractTest, CreatedUploadIsStoredAsGiven) {
  Bucket bucket = MustCreateBucket();
  Upload upload = NewUpload(bucket, "2024/caf\xc3\xa9.jpg");
  upload.metadata = {{"n", 1.5}, {"nested", {{"x", nullptr}}}, {"list", {1, "two"}}};
  auto created = store_->CreateUpload(upload);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(Describe(*created), Describe(upload));
  EXPECT_EQ(Describe(store_->GetUpload(bucket.id, upload.id).value_or(Upload{})), Describe(upload));
  EXPECT_THAT(PartsOf(upload), IsEmpty());

  // Two uploads of the same key are independent.
  Upload again = MustCreate(NewUpload(bucket, upload.key));
  EXPECT_EQ(Describe(store_->GetUpload(bucket.id, again.id).value_or(Upload{})), Describe(again));
  EXPECT_EQ(Describe(store_->GetUpload(bucket.id, upload.id).value_or(Upload{})), Describe(upload));
}

TEST_P(MetadataStoreContractTest, UploadIsNotFoundThroughAnotherBucket) {
  Bucket bucket = MustCreateBucket("mine");
  Bucket sibling = MustCreate(NewBucket(bucket.namespace_id, "sibling"));
  Bucket foreign = MustCreateBucket("mine");  // same name, another namespace
  Upload upload = MustCreate(NewUpload(bucket, "a.jpg"));
  MustPutPart(upload, NewPart(1, 1));

  for (const Bucket& other : {sibling, foreign}) {
    SCOPED_TRACE(other.id);
    ExpectUploadNotFound(store_->GetUpload(other.id, upload.id).status(), upload.id);
    ExpectUploadNotFound(store_->ListUploadParts(other.id, upload.id).status(), upload.id);
    ExpectUploadNotFound(store_->PutUploadPart(other.id, upload.id, NewPart(2, 2)), upload.id);
    ExpectUploadNotFound(store_->DeleteUpload(other.id, upload.id), upload.id);
  }
  // Nothing leaked into or out of the upload.
  EXPECT_EQ(Describe(store_->GetUpload(bucket.id, upload.id).value_or(Upload{})), Describe(upload));
  EXPECT_EQ(PartsOf(upload).size(), 1u);
  EXPECT_FALSE(store_->BlobReferenced(Sha(2)).value_or(true));
}

TEST_P(MetadataStoreContractTest, MissingUploadIsNotFoundForEveryCall) {
  Bucket bucket = MustCreateBucket();
  std::string id = NewId(clock_);
  ExpectUploadNotFound(store_->GetUpload(bucket.id, id).status(), id);
  ExpectUploadNotFound(store_->ListUploadParts(bucket.id, id).status(), id);
  ExpectUploadNotFound(store_->PutUploadPart(bucket.id, id, NewPart(1, 1)), id);
  ExpectUploadNotFound(store_->DeleteUpload(bucket.id, id), id);
  EXPECT_FALSE(store_->BlobReferenced(Sha(1)).value_or(true));
}

TEST_P(MetadataStoreContractTest, UploadInMissingBucketIsNotFound) {
  Bucket bucket = MustCreateBucket();
  Upload orphan = NewUpload(bucket, "a.jpg");
  orphan.bucket_id = NewId(clock_);
  EXPECT_EQ(store_->CreateUpload(orphan).status().code(), StatusCode::kNotFound);

  Upload late = NewUpload(bucket, "b.jpg");
  ASSERT_TRUE(store_->DeleteBucket(bucket.namespace_id, bucket.name, false).ok());
  EXPECT_EQ(store_->CreateUpload(late).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->GetUpload(bucket.id, late.id).status().code(), StatusCode::kNotFound);
}

TEST_P(MetadataStoreContractTest, UploadKeyAndMetadataAreValidated) {
  Bucket bucket = MustCreateBucket();
  Upload no_key = NewUpload(bucket, "");
  EXPECT_EQ(store_->CreateUpload(no_key).status().code(), StatusCode::kInvalidArgument);
  for (const Json& metadata : {Json::array({1, 2}), Json("text"), Json(nullptr), Json(3)}) {
    Upload bad = NewUpload(bucket, "a.jpg");
    bad.metadata = metadata;
    EXPECT_EQ(store_->CreateUpload(bad).status().code(), StatusCode::kInvalidArgument)
        << metadata.dump();
    EXPECT_EQ(store_->GetUpload(bucket.id, bad.id).status().code(), StatusCode::kNotFound);
  }
  EXPECT_EQ(store_->GetUpload(bucket.id, no_key.id).status().code(), StatusCode::kNotFound);
  Upload empty_metadata = NewUpload(bucket, "a.jpg");
  empty_metadata.metadata = Json::object();
  MustCreate(empty_metadata);
  EXPECT_EQ(Describe(store_->GetUpload(bucket.id, empty_metadata.id).value_or(Upload{})),
            Describe(empty_metadata));
}

TEST_P(MetadataStoreContractTest, PartsPutOutOfOrderAreListedInNumberOrder) {
  Bucket bucket = MustCreateBucket();
  Upload upload = MustCreate(NewUpload(bucket, "big.bin"));
  Upload other = MustCreate(NewUpload(bucket, "other.bin"));
  UploadPart p3 = MustPutPart(upload, NewPart(3, 3));
  UploadPart p10000 = MustPutPart(upload, NewPart(10000, 4));
  UploadPart p1 = MustPutPart(upload, NewPart(1, 1));
  UploadPart p2 = MustPutPart(upload, NewPart(2, 2));
  UploadPart p20 = MustPutPart(upload, NewPart(20, 5));
  UploadPart theirs = MustPutPart(other, NewPart(2, 9));
  EXPECT_THAT(PartsOf(upload), ElementsAre(Describe(p1), Describe(p2), Describe(p3), Describe(p20),
                                           Describe(p10000)));
  EXPECT_THAT(PartsOf(other), ElementsAre(Describe(theirs)));
}

TEST_P(MetadataStoreContractTest, RetriedPartNumberReplacesTheEarlierPart) {
  Bucket bucket = MustCreateBucket();
  Upload upload = MustCreate(NewUpload(bucket, "big.bin"));
  UploadPart first = MustPutPart(upload, NewPart(1, 1));
  UploadPart second = MustPutPart(upload, NewPart(2, 2));
  UploadPart retried = MustPutPart(upload, NewPart(1, 3));
  ASSERT_NE(Describe(first), Describe(retried));
  EXPECT_THAT(PartsOf(upload), ElementsAre(Describe(retried), Describe(second)));
  // The replaced part's blob is no longer held by the upload.
  EXPECT_FALSE(store_->BlobReferenced(Sha(1)).value_or(true));
  EXPECT_TRUE(store_->BlobReferenced(Sha(3)).value_or(false));

  // Retrying with the very same part changes nothing.
  MustPutPart(upload, retried);
  EXPECT_THAT(PartsOf(upload), ElementsAre(Describe(retried), Describe(second)));
}

TEST_P(MetadataStoreContractTest, UploadPartsAreValidated) {
  Bucket bucket = MustCreateBucket();
  Upload upload = MustCreate(NewUpload(bucket, "big.bin"));
  auto expect_invalid = [&](UploadPart part, const std::string& what) {
    Status status = store_->PutUploadPart(bucket.id, upload.id, part);
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << what << ": " << status.ToString();
  };
  for (int number : {0, -1, 10001, 1 << 30}) {
    expect_invalid(NewPart(number, 1), fmt::format("number {}", number));
  }
  std::string upper = Sha(0xabc);
  for (char& c : upper) c = static_cast<char>(toupper(c));
  std::string non_hex = Sha(1);
  non_hex[10] = 'g';
  for (const std::string& sha : {std::string(), Sha(1).substr(1), Sha(1) + "0", upper, non_hex}) {
    UploadPart part = NewPart(1, 1);
    part.sha256 = sha;
    expect_invalid(part, "sha256 '" + sha + "'");
  }
  UploadPart negative = NewPart(1, 1);
  negative.size = -1;
  expect_invalid(negative, "size -1");
  EXPECT_THAT(PartsOf(upload), IsEmpty());

  // The bounds themselves are valid, and so is an empty part.
  UploadPart lowest = NewPart(1, 1);
  lowest.size = 0;
  MustPutPart(upload, lowest);
  UploadPart highest = MustPutPart(upload, NewPart(10000, 2));
  EXPECT_THAT(PartsOf(upload), ElementsAre(Describe(lowest), Describe(highest)));
}

TEST_P(MetadataStoreContractTest, PartKeepsBlobReferencedUntilItsUploadIsDeleted) {
  Bucket bucket = MustCreateBucket();
  Upload upload = MustCreate(NewUpload(bucket, "big.bin"));
  Upload kept = MustCreate(NewUpload(bucket, "kept.bin"));
  EXPECT_FALSE(store_->BlobReferenced(Sha(1)).value_or(true));
  MustPutPart(upload, NewPart(1, 1));
  MustPutPart(upload, NewPart(2, 2));
  MustPutPart(kept, NewPart(1, 3));
  // No object has these bytes: the parts alone hold them.
  EXPECT_TRUE(store_->BlobReferenced(Sha(1)).value_or(false));
  EXPECT_TRUE(store_->BlobReferenced(Sha(2)).value_or(false));

  ASSERT_TRUE(store_->DeleteUpload(bucket.id, upload.id).ok());
  EXPECT_FALSE(store_->BlobReferenced(Sha(1)).value_or(true));
  EXPECT_FALSE(store_->BlobReferenced(Sha(2)).value_or(true));
  EXPECT_TRUE(store_->BlobReferenced(Sha(3)).value_or(false));
  ExpectUploadNotFound(store_->GetUpload(bucket.id, upload.id).status(), upload.id);
  ExpectUploadNotFound(store_->ListUploadParts(bucket.id, upload.id).status(), upload.id);
  ExpectUploadNotFound(store_->PutUploadPart(bucket.id, upload.id, NewPart(3, 4)), upload.id);
  ExpectUploadNotFound(store_->DeleteUpload(bucket.id, upload.id), upload.id);
  EXPECT_EQ(PartsOf(kept).size(), 1u);
}

TEST_P(MetadataStoreContractTest, BlobOfObjectAndPartIsReferencedUntilBothAreGone) {
  Bucket bucket = MustCreateBucket();
  Bucket elsewhere = MustCreateBucket("elsewhere");  // another namespace
  MustPut(NewObject(bucket, "a.jpg", 1));
  Upload upload = MustCreate(NewUpload(elsewhere, "b.jpg"));
  MustPutPart(upload, NewPart(1, 1));
  ASSERT_TRUE(store_->DeleteObject(bucket.id, "a.jpg").ok());
  EXPECT_TRUE(store_->BlobReferenced(Sha(1)).value_or(false));  // by the part
  MustPut(NewObject(bucket, "c.jpg", 1));
  ASSERT_TRUE(store_->DeleteUpload(elsewhere.id, upload.id).ok());
  EXPECT_TRUE(store_->BlobReferenced(Sha(1)).value_or(false));  // by the object
  ASSERT_TRUE(store_->DeleteObject(bucket.id, "c.jpg").ok());
  EXPECT_FALSE(store_->BlobReferenced(Sha(1)).value_or(true));
}

TEST_P(MetadataStoreContractTest, DeleteExpiredUploadsRemovesOnlyExpiredOnesAndTheirParts) {
  Bucket bucket = MustCreateBucket();
  Bucket other = MustCreateBucket("other");  // another namespace
  Upload expired = MustCreate(NewUpload(bucket, "old.bin", kHourUs));
  Upload expired_elsewhere = MustCreate(NewUpload(other, "old.bin", kHourUs));
  Upload at_now = MustCreate(NewUpload(bucket, "edge.bin", 2 * kHourUs));
  Upload later = MustCreate(NewUpload(bucket, "new.bin", 3 * kHourUs));
  MustPutPart(expired, NewPart(1, 1));
  MustPutPart(expired, NewPart(2, 2));
  MustPutPart(expired_elsewhere, NewPart(1, 3));
  MustPutPart(at_now, NewPart(1, 4));
  MustPutPart(later, NewPart(1, 5));
  const TimestampUs now = at_now.expires_at;  // expires_at == now is not yet expired

  auto deleted = store_->DeleteExpiredUploads(now);
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  EXPECT_EQ(*deleted, 2);
  for (const Upload* gone : {&expired, &expired_elsewhere}) {
    ExpectUploadNotFound(store_->GetUpload(gone->bucket_id, gone->id).status(), gone->id);
    ExpectUploadNotFound(store_->ListUploadParts(gone->bucket_id, gone->id).status(), gone->id);
  }
  for (int content : {1, 2, 3}) EXPECT_FALSE(store_->BlobReferenced(Sha(content)).value_or(true));
  for (const Upload* kept : {&at_now, &later}) {
    EXPECT_EQ(Describe(store_->GetUpload(kept->bucket_id, kept->id).value_or(Upload{})),
              Describe(*kept));
    EXPECT_EQ(PartsOf(*kept).size(), 1u);
  }
  EXPECT_TRUE(store_->BlobReferenced(Sha(4)).value_or(false));

  EXPECT_EQ(store_->DeleteExpiredUploads(now).value_or(-1), 0);
  EXPECT_EQ(store_->DeleteExpiredUploads(now + 1).value_or(-1), 1);
  EXPECT_EQ(store_->DeleteExpiredUploads(later.expires_at + 1).value_or(-1), 1);
  EXPECT_FALSE(store_->BlobReferenced(Sha(5)).value_or(true));
}

TEST_P(MetadataStoreContractTest, DeleteExpiredUploadsCountsEveryOneOfMany) {
  Bucket first = MustCreateBucket("first");
  Bucket second = MustCreateBucket("second");
  constexpr int kExpired = 600;  // more than one batch of any reasonable size
  std::vector<Upload> uploads;
  for (int i = 0; i < kExpired; ++i) {
    Upload upload = MustCreate(NewUpload(i % 2 ? first : second, fmt::format("f{}", i), kHourUs));
    if (i % 50 == 0) MustPutPart(upload, NewPart(1, i + 1));
    uploads.push_back(upload);
  }
  Upload kept = MustCreate(NewUpload(first, "kept", 100 * kHourUs));
  const TimestampUs now = uploads.back().expires_at + 1;
  EXPECT_EQ(store_->DeleteExpiredUploads(now).value_or(-1), kExpired);
  for (const Upload& upload : {uploads.front(), uploads[kExpired / 2], uploads.back()}) {
    EXPECT_EQ(store_->GetUpload(upload.bucket_id, upload.id).status().code(),
              StatusCode::kNotFound);
  }
  EXPECT_FALSE(store_->BlobReferenced(Sha(1)).value_or(true));
  EXPECT_TRUE(store_->GetUpload(first.id, kept.id).ok());
  EXPECT_EQ(store_->DeleteExpiredUploads(now).value_or(-1), 0);
}

TEST_P(MetadataStoreContractTest, ForceDeletingBucketDeletesItsUploadsAndParts) {
  Bucket bucket = MustCreateBucket("doomed");
  Bucket other = MustCreate(NewBucket(bucket.namespace_id, "other"));
  MustPut(NewObject(bucket, "a.jpg", 1));
  Upload upload = MustCreate(NewUpload(bucket, "b.jpg"));
  MustPutPart(upload, NewPart(1, 2));
  MustPutPart(upload, NewPart(2, 3));
  Upload kept = MustCreate(NewUpload(other, "c.jpg"));
  MustPutPart(kept, NewPart(1, 4));

  ASSERT_TRUE(store_->DeleteBucket(bucket.namespace_id, "doomed", true).ok());
  ExpectUploadNotFound(store_->GetUpload(bucket.id, upload.id).status(), upload.id);
  ExpectUploadNotFound(store_->ListUploadParts(bucket.id, upload.id).status(), upload.id);
  for (int content : {1, 2, 3}) EXPECT_FALSE(store_->BlobReferenced(Sha(content)).value_or(true));
  EXPECT_EQ(Describe(store_->GetUpload(other.id, kept.id).value_or(Upload{})), Describe(kept));
  EXPECT_EQ(PartsOf(kept).size(), 1u);
  EXPECT_TRUE(store_->BlobReferenced(Sha(4)).value_or(false));

  // A bucket reborn under the name does not see the old uploads.
  Bucket reborn = MustCreate(NewBucket(bucket.namespace_id, "doomed"));
  EXPECT_EQ(store_->GetUpload(reborn.id, upload.id).status().code(), StatusCode::kNotFound);
  // The deleted uploads are not counted again as expired: only `kept` is.
  EXPECT_EQ(store_->DeleteExpiredUploads(kept.expires_at + 1).value_or(-1), 1);
}

TEST_P(MetadataStoreContractTest, DeletingNamespaceDeletesItsUploadsAndParts) {
  Bucket doomed = MustCreateBucket("doomed");
  Bucket kept = MustCreateBucket("kept");
  Upload gone = MustCreate(NewUpload(doomed, "x"));
  MustPutPart(gone, NewPart(1, 1));
  Upload stays = MustCreate(NewUpload(kept, "y"));
  MustPutPart(stays, NewPart(1, 2));
  ASSERT_TRUE(store_->DeleteNamespace(doomed.namespace_id).ok());
  ExpectUploadNotFound(store_->GetUpload(doomed.id, gone.id).status(), gone.id);
  EXPECT_FALSE(store_->BlobReferenced(Sha(1)).value_or(true));
  EXPECT_TRUE(store_->BlobReferenced(Sha(2)).value_or(false));
  EXPECT_EQ(PartsOf(stays).size(), 1u);
}

TEST_P(MetadataStoreContractTest, ConcurrentPartsAreAllRecorded) {
  Bucket bucket = MustCreateBucket();
  Upload upload = MustCreate(NewUpload(bucket, "big.bin"));
  constexpr int kThreads = 8;
  constexpr int kPerThread = 25;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        int number = i * kThreads + t + 1;
        UploadPart part{.number = number, .sha256 = Sha(number), .size = number, .created_at = 1};
        Status status = store_->PutUploadPart(bucket.id, upload.id, part);
        EXPECT_TRUE(status.ok()) << status.ToString();
        EXPECT_TRUE(store_->ListUploadParts(bucket.id, upload.id).ok());
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  auto parts = store_->ListUploadParts(bucket.id, upload.id);
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  ASSERT_EQ(parts->size(), size_t{kThreads * kPerThread});
  for (size_t i = 0; i < parts->size(); ++i) {
    EXPECT_EQ((*parts)[i].number, static_cast<int>(i) + 1);
    EXPECT_EQ((*parts)[i].sha256, Sha(static_cast<int>(i) + 1));
  }
}

TEST_P(MetadataStoreContractTest, UploadsAndPartsSurviveReopening) {
  Bucket bucket = MustCreateBucket("durable");
  Upload upload = MustCreate(NewUpload(bucket, "k\xc3\xa9y"));
  UploadPart p1 = MustPutPart(upload, NewPart(1, 1));
  UploadPart p7 = MustPutPart(upload, NewPart(7, 2));
  ReopenStore();
  ASSERT_NE(store_, nullptr);
  EXPECT_EQ(Describe(store_->GetUpload(bucket.id, upload.id).value_or(Upload{})), Describe(upload));
  EXPECT_THAT(PartsOf(upload), ElementsAre(Describe(p1), Describe(p7)));
  EXPECT_TRUE(store_->BlobReferenced(Sha(2)).value_or(false));
  // Still writable after reopening: a retried part, then the expiry sweep.
  UploadPart p7_again = MustPutPart(upload, NewPart(7, 3));
  EXPECT_THAT(PartsOf(upload), ElementsAre(Describe(p1), Describe(p7_again)));
  EXPECT_EQ(store_->DeleteExpiredUploads(upload.expires_at + 1).value_or(-1), 1);
  EXPECT_FALSE(store_->BlobReferenced(Sha(1)).value_or(true));
}

}  // namespace
}  // namespace argus::store
