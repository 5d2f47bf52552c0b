// BlobReferences conformance (src/store/blob_references.h, ADR 0007): pins, and the collector's
// delete that checks references and pins and claims the blob in one step. Part of the
// MetadataStore suite (every metadata backend, by name).

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>

#include "store/blob_references.h"
#include "tests/contract/metadata_store_contract_test.h"

namespace argus::store {
namespace {

using namespace std::chrono_literals;

// A `remove` for DeleteBlobIfUnreferenced that counts its calls and answers `result`.
struct Remover {
  std::atomic<int> calls = 0;
  Status result = OkStatus();
  std::function<Status()> Fn() {
    return [this] {
      ++calls;
      return result;
    };
  }
};

DerivedBlob Derived(int source, int sha) {
  return {.source_sha256 = Sha(source),
          .variant = "thumbnail-256.jpeg",
          .sha256 = Sha(sha),
          .media_type = "image/jpeg",
          .size = 99};
}

TEST_P(MetadataStoreContractTest, UnreferencedBlobIsDeletedWithItsDerivedRecords) {
  ASSERT_TRUE(store_->PutDerivedBlob(Derived(1, 10)).ok());  // Sha(1) as a source
  ASSERT_TRUE(store_->PutDerivedBlob(Derived(2, 1)).ok());   // ... and as a derived blob
  ASSERT_TRUE(store_->PutDerivedBlob(Derived(3, 30)).ok());  // unrelated
  Remover remover;
  auto deleted = store_->DeleteBlobIfUnreferenced(Sha(1), remover.Fn());
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  EXPECT_TRUE(*deleted);
  EXPECT_EQ(remover.calls, 1);
  EXPECT_EQ(store_->GetDerivedBlob(Sha(1), "thumbnail-256.jpeg").status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(store_->GetDerivedBlob(Sha(2), "thumbnail-256.jpeg").status().code(),
            StatusCode::kNotFound);
  EXPECT_TRUE(store_->GetDerivedBlob(Sha(3), "thumbnail-256.jpeg").ok());
}

TEST_P(MetadataStoreContractTest, ReferencedBlobsAreNotDeleted) {
  Bucket bucket = MustCreateBucket();
  MustPut(NewObject(bucket, "a.jpg", 1));
  MustPutPart(MustCreate(NewUpload(bucket, "big.bin")), NewPart(1, 2));
  ASSERT_TRUE(store_->PutDerivedBlob(Derived(1, 3)).ok());  // referenced while Sha(1) is
  Remover remover;
  for (int content : {1, 2, 3}) {
    auto deleted = store_->DeleteBlobIfUnreferenced(Sha(content), remover.Fn());
    ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
    EXPECT_FALSE(*deleted) << content;
  }
  EXPECT_EQ(remover.calls, 0);
  EXPECT_TRUE(store_->GetDerivedBlob(Sha(1), "thumbnail-256.jpeg").ok());
}

TEST_P(MetadataStoreContractTest, PinnedBlobIsNotDeletedUntilEveryPinIsGone) {
  // A pin needs no row and no stored blob: it is taken before either exists.
  auto first = store_->PinBlob(Sha(1));
  auto second = store_->PinBlob(Sha(1));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_FALSE(store_->BlobReferenced(Sha(1)).value_or(true));  // a pin is not a reference
  Remover remover;
  EXPECT_FALSE(store_->DeleteBlobIfUnreferenced(Sha(1), remover.Fn()).value_or(true));
  EXPECT_TRUE(store_->DeleteBlobIfUnreferenced(Sha(2), remover.Fn()).value_or(false));
  first->reset();
  EXPECT_FALSE(store_->DeleteBlobIfUnreferenced(Sha(1), remover.Fn()).value_or(true));
  second->reset();
  EXPECT_TRUE(store_->DeleteBlobIfUnreferenced(Sha(1), remover.Fn()).value_or(false));
  EXPECT_EQ(remover.calls, 2);
}

// An upload that pins the blob while the collector is deleting it must not get its pin (and go
// on to deduplicate against the copy) before the delete has finished.
TEST_P(MetadataStoreContractTest, PinTakenDuringADeleteIsGrantedOnceTheBytesAreGone) {
  std::atomic<bool> removed = false;
  std::promise<bool> granted_after_remove;
  std::future<bool> granted = granted_after_remove.get_future();
  std::unique_ptr<BlobPin> pin;
  std::thread writer;
  auto deleted = store_->DeleteBlobIfUnreferenced(Sha(1), [&] {
    writer = std::thread([&] {
      auto pinned = store_->PinBlob(Sha(1));
      EXPECT_TRUE(pinned.ok()) << pinned.status().ToString();
      if (pinned.ok()) pin = std::move(pinned).value();
      granted_after_remove.set_value(removed.load());
    });
    // Without the wait the pin is granted at once; give it the time to show that.
    granted.wait_for(200ms);
    removed = true;
    return OkStatus();
  });
  writer.join();
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  EXPECT_TRUE(*deleted);
  EXPECT_TRUE(granted.get()) << "the pin was granted while the blob was being deleted";
  Remover remover;
  EXPECT_FALSE(store_->DeleteBlobIfUnreferenced(Sha(1), remover.Fn()).value_or(true));
  EXPECT_EQ(remover.calls, 0);
}

TEST_P(MetadataStoreContractTest, OneDeleteOfABlobAtATime) {
  Remover inner;
  auto deleted = store_->DeleteBlobIfUnreferenced(Sha(1), [&] {
    // Another collector (thread) meanwhile: not this blob, but any other.
    auto same = std::async(std::launch::async,
                           [&] { return store_->DeleteBlobIfUnreferenced(Sha(1), inner.Fn()); });
    auto other = std::async(std::launch::async,
                            [&] { return store_->DeleteBlobIfUnreferenced(Sha(2), inner.Fn()); });
    EXPECT_FALSE(same.get().value_or(true));
    EXPECT_TRUE(other.get().value_or(false));
    return OkStatus();
  });
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  EXPECT_TRUE(*deleted);
  EXPECT_EQ(inner.calls, 1);
}

TEST_P(MetadataStoreContractTest, FailedRemoveIsReturnedAndEndsTheClaim) {
  ASSERT_TRUE(store_->PutDerivedBlob(Derived(1, 10)).ok());
  Remover failing{.result = UnavailableError("blob store down")};
  auto deleted = store_->DeleteBlobIfUnreferenced(Sha(1), failing.Fn());
  EXPECT_EQ(deleted.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(failing.calls, 1);
  // Nothing stays claimed: a pin is granted at once, and a later delete goes through.
  auto start = std::chrono::steady_clock::now();
  auto pin = store_->PinBlob(Sha(1));
  ASSERT_TRUE(pin.ok()) << pin.status().ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  pin->reset();
  Remover remover;
  EXPECT_TRUE(store_->DeleteBlobIfUnreferenced(Sha(1), remover.Fn()).value_or(false));
  EXPECT_EQ(remover.calls, 1);
}

TEST_P(MetadataStoreContractTest, MalformedBlobNamesArePinnedOrDeletedNever) {
  Remover remover;
  for (std::string bad : {std::string("abc"), Sha(1).substr(1), std::string(64, 'A')}) {
    EXPECT_EQ(store_->PinBlob(bad).status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(store_->DeleteBlobIfUnreferenced(bad, remover.Fn()).status().code(),
              StatusCode::kInvalidArgument)
        << bad;
  }
  EXPECT_EQ(remover.calls, 0);
}

}  // namespace
}  // namespace argus::store
