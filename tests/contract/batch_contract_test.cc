// The MetadataStore conformance suite, continued: batches (src/store/batch_store.h). The
// fixture is metadata_store_contract_test.h's.

#include <gtest/gtest.h>

#include <string>

#include "core/id.h"
#include "tests/contract/metadata_store_contract_test.h"

namespace argus::store {
namespace {

class BatchContract : public MetadataStoreContractTest {
 protected:
  Batch Draft(const Bucket& bucket) {
    clock_.AdvanceUs(1000);
    Batch b;
    b.id = NewId(clock_);
    b.namespace_id = bucket.namespace_id;
    b.bucket_id = bucket.id;
    b.selection = {{"prefix", "2024/"}};
    b.collection_ids = {"c1", "c2"};
    b.created_at = b.updated_at = clock_.NowUs();
    return b;
  }
};

TEST_P(BatchContract, ABatchIsCreatedReadListedUpdatedWithItsEventsAndDeleted) {
  Bucket photos = MustCreateBucket("photos");
  auto created = store_->CreateBatch(Draft(photos));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(created->bucket_name, "photos");
  EXPECT_EQ(created->status, BatchStatus::kDraft);
  EXPECT_EQ(created->collection_ids, (std::vector<std::string>{"c1", "c2"}));
  EXPECT_EQ(created->selection["prefix"], "2024/");
  EXPECT_EQ(created->submitted_at, 0);
  auto second = store_->CreateBatch(Draft(photos));
  ASSERT_TRUE(second.ok());
  auto page = store_->ListBatches(photos.namespace_id, photos.id, {.limit = 1});
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(page->items[0].id, created->id);
  EXPECT_EQ(page->next_after_id, created->id);

  const int64_t last = *log_->LastSeq();
  clock_.AdvanceUs(1000);
  auto submitted = store_->UpdateBatch(photos.namespace_id, created->id,
                                       {.status = BatchStatus::kQueued,
                                        .objects = 12,
                                        .progress = Json{{"tiers", {{{"tier", 1}}}}},
                                        .submitted_at = clock_.NowUs(),
                                        .event_type = "batch.submitted",
                                        .only_from = BatchStatus::kDraft},
                                       clock_.NowUs());
  ASSERT_TRUE(submitted.ok()) << submitted.status().ToString();
  EXPECT_EQ(submitted->status, BatchStatus::kQueued);
  EXPECT_EQ(submitted->objects, 12);
  EXPECT_EQ(submitted->submitted_at, clock_.NowUs());
  auto events = log_->Read(last, 10);
  ASSERT_EQ(events->size(), 1u) << "the event commits with the update";
  EXPECT_EQ((*events)[0].type, "batch.submitted");
  EXPECT_EQ((*events)[0].subject_id, created->id);
  EXPECT_EQ(Json::parse((*events)[0].data_json)["status"], "queued");

  auto again = store_->UpdateBatch(photos.namespace_id, created->id,
                                   {.status = BatchStatus::kQueued,
                                    .event_type = "batch.submitted",
                                    .only_from = BatchStatus::kDraft},
                                   clock_.NowUs());
  EXPECT_EQ(again.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(log_->Read(last, 10)->size(), 1u) << "nothing of a refused update is stored";
  auto progress = store_->UpdateBatch(photos.namespace_id, created->id,
                                      {.status = BatchStatus::kProcessing}, clock_.NowUs());
  ASSERT_TRUE(progress.ok());
  EXPECT_EQ(progress->objects, 12) << "unset fields stay";
  EXPECT_EQ(progress->progress["tiers"][0]["tier"], 1);

  Bucket elsewhere = MustCreateBucket("photos");  // in a namespace of its own
  EXPECT_EQ(store_->GetBatch(elsewhere.namespace_id, created->id).status().code(),
            StatusCode::kNotFound);
  Batch foreign = Draft(photos);
  foreign.namespace_id = elsewhere.namespace_id;
  EXPECT_EQ(store_->CreateBatch(foreign).status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(store_->DeleteBatch(photos.namespace_id, created->id).ok());
  EXPECT_EQ(store_->DeleteBatch(photos.namespace_id, created->id).code(), StatusCode::kNotFound);
  ASSERT_TRUE(store_->DeleteBucket(photos.namespace_id, "photos", true).ok());
  EXPECT_EQ(store_->GetBatch(photos.namespace_id, second->id).status().code(),
            StatusCode::kNotFound)
      << "a bucket's batches go with it";
}

// The backends of metadata_store_contract_test.cc's list.
INSTANTIATE_TEST_SUITE_P(Backends, BatchContract, testing::Values("sqlite"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace argus::store
