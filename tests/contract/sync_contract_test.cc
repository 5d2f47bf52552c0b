// The MetadataStore conformance suite, continued: syncs and their file records
// (src/store/metadata_store.h, "Syncs"). The fixture and the instantiation over the backends are
// those of metadata_store_contract_test.{h,cc}.

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/id.h"
#include "tests/contract/metadata_store_contract_test.h"

namespace argus::store {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAreArray;

// Every field, so a mismatch shows up as a readable diff.
std::string Describe(const Sync& sync) {
  std::ostringstream out;
  out << "id=" << sync.id << " namespace_id=" << sync.namespace_id
      << " bucket_id=" << sync.bucket_id << " source_type=" << sync.source_type
      << " source=" << sync.source.dump() << " key_prefix=" << sync.key_prefix
      << " metadata=" << sync.metadata.dump()
      << " interval_s=" << fmt::format("{}", sync.interval_s) << " paused=" << sync.paused
      << " cursor=" << sync.cursor << " run_task_id=" << sync.run_task_id
      << " next_run_at=" << sync.next_run_at << " last_run_at=" << sync.last_run_at
      << " last_success_at=" << sync.last_success_at << " last_error=" << sync.last_error
      << " created_at=" << sync.created_at << " updated_at=" << sync.updated_at;
  return out.str();
}

std::string Describe(const SyncFile& file) {
  std::ostringstream out;
  out << "path=" << file.path << " version=" << file.version << " size=" << file.size
      << " state=" << file.state << " error=" << file.error << " attempts=" << file.attempts
      << " object_key=" << file.object_key << " updated_at=" << file.updated_at;
  return out.str();
}

std::vector<std::string> Describe(const std::vector<SyncFile>& files) {
  std::vector<std::string> described;
  for (const SyncFile& file : files) described.push_back(Describe(file));
  return described;
}

std::string Describe(const SyncCounts& counts) {
  return fmt::format("discovered={} ingested={} failed={} pending={}", counts.discovered,
                     counts.ingested, counts.failed, counts.pending);
}

std::vector<std::string> Paths(const std::vector<SyncFile>& files) {
  std::vector<std::string> paths;
  for (const SyncFile& file : files) paths.push_back(file.path);
  return paths;
}

// NotFound whose message names the sync.
void ExpectSyncNotFound(const Status& status, const std::string& id) {
  EXPECT_EQ(status.code(), StatusCode::kNotFound) << status.ToString();
  EXPECT_THAT(std::string(status.message()), HasSubstr(id));
}

// A sync of `bucket` with every field set to something other than its default.
Sync NewSync(FakeClock& clock, const Bucket& bucket) {
  clock.AdvanceUs(1000);
  Sync sync;
  sync.id = NewId(clock);
  sync.namespace_id = bucket.namespace_id;
  sync.bucket_id = bucket.id;
  sync.source_type = "folder";
  sync.source = {{"path", "/srv/caf\xc3\xa9 photos"}, {"secret", "s3cr3t"}, {"depth", {1, 2.5}}};
  sync.key_prefix = "imports/2024/";
  sync.metadata = {{"origin", "sync"}, {"nested", {{"x", nullptr}}}};
  sync.interval_s = 90.25;
  sync.paused = false;
  sync.cursor = "dir/b.jpg";
  sync.run_task_id = NewId(clock);
  sync.next_run_at = clock.NowUs() + 90'000'000;
  sync.last_run_at = clock.NowUs() - 5;
  sync.last_success_at = clock.NowUs() - 9;
  sync.last_error = "source unreachable";
  sync.created_at = clock.NowUs();
  sync.updated_at = clock.NowUs() + 3;
  return sync;
}

// The record of `path` in `state`; `n` varies the other fields.
SyncFile NewFile(FakeClock& clock, const std::string& path, const std::string& state = "pending",
                 int n = 1) {
  clock.AdvanceUs(1000);
  SyncFile file;
  file.path = path;
  file.version = fmt::format("{}-{}", 1000 + n, clock.NowUs());
  file.size = 1000 + n;
  file.state = state;
  file.error = state == "failed" ? fmt::format("decode error {}", n) : "";
  file.attempts = state == "failed" ? n : 0;
  file.object_key = "imports/2024/" + path;
  file.updated_at = clock.NowUs();
  return file;
}

Sync MustCreateSync(MetadataStore& store, const Sync& sync) {
  auto created = store.CreateSync(sync);
  EXPECT_TRUE(created.ok()) << created.status().ToString();
  return created.ok() ? *created : sync;
}

void MustPutFiles(MetadataStore& store, const Sync& sync, const std::vector<SyncFile>& files) {
  Status status = store.PutSyncFiles(sync.id, files);
  EXPECT_TRUE(status.ok()) << status.ToString();
}

// The records of `paths`, described and sorted; one "error: ..." item when the call fails.
std::vector<std::string> FilesOf(MetadataStore& store, const Sync& sync,
                                 const std::vector<std::string>& paths) {
  auto files = store.GetSyncFiles(sync.id, paths);
  if (!files.ok()) return {"error: " + files.status().ToString()};
  std::vector<std::string> described = Describe(*files);
  std::sort(described.begin(), described.end());
  return described;
}

// Walks every page of the sync's records in `state` with `limit`, checking the page invariants on
// the way: at most limit records, in path order past the cursor; a page that says more follows is
// full and ends at its cursor.
std::vector<SyncFile> ListAllFiles(MetadataStore& store, const Sync& sync, const std::string& state,
                                   int limit) {
  std::vector<SyncFile> all;
  std::string after;
  for (int pages = 0; pages < 10000; ++pages) {
    auto page = store.ListSyncFiles(sync.id, state, after, limit);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    if (!page.ok()) break;
    EXPECT_LE(static_cast<int>(page->items.size()), limit);
    for (const SyncFile& file : page->items) {
      EXPECT_GT(file.path, after);
      if (!state.empty()) {
        EXPECT_EQ(file.state, state);
      }
      all.push_back(file);
    }
    if (page->next_after_id.empty()) break;
    EXPECT_EQ(static_cast<int>(page->items.size()), limit);
    EXPECT_EQ(page->next_after_id, page->items.back().path);
    after = page->next_after_id;
  }
  EXPECT_TRUE(std::is_sorted(all.begin(), all.end(),
                             [](const SyncFile& a, const SyncFile& b) { return a.path < b.path; }));
  return all;
}

SyncCounts CountsOf(MetadataStore& store, const Sync& sync) {
  auto counts = store.CountSyncFiles(sync.id);
  EXPECT_TRUE(counts.ok()) << counts.status().ToString();
  return counts.value_or(SyncCounts{.discovered = -1});
}

TEST_P(MetadataStoreContractTest, CreatedSyncIsStoredAsGivenAndReadable) {
  Bucket bucket = MustCreateBucket();
  Sync sync = NewSync(clock_, bucket);
  auto created = store_->CreateSync(sync);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(Describe(*created), Describe(sync));
  EXPECT_EQ(Describe(store_->GetSync(bucket.namespace_id, sync.id).value_or(Sync{})),
            Describe(sync));
  EXPECT_EQ(Describe(store_->GetSync("", sync.id).value_or(Sync{})), Describe(sync));

  // Defaults round-trip too, and an interval of exactly one second is valid.
  Sync plain = NewSync(clock_, bucket);
  plain.source = Json::object();
  plain.metadata = Json::object();
  plain.source_type = "s3";
  plain.key_prefix = "";
  plain.interval_s = 1;
  plain.paused = true;
  plain.cursor = plain.run_task_id = plain.last_error = "";
  plain.next_run_at = plain.last_run_at = plain.last_success_at = 0;
  MustCreateSync(*store_, plain);
  EXPECT_EQ(Describe(store_->GetSync(bucket.namespace_id, plain.id).value_or(Sync{})),
            Describe(plain));
}

TEST_P(MetadataStoreContractTest, SyncInMissingBucketIsNotFound) {
  Bucket bucket = MustCreateBucket();
  Sync orphan = NewSync(clock_, bucket);
  orphan.bucket_id = NewId(clock_);
  EXPECT_EQ(store_->CreateSync(orphan).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->GetSync("", orphan.id).status().code(), StatusCode::kNotFound);

  Sync late = NewSync(clock_, bucket);
  ASSERT_TRUE(store_->DeleteBucket(bucket.namespace_id, bucket.name, false).ok());
  EXPECT_EQ(store_->CreateSync(late).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->GetSync("", late.id).status().code(), StatusCode::kNotFound);
  EXPECT_THAT(WalkPages(10, [&](const PageRequest& req) { return store_->ListSyncs("", req); }),
              IsEmpty());
}

TEST_P(MetadataStoreContractTest, SyncNamespaceMustBeTheBucketsNamespace) {
  Bucket bucket = MustCreateBucket();
  Bucket foreign = MustCreateBucket("foreign");  // another namespace
  Sync sync = NewSync(clock_, bucket);
  sync.namespace_id = foreign.namespace_id;
  EXPECT_EQ(store_->CreateSync(sync).status().code(), StatusCode::kInvalidArgument);
  sync.namespace_id = NewId(clock_);  // no namespace at all
  EXPECT_EQ(store_->CreateSync(sync).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->GetSync("", sync.id).status().code(), StatusCode::kNotFound);
  EXPECT_THAT(
      WalkPages(10, [&](const PageRequest& req) { return store_->ListSyncs(bucket.id, req); }),
      IsEmpty());
}

TEST_P(MetadataStoreContractTest, SyncIntervalBelowOneSecondIsInvalid) {
  Bucket bucket = MustCreateBucket();
  for (double interval : {0.999, 0.0, -1.0, -60.0}) {
    Sync sync = NewSync(clock_, bucket);
    sync.interval_s = interval;
    EXPECT_EQ(store_->CreateSync(sync).status().code(), StatusCode::kInvalidArgument) << interval;
    EXPECT_EQ(store_->GetSync("", sync.id).status().code(), StatusCode::kNotFound) << interval;
  }
  Sync sync = MustCreateSync(*store_, NewSync(clock_, bucket));
  for (double interval : {0.999, 0.0, -1.0}) {
    auto updated = store_->UpdateSync(sync.id, {.interval_s = interval}, clock_.NowUs() + 1);
    EXPECT_EQ(updated.status().code(), StatusCode::kInvalidArgument) << interval;
  }
  // Nothing changed, not even updated_at.
  EXPECT_EQ(Describe(store_->GetSync("", sync.id).value_or(Sync{})), Describe(sync));
  auto updated = store_->UpdateSync(sync.id, {.interval_s = 1.0}, clock_.NowUs() + 1);
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_EQ(updated->interval_s, 1.0);
}

TEST_P(MetadataStoreContractTest, MissingSyncIsNotFoundNamingIt) {
  Bucket bucket = MustCreateBucket();
  MustCreateSync(*store_, NewSync(clock_, bucket));
  std::string id = NewId(clock_);
  ExpectSyncNotFound(store_->GetSync("", id).status(), id);
  ExpectSyncNotFound(store_->GetSync(bucket.namespace_id, id).status(), id);
  ExpectSyncNotFound(store_->UpdateSync(id, {.paused = true}, clock_.NowUs()).status(), id);
  ExpectSyncNotFound(store_->UpdateSync(id, {}, clock_.NowUs()).status(), id);
  ExpectSyncNotFound(store_->DeleteSync(bucket.namespace_id, id), id);
  ExpectSyncNotFound(store_->PutSyncFiles(id, {NewFile(clock_, "a.jpg")}), id);
}

TEST_P(MetadataStoreContractTest, SyncOfAnotherNamespaceIsNotFound) {
  Bucket bucket = MustCreateBucket();
  Bucket theirs = MustCreateBucket("theirs");  // another namespace
  Sync sync = MustCreateSync(*store_, NewSync(clock_, bucket));
  MustPutFiles(*store_, sync, {NewFile(clock_, "a.jpg")});
  for (const std::string& ns : {theirs.namespace_id, NewId(clock_)}) {
    SCOPED_TRACE(ns);
    ExpectSyncNotFound(store_->GetSync(ns, sync.id).status(), sync.id);
    ExpectSyncNotFound(store_->DeleteSync(ns, sync.id), sync.id);
  }
  // Still there, with its records.
  EXPECT_EQ(Describe(store_->GetSync(bucket.namespace_id, sync.id).value_or(Sync{})),
            Describe(sync));
  EXPECT_EQ(CountsOf(*store_, sync).discovered, 1);
  ASSERT_TRUE(store_->DeleteSync(bucket.namespace_id, sync.id).ok());
  ExpectSyncNotFound(store_->GetSync("", sync.id).status(), sync.id);
}

TEST_P(MetadataStoreContractTest, SyncsPageOldestFirstPerBucketAndAcrossBuckets) {
  Bucket a = MustCreateBucket("a");
  Bucket b = MustCreate(NewBucket(a.namespace_id, "b"));
  Bucket c = MustCreateBucket("c");  // another namespace
  std::vector<std::string> in_a, in_b, in_c, all;
  const std::vector<std::pair<const Bucket*, std::vector<std::string>*>> targets = {
      {&a, &in_a}, {&b, &in_b}, {&c, &in_c}};
  for (int i = 0; i < 4; ++i) {
    for (const auto& [bucket, ids] : targets) {
      if (bucket == &c && i % 2 == 1) continue;
      std::string id = MustCreateSync(*store_, NewSync(clock_, *bucket)).id;
      ids->push_back(id);
      all.push_back(id);
    }
  }
  auto ids_of = [&](const std::string& bucket_id, int limit) {
    return WalkPages(limit,
                     [&](const PageRequest& req) { return store_->ListSyncs(bucket_id, req); });
  };
  for (int limit : {1, 2, 3, 5, 10, 1000}) {
    SCOPED_TRACE(fmt::format("limit {}", limit));
    EXPECT_THAT(ids_of(a.id, limit), ElementsAreArray(in_a));
    EXPECT_THAT(ids_of(b.id, limit), ElementsAreArray(in_b));
    EXPECT_THAT(ids_of(c.id, limit), ElementsAreArray(in_c));
    EXPECT_THAT(ids_of("", limit), ElementsAreArray(all));
  }
  EXPECT_THAT(ids_of(NewId(clock_), 10), IsEmpty());

  // Listed items are complete; after_id is a plain lower bound.
  auto page = store_->ListSyncs(a.id, {.after_id = "", .limit = 1});
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(Describe(page->items[0]), Describe(store_->GetSync("", in_a[0]).value_or(Sync{})));
  std::string between = in_a[1];
  between.back() = static_cast<char>(between.back() + 1);
  ASSERT_TRUE(between > in_a[1] && between < in_a[2]);
  page = store_->ListSyncs(a.id, {.after_id = between, .limit = 10});
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_THAT(Ids(page->items), ElementsAre(in_a[2], in_a[3]));
  EXPECT_EQ(page->next_after_id, "");

  for (int limit : {0, -1, 1001}) {
    EXPECT_EQ(store_->ListSyncs(a.id, {.limit = limit}).status().code(),
              StatusCode::kInvalidArgument);
    EXPECT_EQ(store_->ListSyncs("", {.limit = limit}).status().code(),
              StatusCode::kInvalidArgument);
  }
}

TEST_P(MetadataStoreContractTest, UpdateSyncChangesOnlySetFieldsAndUpdatedAt) {
  Bucket bucket = MustCreateBucket();
  Sync sync = MustCreateSync(*store_, NewSync(clock_, bucket));
  Sync other = MustCreateSync(*store_, NewSync(clock_, bucket));
  Sync expected = sync;
  TimestampUs now = clock_.NowUs() + 1'000'000;
  auto apply = [&](const SyncUpdate& update, const std::string& what) {
    SCOPED_TRACE(what);
    expected.updated_at = ++now;
    auto updated = store_->UpdateSync(sync.id, update, now);
    ASSERT_TRUE(updated.ok()) << updated.status().ToString();
    EXPECT_EQ(Describe(*updated), Describe(expected));
    EXPECT_EQ(Describe(store_->GetSync(bucket.namespace_id, sync.id).value_or(Sync{})),
              Describe(expected));
  };
  apply({}, "no field: updated_at only");
  expected.paused = true;
  apply({.paused = true}, "paused");
  expected.paused = false;
  apply({.paused = false}, "unpaused");
  expected.interval_s = 3600.5;
  apply({.interval_s = 3600.5}, "interval_s");
  expected.cursor = "z/last seen.jpg";
  apply({.cursor = "z/last seen.jpg"}, "cursor");
  expected.run_task_id = "task-2";
  apply({.run_task_id = "task-2"}, "run_task_id");
  expected.next_run_at = now + 7;
  apply({.next_run_at = now + 7}, "next_run_at");
  expected.last_run_at = now - 7;
  apply({.last_run_at = now - 7}, "last_run_at");
  expected.last_success_at = now - 8;
  apply({.last_success_at = now - 8}, "last_success_at");
  expected.last_error = "caf\xc3\xa9 denied";
  apply({.last_error = "caf\xc3\xa9 denied"}, "last_error");

  // Empty strings and zero times are values, not "unset".
  expected.cursor = expected.run_task_id = expected.last_error = "";
  expected.next_run_at = expected.last_run_at = expected.last_success_at = 0;
  expected.paused = true;
  expected.interval_s = 1;
  apply({.paused = true,
         .interval_s = 1.0,
         .cursor = "",
         .run_task_id = "",
         .next_run_at = 0,
         .last_run_at = 0,
         .last_success_at = 0,
         .last_error = ""},
        "every field");

  // The other sync is untouched.
  EXPECT_EQ(Describe(store_->GetSync("", other.id).value_or(Sync{})), Describe(other));
}

TEST_P(MetadataStoreContractTest, DeleteSyncDeletesItsFileRecordsButNotObjects) {
  Bucket bucket = MustCreateBucket();
  Sync doomed = MustCreateSync(*store_, NewSync(clock_, bucket));
  Sync kept = MustCreateSync(*store_, NewSync(clock_, bucket));
  MustPutFiles(*store_, doomed,
               {NewFile(clock_, "a.jpg", "ingested"), NewFile(clock_, "b.jpg", "failed")});
  SyncFile theirs = NewFile(clock_, "a.jpg", "pending", 2);
  MustPutFiles(*store_, kept, {theirs});
  MustPut(NewObject(bucket, "imports/2024/a.jpg", 1));

  ASSERT_TRUE(store_->DeleteSync(bucket.namespace_id, doomed.id).ok());
  ExpectSyncNotFound(store_->GetSync("", doomed.id).status(), doomed.id);
  ExpectSyncNotFound(store_->DeleteSync(bucket.namespace_id, doomed.id), doomed.id);
  ExpectSyncNotFound(store_->PutSyncFiles(doomed.id, {NewFile(clock_, "c.jpg")}), doomed.id);
  EXPECT_THAT(WalkPages(10, [&](const PageRequest& r) { return store_->ListSyncs(bucket.id, r); }),
              ElementsAre(kept.id));
  EXPECT_TRUE(store_->GetObject(bucket.id, "imports/2024/a.jpg").ok());
  EXPECT_THAT(FilesOf(*store_, kept, {"a.jpg", "b.jpg"}), ElementsAre(Describe(theirs)));
  EXPECT_EQ(Describe(CountsOf(*store_, kept)), "discovered=1 ingested=0 failed=0 pending=1");
}

TEST_P(MetadataStoreContractTest, ReadsOfAMissingSyncFindNothing) {
  // The contract leaves open whether these are NotFound or empty; either way nothing is found.
  Bucket bucket = MustCreateBucket();
  Sync gone = MustCreateSync(*store_, NewSync(clock_, bucket));
  MustPutFiles(*store_, gone, {NewFile(clock_, "a.jpg", "failed")});
  ASSERT_TRUE(store_->DeleteSync("", gone.id).ok());
  for (const std::string& id : {gone.id, NewId(clock_)}) {
    SCOPED_TRACE(id);
    auto files = store_->GetSyncFiles(id, {"a.jpg"});
    if (files.ok()) {
      EXPECT_THAT(*files, IsEmpty());
    } else {
      ExpectSyncNotFound(files.status(), id);
    }
    auto page = store_->ListSyncFiles(id, "", "", 10);
    if (page.ok()) {
      EXPECT_THAT(page->items, IsEmpty());
    } else {
      ExpectSyncNotFound(page.status(), id);
    }
    auto counts = store_->CountSyncFiles(id);
    if (counts.ok()) {
      EXPECT_EQ(Describe(*counts), Describe(SyncCounts{}));
    } else {
      ExpectSyncNotFound(counts.status(), id);
    }
    auto retried = store_->RetrySyncFiles(id, {});
    if (retried.ok()) {
      EXPECT_EQ(*retried, 0);
    } else {
      ExpectSyncNotFound(retried.status(), id);
    }
  }
}

TEST_P(MetadataStoreContractTest, DeletingBucketDeletesItsSyncsAndTheirFiles) {
  Bucket doomed = MustCreateBucket("doomed");
  Bucket other = MustCreate(NewBucket(doomed.namespace_id, "other"));
  Sync gone = MustCreateSync(*store_, NewSync(clock_, doomed));
  Sync also_gone = MustCreateSync(*store_, NewSync(clock_, doomed));
  Sync kept = MustCreateSync(*store_, NewSync(clock_, other));
  MustPutFiles(*store_, gone, {NewFile(clock_, "a.jpg"), NewFile(clock_, "b.jpg", "failed")});
  MustPutFiles(*store_, kept, {NewFile(clock_, "a.jpg", "ingested")});

  // Syncs do not make a bucket non-empty: no force needed.
  ASSERT_TRUE(store_->DeleteBucket(doomed.namespace_id, "doomed", false).ok());
  for (const Sync* sync : {&gone, &also_gone}) {
    ExpectSyncNotFound(store_->GetSync("", sync->id).status(), sync->id);
    ExpectSyncNotFound(store_->PutSyncFiles(sync->id, {NewFile(clock_, "c.jpg")}), sync->id);
  }
  EXPECT_THAT(WalkPages(10, [&](const PageRequest& r) { return store_->ListSyncs("", r); }),
              ElementsAre(kept.id));
  EXPECT_EQ(Describe(CountsOf(*store_, kept)), "discovered=1 ingested=1 failed=0 pending=0");

  // A bucket reborn under the name starts without syncs.
  Bucket reborn = MustCreate(NewBucket(doomed.namespace_id, "doomed"));
  EXPECT_THAT(WalkPages(10, [&](const PageRequest& r) { return store_->ListSyncs(reborn.id, r); }),
              IsEmpty());
}

TEST_P(MetadataStoreContractTest, ForceDeletingBucketDeletesItsSyncs) {
  Bucket bucket = MustCreateBucket("full");
  Sync sync = MustCreateSync(*store_, NewSync(clock_, bucket));
  MustPutFiles(*store_, sync, {NewFile(clock_, "a.jpg", "ingested")});
  MustPut(NewObject(bucket, "imports/2024/a.jpg", 1));

  EXPECT_EQ(store_->DeleteBucket(bucket.namespace_id, "full", false).code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(Describe(store_->GetSync("", sync.id).value_or(Sync{})), Describe(sync));
  EXPECT_EQ(CountsOf(*store_, sync).ingested, 1);

  ASSERT_TRUE(store_->DeleteBucket(bucket.namespace_id, "full", true).ok());
  ExpectSyncNotFound(store_->GetSync("", sync.id).status(), sync.id);
  ExpectSyncNotFound(store_->PutSyncFiles(sync.id, {NewFile(clock_, "b.jpg")}), sync.id);
  EXPECT_THAT(WalkPages(10, [&](const PageRequest& r) { return store_->ListSyncs("", r); }),
              IsEmpty());
}

TEST_P(MetadataStoreContractTest, DeletingNamespaceDeletesItsSyncs) {
  Bucket doomed = MustCreateBucket("doomed");
  Bucket kept = MustCreateBucket("kept");  // another namespace
  Sync gone = MustCreateSync(*store_, NewSync(clock_, doomed));
  Sync stays = MustCreateSync(*store_, NewSync(clock_, kept));
  MustPutFiles(*store_, gone, {NewFile(clock_, "a.jpg", "failed")});
  MustPutFiles(*store_, stays, {NewFile(clock_, "a.jpg", "failed")});
  MustPut(NewObject(doomed, "x", 1));

  ASSERT_TRUE(store_->DeleteNamespace(doomed.namespace_id).ok());
  ExpectSyncNotFound(store_->GetSync("", gone.id).status(), gone.id);
  ExpectSyncNotFound(store_->PutSyncFiles(gone.id, {NewFile(clock_, "b.jpg")}), gone.id);
  EXPECT_THAT(WalkPages(10, [&](const PageRequest& r) { return store_->ListSyncs("", r); }),
              ElementsAre(stays.id));
  EXPECT_EQ(Describe(CountsOf(*store_, stays)), "discovered=1 ingested=0 failed=1 pending=0");
}

TEST_P(MetadataStoreContractTest, PutSyncFilesCreatesAndReplacesRecords) {
  Bucket bucket = MustCreateBucket();
  Sync sync = MustCreateSync(*store_, NewSync(clock_, bucket));
  SyncFile a = NewFile(clock_, "dir/a.jpg", "pending", 1);
  SyncFile b = NewFile(clock_, "dir/b.jpg", "failed", 2);
  MustPutFiles(*store_, sync, {a, b});
  EXPECT_THAT(FilesOf(*store_, sync, {"dir/a.jpg", "dir/b.jpg"}),
              UnorderedElementsAreArray({Describe(a), Describe(b)}));

  // A record put again replaces every field of the earlier one.
  SyncFile a2 = NewFile(clock_, "dir/a.jpg", "failed", 7);
  a2.object_key = "elsewhere/a.jpg";
  SyncFile c = NewFile(clock_, "dir/c.jpg", "ingested", 3);
  MustPutFiles(*store_, sync, {a2, c});
  EXPECT_THAT(FilesOf(*store_, sync, {"dir/a.jpg", "dir/b.jpg", "dir/c.jpg"}),
              UnorderedElementsAreArray({Describe(a2), Describe(b), Describe(c)}));
  SyncFile a3 = a2;
  a3.state = "ingested";
  a3.error = "";
  a3.attempts = 0;
  a3.size = 0;
  a3.version = "";
  a3.object_key = "";
  MustPutFiles(*store_, sync, {a3});
  EXPECT_THAT(FilesOf(*store_, sync, {"dir/a.jpg"}), ElementsAre(Describe(a3)));
  EXPECT_EQ(Describe(CountsOf(*store_, sync)), "discovered=3 ingested=2 failed=1 pending=0");

  // An empty batch writes nothing.
  MustPutFiles(*store_, sync, {});
  EXPECT_EQ(CountsOf(*store_, sync).discovered, 3);
}

TEST_P(MetadataStoreContractTest, GetSyncFilesLeavesOutUnknownPaths) {
  Bucket bucket = MustCreateBucket();
  Sync sync = MustCreateSync(*store_, NewSync(clock_, bucket));
  Sync other = MustCreateSync(*store_, NewSync(clock_, bucket));
  // Paths that a pattern match or a case fold would confuse, and long and non-ASCII ones.
  std::vector<std::string> paths = {"a.jpg",         "A.JPG",
                                    "100%_done.png", "it's \"q\".gif",
                                    "back\\slash",   "caf\xc3\xa9/\xe5\x86\x99.jpg",
                                    "sp ace/x",      std::string(900, 'p')};
  std::vector<SyncFile> files;
  for (size_t i = 0; i < paths.size(); ++i) {
    files.push_back(NewFile(clock_, paths[i], i % 2 ? "failed" : "pending", static_cast<int>(i)));
  }
  MustPutFiles(*store_, sync, files);
  MustPutFiles(*store_, other, {NewFile(clock_, "only-other.jpg")});

  EXPECT_THAT(FilesOf(*store_, sync, paths), UnorderedElementsAreArray(Describe(files)));
  EXPECT_THAT(FilesOf(*store_, sync, {}), IsEmpty());
  EXPECT_THAT(FilesOf(*store_, sync, {"b.jpg", "only-other.jpg", "%", "a", "a.jp"}), IsEmpty());
  EXPECT_THAT(FilesOf(*store_, sync, {"nope", "100%_done.png", "also-nope"}),
              ElementsAre(Describe(files[2])));
  EXPECT_EQ(FilesOf(*store_, other, {"a.jpg", "only-other.jpg"}).size(), 1u);

  // At most 1000 paths.
  std::vector<std::string> many;
  for (int i = 0; i < 999; ++i) many.push_back(fmt::format("missing-{}", i));
  many.push_back("a.jpg");
  EXPECT_THAT(FilesOf(*store_, sync, many), ElementsAre(Describe(files[0])));
  many.push_back("A.JPG");
  auto too_many = store_->GetSyncFiles(sync.id, many);
  EXPECT_EQ(too_many.status().code(), StatusCode::kInvalidArgument) << too_many.status().ToString();
}

TEST_P(MetadataStoreContractTest, ListSyncFilesPagesInPathOrderWithAStateFilter) {
  Bucket bucket = MustCreateBucket();
  Sync sync = MustCreateSync(*store_, NewSync(clock_, bucket));
  Sync other = MustCreateSync(*store_, NewSync(clock_, bucket));
  const char* states[] = {"pending", "ingested", "failed"};
  std::vector<std::string> all, failed, ingested;
  // Put out of path order, over several calls.
  for (int batch = 0; batch < 3; ++batch) {
    std::vector<SyncFile> files;
    for (int i = 20; i >= 0; --i) {
      if (i % 3 != batch) continue;
      std::string path = fmt::format("dir{}/f{:03}.jpg", i % 2, i);
      const char* state = states[(i / 2) % 3];
      files.push_back(NewFile(clock_, path, state, i));
      all.push_back(path);
      if (std::string(state) == "failed") failed.push_back(path);
      if (std::string(state) == "ingested") ingested.push_back(path);
    }
    MustPutFiles(*store_, sync, files);
  }
  MustPutFiles(*store_, other, {NewFile(clock_, "dir0/f005.jpg", "failed")});
  for (auto* list : {&all, &failed, &ingested}) std::sort(list->begin(), list->end());
  ASSERT_FALSE(failed.empty());

  for (int limit : {1, 2, 3, 7, 21, 1000}) {
    SCOPED_TRACE(fmt::format("limit {}", limit));
    EXPECT_THAT(Paths(ListAllFiles(*store_, sync, "", limit)), ElementsAreArray(all));
    EXPECT_THAT(Paths(ListAllFiles(*store_, sync, "failed", limit)), ElementsAreArray(failed));
    EXPECT_THAT(Paths(ListAllFiles(*store_, sync, "ingested", limit)), ElementsAreArray(ingested));
  }
  EXPECT_THAT(Paths(ListAllFiles(*store_, sync, "no-such-state", 10)), IsEmpty());

  // Listed records are complete; after_path is a plain lower bound.
  auto page = store_->ListSyncFiles(sync.id, "", "dir0/f005", 2);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_THAT(FilesOf(*store_, sync, Paths(page->items)),
              UnorderedElementsAreArray(Describe(page->items)));
  ASSERT_EQ(page->items.size(), 2u);
  EXPECT_EQ(page->items[0].path, "dir0/f006.jpg");
  EXPECT_EQ(page->next_after_id, page->items[1].path);
  page = store_->ListSyncFiles(sync.id, "", all.back(), 5);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_THAT(page->items, IsEmpty());
  EXPECT_EQ(page->next_after_id, "");
  // A page that ends exactly at the last record says that none follow.
  page = store_->ListSyncFiles(sync.id, "", all[all.size() - 3], 2);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ(page->items.size(), 2u);
  EXPECT_EQ(page->next_after_id, "");
}

TEST_P(MetadataStoreContractTest, ListSyncFilesLimitOutsideOneToThousandIsInvalid) {
  Bucket bucket = MustCreateBucket();
  Sync sync = MustCreateSync(*store_, NewSync(clock_, bucket));
  MustPutFiles(*store_, sync, {NewFile(clock_, "a"), NewFile(clock_, "b", "failed")});
  for (int limit : {0, -1, 1001, 1 << 30}) {
    for (const char* state : {"", "failed"}) {
      EXPECT_EQ(store_->ListSyncFiles(sync.id, state, "", limit).status().code(),
                StatusCode::kInvalidArgument)
          << limit << " " << state;
    }
  }
  EXPECT_EQ(store_->ListSyncFiles(sync.id, "", "", 1).value_or(Page<SyncFile>{}).items.size(), 1u);
  EXPECT_EQ(store_->ListSyncFiles(sync.id, "", "", 1000).value_or(Page<SyncFile>{}).items.size(),
            2u);
}

TEST_P(MetadataStoreContractTest, CountSyncFilesCountsEachState) {
  Bucket bucket = MustCreateBucket();
  Sync sync = MustCreateSync(*store_, NewSync(clock_, bucket));
  Sync other = MustCreateSync(*store_, NewSync(clock_, bucket));
  EXPECT_EQ(Describe(CountsOf(*store_, sync)), Describe(SyncCounts{}));
  std::vector<SyncFile> files;
  for (int i = 0; i < 10; ++i) {
    files.push_back(NewFile(clock_, fmt::format("f{}", i),
                            i < 5   ? "ingested"
                            : i < 8 ? "failed"
                                    : "pending"));
  }
  MustPutFiles(*store_, sync, files);
  MustPutFiles(*store_, other, {NewFile(clock_, "f0", "failed")});
  EXPECT_EQ(Describe(CountsOf(*store_, sync)), "discovered=10 ingested=5 failed=3 pending=2");
  // A record that changes state moves between the counts; discovered stays.
  MustPutFiles(*store_, sync,
               {NewFile(clock_, "f9", "ingested"), NewFile(clock_, "f5", "pending")});
  EXPECT_EQ(Describe(CountsOf(*store_, sync)), "discovered=10 ingested=6 failed=2 pending=2");
  EXPECT_EQ(Describe(CountsOf(*store_, other)), "discovered=1 ingested=0 failed=1 pending=0");
}

TEST_P(MetadataStoreContractTest, RetrySyncFilesSetsEveryFailedRecordBackToPending) {
  Bucket bucket = MustCreateBucket();
  Sync sync = MustCreateSync(*store_, NewSync(clock_, bucket));
  Sync other = MustCreateSync(*store_, NewSync(clock_, bucket));
  std::vector<SyncFile> files = {NewFile(clock_, "a", "failed", 1), NewFile(clock_, "b", "pending"),
                                 NewFile(clock_, "c", "failed", 3),
                                 NewFile(clock_, "d", "ingested"),
                                 NewFile(clock_, "e", "failed", 5)};
  MustPutFiles(*store_, sync, files);
  MustPutFiles(*store_, other, {NewFile(clock_, "a", "failed")});

  auto retried = store_->RetrySyncFiles(sync.id, {});
  ASSERT_TRUE(retried.ok()) << retried.status().ToString();
  EXPECT_EQ(*retried, 3);
  EXPECT_EQ(Describe(CountsOf(*store_, sync)), "discovered=5 ingested=1 failed=0 pending=4");
  EXPECT_EQ(Describe(CountsOf(*store_, other)), "discovered=1 ingested=0 failed=1 pending=0");
  auto listed = ListAllFiles(*store_, sync, "", 10);
  ASSERT_EQ(listed.size(), files.size());
  for (size_t i = 0; i < files.size(); ++i) {
    SCOPED_TRACE(files[i].path);
    // Only the state is said to change: the source's version and the target stay.
    EXPECT_EQ(listed[i].path, files[i].path);
    EXPECT_EQ(listed[i].version, files[i].version);
    EXPECT_EQ(listed[i].size, files[i].size);
    EXPECT_EQ(listed[i].object_key, files[i].object_key);
    EXPECT_EQ(listed[i].state, files[i].state == "ingested" ? "ingested" : "pending");
  }
  EXPECT_EQ(store_->RetrySyncFiles(sync.id, {}).value_or(-1), 0);
}

TEST_P(MetadataStoreContractTest, RetrySyncFilesByPathChangesOnlyThoseFailed) {
  Bucket bucket = MustCreateBucket();
  Sync sync = MustCreateSync(*store_, NewSync(clock_, bucket));
  Sync other = MustCreateSync(*store_, NewSync(clock_, bucket));
  MustPutFiles(*store_, sync,
               {NewFile(clock_, "a", "failed"), NewFile(clock_, "b", "pending"),
                NewFile(clock_, "c", "ingested"), NewFile(clock_, "d", "failed"),
                NewFile(clock_, "e", "failed")});
  MustPutFiles(*store_, other, {NewFile(clock_, "a", "failed"), NewFile(clock_, "d", "failed")});

  // Given twice, pending, ingested, unknown: only the failed ones named count.
  auto retried = store_->RetrySyncFiles(sync.id, {"a", "a", "b", "c", "zz", "d"});
  ASSERT_TRUE(retried.ok()) << retried.status().ToString();
  EXPECT_EQ(*retried, 2);
  EXPECT_THAT(Paths(ListAllFiles(*store_, sync, "failed", 10)), ElementsAre("e"));
  EXPECT_THAT(Paths(ListAllFiles(*store_, sync, "pending", 10)), ElementsAre("a", "b", "d"));
  EXPECT_THAT(Paths(ListAllFiles(*store_, sync, "ingested", 10)), ElementsAre("c"));
  EXPECT_EQ(Describe(CountsOf(*store_, other)), "discovered=2 ingested=0 failed=2 pending=0");
  EXPECT_EQ(store_->RetrySyncFiles(sync.id, {"a", "d"}).value_or(-1), 0);

  // Any number of paths.
  std::vector<SyncFile> files;
  std::vector<std::string> paths;
  for (int i = 0; i < 2500; ++i) {
    std::string path = fmt::format("many/{:05}", i);
    files.push_back(NewFile(clock_, path, i % 5 == 0 ? "ingested" : "failed", i));
    if (i % 2 == 0) paths.push_back(path);
  }
  MustPutFiles(*store_, sync, files);
  EXPECT_EQ(store_->RetrySyncFiles(sync.id, paths).value_or(-1), 1000);  // even, not 0 mod 5
  EXPECT_EQ(Describe(CountsOf(*store_, sync)),
            "discovered=2505 ingested=501 failed=1001 pending=1003");
}

TEST_P(MetadataStoreContractTest, ConcurrentSyncFileWritesAreAllRecorded) {
  Bucket bucket = MustCreateBucket();
  Sync sync = MustCreateSync(*store_, NewSync(clock_, bucket));
  constexpr int kThreads = 8;
  constexpr int kBatches = 10;
  constexpr int kPerBatch = 10;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int b = 0; b < kBatches; ++b) {
        std::vector<SyncFile> files;
        for (int i = 0; i < kPerBatch; ++i) {
          SyncFile file;
          file.path = fmt::format("t{}/b{}/f{}", t, b, i);
          file.state = i % 2 ? "failed" : "ingested";
          files.push_back(file);
        }
        Status status = store_->PutSyncFiles(sync.id, files);
        EXPECT_TRUE(status.ok()) << status.ToString();
        EXPECT_TRUE(store_->CountSyncFiles(sync.id).ok());
        EXPECT_TRUE(store_->UpdateSync(sync.id, {.cursor = files.back().path}, 1).ok());
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  constexpr int kTotal = kThreads * kBatches * kPerBatch;
  EXPECT_EQ(Describe(CountsOf(*store_, sync)),
            Describe(SyncCounts{
                .discovered = kTotal, .ingested = kTotal / 2, .failed = kTotal / 2, .pending = 0}));
  EXPECT_EQ(ListAllFiles(*store_, sync, "", 1000).size(), size_t{kTotal});
  EXPECT_EQ(store_->RetrySyncFiles(sync.id, {}).value_or(-1), kTotal / 2);
}

TEST_P(MetadataStoreContractTest, SyncsAndFileRecordsSurviveReopening) {
  Bucket bucket = MustCreateBucket("durable");
  Sync sync = MustCreateSync(*store_, NewSync(clock_, bucket));
  SyncFile a = NewFile(clock_, "k\xc3\xa9y.jpg", "failed", 4);
  SyncFile b = NewFile(clock_, "z.jpg", "ingested", 5);
  MustPutFiles(*store_, sync, {a, b});
  ReopenStore();
  ASSERT_NE(store_, nullptr);
  EXPECT_EQ(Describe(store_->GetSync(bucket.namespace_id, sync.id).value_or(Sync{})),
            Describe(sync));
  EXPECT_THAT(Describe(ListAllFiles(*store_, sync, "", 10)), ElementsAre(Describe(a), Describe(b)));
  // Still writable after reopening.
  EXPECT_EQ(store_->RetrySyncFiles(sync.id, {a.path}).value_or(-1), 1);
  EXPECT_TRUE(store_->UpdateSync(sync.id, {.paused = true}, clock_.NowUs()).ok());
  EXPECT_TRUE(store_->GetSync("", sync.id).value_or(Sync{}).paused);
}

}  // namespace
}  // namespace argus::store
