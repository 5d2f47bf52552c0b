// EventLog conformance (src/store/event_log.h) and the events the metadata store appends in its
// own transactions: Append/Read/LastSeq/Purge, object.created and object.deleted committed with
// the change they report (and not when the change fails), and every committed event on the bus.
// The fixture is metadata_store_contract_test.h; the suite is instantiated over the backends in
// metadata_store_contract_test.cc.

#include <gmock/gmock.h>

#include "tests/contract/metadata_store_contract_test.h"

namespace argus::store {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::vector<Event> ReadAll(EventLog& log) {
  auto events = log.Read(0, 10000);
  EXPECT_TRUE(events.ok()) << events.status().ToString();
  return events.ok() ? std::move(events).value() : std::vector<Event>{};
}

std::vector<std::string> Types(const std::vector<Event>& events) {
  std::vector<std::string> types;
  for (const Event& e : events) types.push_back(e.type);
  return types;
}

TEST_P(MetadataStoreContractTest, AppendedEventsAreReadInOrderFromACursor) {
  EXPECT_EQ(log_->LastSeq().value_or(-1), 0);
  std::vector<int64_t> seqs;
  for (int i = 0; i < 5; ++i) {
    clock_.AdvanceUs(1000);
    auto seq = log_->Append({.type = "thing.happened",
                             .namespace_id = "ns1",
                             .subject_id = "s" + std::to_string(i),
                             .queue = i == 0 ? "cpu" : "",
                             .data_json = R"({"n":)" + std::to_string(i) + "}"});
    ASSERT_TRUE(seq.ok()) << seq.status().ToString();
    if (!seqs.empty()) {
      EXPECT_GT(*seq, seqs.back());
    }
    seqs.push_back(*seq);
  }
  std::vector<Event> all = ReadAll(*log_);
  ASSERT_EQ(all.size(), 5u);
  EXPECT_EQ(all[0].seq, seqs[0]);
  EXPECT_EQ(all[0].type, "thing.happened");
  EXPECT_EQ(all[0].namespace_id, "ns1");
  EXPECT_EQ(all[0].subject_id, "s0");
  EXPECT_EQ(all[0].queue, "cpu");
  EXPECT_EQ(Json::parse(all[4].data_json), Json({{"n", 4}}));
  EXPECT_EQ(all[4].created_at, clock_.NowUs());
  EXPECT_EQ(log_->LastSeq().value_or(-1), seqs.back());
  auto page = log_->Read(seqs[1], 2);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].seq, seqs[2]);
  EXPECT_EQ((*page)[1].seq, seqs[3]);
  EXPECT_THAT(log_->Read(seqs.back(), 10).value_or(std::vector<Event>(1)), IsEmpty());
}

TEST_P(MetadataStoreContractTest, BadEventsAndReadsAreRefused) {
  EXPECT_EQ(log_->Append({.type = "nodot", .data_json = "{}"}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(log_->Append({.type = "a.b", .data_json = "[1]"}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(log_->Append({.type = "a.b", .data_json = "{"}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(log_->Read(0, 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(log_->Read(0, 10001).status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(ReadAll(*log_), IsEmpty());
}

TEST_P(MetadataStoreContractTest, PurgeKeepsTheSequenceAcrossAReopen) {
  ASSERT_TRUE(log_->Append({.type = "a.b", .data_json = "{}"}).ok());
  clock_.AdvanceUs(1000);
  const TimestampUs cutoff = clock_.NowUs();
  clock_.AdvanceUs(1000);
  auto kept = log_->Append({.type = "a.c", .data_json = "{}"});
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(log_->Purge(cutoff).value_or(-1), 1);
  EXPECT_THAT(Types(ReadAll(*log_)), ElementsAre("a.c"));
  ASSERT_TRUE(log_->Purge(clock_.NowUs() + 1).ok());
  ReopenStore();
  EXPECT_EQ(log_->LastSeq().value_or(-1), *kept);  // never renumbered, even when all are gone
  auto next = log_->Append({.type = "a.d", .data_json = "{}"});
  ASSERT_TRUE(next.ok());
  EXPECT_GT(*next, *kept);
}

TEST_P(MetadataStoreContractTest, ObjectChangesCommitTheirEvents) {
  Bucket bucket = MustCreateBucket("photos");
  StoredObject first = NewObject(bucket, "a.jpg", 1, {{"camera", "x"}});
  MustPut(first);
  StoredObject second = NewObject(bucket, "a.jpg", 2);  // replaces the first
  MustPut(second);
  ASSERT_TRUE(store_->DeleteObject(bucket.id, "a.jpg").ok());
  std::vector<Event> events = ReadAll(*log_);
  EXPECT_THAT(Types(events), ElementsAre("object.created", "object.created", "object.deleted"));
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].subject_id, first.id);
  EXPECT_EQ(events[0].namespace_id, bucket.namespace_id);
  EXPECT_EQ(events[0].queue, "");
  Json data = Json::parse(events[0].data_json);
  EXPECT_EQ(data["id"], first.id);
  EXPECT_EQ(data["bucket"], "photos");
  EXPECT_EQ(data["key"], "a.jpg");
  EXPECT_EQ(data["sha256"], first.sha256);
  EXPECT_EQ(data["metadata"], Json({{"camera", "x"}}));
  EXPECT_EQ(events[1].subject_id, second.id);
  EXPECT_EQ(events[2].subject_id, second.id);
  EXPECT_EQ(Json::parse(events[2].data_json)["id"], second.id);
}

TEST_P(MetadataStoreContractTest, AnObjectChangeThatFailsRecordsNoEvent) {
  Bucket bucket = MustCreateBucket("photos");
  StoredObject object = NewObject(bucket, "a.jpg");
  MustPut(object);
  // If-None-Match: * on an existing key, a missing bucket, and deleting an absent key all fail.
  StoredObject again = NewObject(bucket, "a.jpg", 2);
  EXPECT_FALSE(store_->PutObject(again, {.must_not_exist = true}).ok());
  StoredObject orphan = NewObject(bucket, "b.jpg");
  orphan.bucket_id = "no-such-bucket";
  EXPECT_FALSE(store_->PutObject(orphan, {}).ok());
  EXPECT_EQ(store_->DeleteObject(bucket.id, "absent.jpg").status().code(), StatusCode::kNotFound);
  EXPECT_THAT(Types(ReadAll(*log_)), ElementsAre("object.created"));
}

TEST_P(MetadataStoreContractTest, CommittedEventsReachTheBusWithTheirSeqs) {
  std::vector<Event> live;
  auto sub = bus_.Subscribe([&](const EventBatch& batch) {
    for (const Event& e : *batch) live.push_back(e);
  });
  Bucket bucket = MustCreateBucket("photos");
  MustPut(NewObject(bucket, "a.jpg"));
  EXPECT_FALSE(store_->PutObject(NewObject(bucket, "a.jpg", 3), {.must_not_exist = true}).ok());
  ASSERT_TRUE(log_->Append({.type = "a.b", .data_json = "{}"}).ok());
  std::vector<Event> stored = ReadAll(*log_);
  ASSERT_EQ(live.size(), 2u);
  ASSERT_EQ(stored.size(), 2u);
  for (size_t i = 0; i < live.size(); ++i) {
    EXPECT_EQ(live[i].seq, stored[i].seq);
    EXPECT_EQ(live[i].type, stored[i].type);
    EXPECT_EQ(live[i].data_json, stored[i].data_json);
  }
}

}  // namespace
}  // namespace argus::store
