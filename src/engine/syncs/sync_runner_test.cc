// The sync runner's failure paths, on the embedded stores users run (SQLite metadata, local
// blobs, the real "folder" source over a temporary directory of real files), each store behind
// its fault-injecting wrapper (tests/fakes/): a blob commit failing, a file that cannot be read,
// the source failing while listing or in the middle of a file, and file records that cannot be
// written. Each test checks what a user sees: which files became objects (every one with its
// bytes, none twice), the sync's records and last_error, and that a later run finishes the job.
#include "engine/syncs/sync_runner.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/crypto.h"
#include "core/id.h"
#include "store/localfs/register.h"
#include "store/sqlite/register.h"
#include "store/store_registry.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fault_injecting_blob_store.h"
#include "tests/fakes/fault_injecting_metadata_store.h"
#include "tests/fakes/fault_injecting_object_source.h"

namespace argus::engine {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kHourUs = 3'600'000'000;

// The stores in a fresh directory, a folder sync of `root_` into bucket "b" with the metadata,
// the blobs and every source the runner makes behind fault-injecting wrappers, and a runner over
// them. The clock stands an hour ahead of the files' (wall-clock) mtimes, so every file is
// stable. Runs are called directly, with a TaskContext whose heartbeats always succeed.
class SyncRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path().string() + "/argus-sync-runner-" + NewId();
    fs::create_directories(dir_ + "/data");
    fs::create_directories(dir_ + "/source");
    root_ = fs::canonical(dir_ + "/source").string();
    ASSERT_TRUE(store::sqlite::RegisterSqliteStores(registry_).ok());
    ASSERT_TRUE(store::localfs::RegisterLocalFsStores(registry_).ok());
    ASSERT_TRUE(store::FaultInjectingObjectSource::RegisterWrapped(
                    sources_, "folder", registry_.sources, "folder", &source_plan_)
                    .ok());
    const store::StoreArgs args{.config = &config_, .data_dir = dir_ + "/data", .clock = &clock_};
    auto metadata = registry_.metadata.Create("sqlite", args);
    ASSERT_TRUE(metadata.ok()) << metadata.status().ToString();
    sqlite_ = std::move(metadata).value();
    metadata_ = std::make_unique<store::FaultInjectingMetadataStore>(sqlite_.get());
    auto blobs = registry_.blobs.Create("local", args);
    ASSERT_TRUE(blobs.ok()) << blobs.status().ToString();
    local_ = std::move(blobs).value();
    blobs_ = std::make_unique<store::FaultInjectingBlobStore>(local_.get());
    ASSERT_TRUE(sqlite_->CreateNamespace({.id = NewId(), .name = "a"}).ok());
    auto ns = sqlite_->GetNamespaceByName("a");
    ASSERT_TRUE(ns.ok());
    auto bucket = sqlite_->CreateBucket({.id = NewId(), .namespace_id = ns->id, .name = "b"});
    ASSERT_TRUE(bucket.ok()) << bucket.status().ToString();
    bucket_ = *bucket;
    store::Sync sync;
    sync.id = NewId();
    sync.namespace_id = bucket_.namespace_id;
    sync.bucket_id = bucket_.id;
    sync.source_type = "folder";
    sync.source = {{"path", root_}};
    sync.created_at = sync.updated_at = clock_.NowUs();
    auto created = sqlite_->CreateSync(sync);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    sync_id_ = created->id;
    UsePageSize(500);
  }

  void TearDown() override {
    runner_.reset();
    metadata_.reset();
    sqlite_.reset();
    blobs_.reset();
    local_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void UsePageSize(int page_size) {
    runner_ = std::make_unique<SyncRunner>(
        metadata_.get(),
        domain::IngestContext{.buckets = metadata_.get(),
                              .references = metadata_.get(),
                              .blobs = blobs_.get(),
                              .clock = &clock_},
        &sources_, SyncRunOptions{.stable_s = 2, .page_size = page_size, .allowed_roots = {root_}});
  }

  void WriteFile(const std::string& path, const std::string& bytes) {
    std::ofstream(root_ + "/" + path, std::ios::binary) << bytes;
  }

  // One run of the sync, as the worker pool would start it.
  Result<Json> RunOnce() {
    store::Task task;
    task.id = NewId();
    task.namespace_id = bucket_.namespace_id;
    task.kind = kSyncRunKind;
    task.input = {{"sync_id", sync_id_}};
    TaskContext ctx(
        task, [&task](std::optional<double>, std::optional<std::string>) { return task; }, nullptr);
    return runner_->Run(ctx);
  }

  store::Sync Sync() {
    auto sync = sqlite_->GetSync(bucket_.namespace_id, sync_id_);
    EXPECT_TRUE(sync.ok()) << sync.status().ToString();
    return sync.ok() ? *sync : store::Sync{};
  }

  // The sync's record of `path`, if it has one.
  std::optional<store::SyncFile> Record(const std::string& path) {
    auto files = sqlite_->GetSyncFiles(sync_id_, {path});
    EXPECT_TRUE(files.ok()) << files.status().ToString();
    if (!files.ok() || files->empty()) return std::nullopt;
    return files->front();
  }

  // The state of the sync's record of `path` ("" when it has none).
  std::string State(const std::string& path) {
    auto rec = Record(path);
    return rec.has_value() ? rec->state : "";
  }

  // The bucket's objects by key, each checked to have its bytes in the blob store.
  std::map<std::string, store::StoredObject> Objects() {
    std::map<std::string, store::StoredObject> out;
    auto listed = sqlite_->ListObjects(bucket_.id, {.limit = 1000});
    EXPECT_TRUE(listed.ok()) << listed.status().ToString();
    if (!listed.ok()) return out;
    for (auto& o : listed->objects) {
      auto bytes = store::ReadWholeBlob(*local_, o.sha256, 64 << 20);
      EXPECT_TRUE(bytes.ok()) << "object " << o.key
                              << " has no bytes: " << bytes.status().ToString();
      if (bytes.ok()) {
        EXPECT_EQ(HexEncode(Sha256(*bytes)), o.sha256) << o.key;
      }
      out.emplace(o.key, std::move(o));
    }
    return out;
  }

  // The bytes of the object under `key` ("" when there is none).
  std::string Bytes(const std::string& key) {
    auto object = sqlite_->GetObject(bucket_.id, key);
    if (!object.ok()) return "";
    auto bytes = store::ReadWholeBlob(*local_, object->sha256, 64 << 20);
    return bytes.ok() ? *bytes : "";
  }

  Config config_;
  FakeClock clock_{SystemClock::Get().NowUs() + kHourUs};
  std::string dir_;
  std::string root_;
  store::StoreRegistry registry_;
  FaultPlan source_plan_;
  store::ObjectSourceRegistry sources_;
  std::unique_ptr<store::MetadataStore> sqlite_;
  std::unique_ptr<store::FaultInjectingMetadataStore> metadata_;
  std::unique_ptr<store::BlobStore> local_;
  std::unique_ptr<store::FaultInjectingBlobStore> blobs_;
  store::Bucket bucket_;
  std::string sync_id_;
  std::unique_ptr<SyncRunner> runner_;
};

// The blob store failing to commit one file's bytes (a full disk) is the store's failure, not the
// file's: the run stops with it as the sync's last_error, and the next run imports the file.
// The file before it, already an object, stays the same object (no second version).
TEST_F(SyncRunnerTest, BlobCommitFailureStopsTheRunAndTheNextRunImportsTheFile) {
  WriteFile("a.txt", "alpha");
  WriteFile("b.txt", "bravo");
  WriteFile("c.txt", "charlie");
  blobs_->plan().Fail("Commit", InternalError("cannot write a blob: No space left on device"),
                      /*first=*/2);  // b.txt's: files are taken in path order
  auto failed = RunOnce();
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), StatusCode::kInternal);
  EXPECT_EQ(blobs_->plan().Injected("Commit"), 1);
  store::Sync sync = Sync();
  EXPECT_NE(sync.last_error.find("No space left on device"), std::string::npos) << sync.last_error;
  EXPECT_EQ(sync.last_success_at, 0);
  EXPECT_EQ(sync.cursor, "") << "the cursor moved past a file that is not an object";
  auto before = Objects();
  ASSERT_EQ(before.size(), 1u);
  ASSERT_EQ(before.count("a.txt"), 1u);
  EXPECT_FALSE(Record("b.txt").has_value());

  auto report = RunOnce();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ((*report)["ingested"], 2) << report->dump();
  EXPECT_EQ((*report)["unchanged"], 1) << report->dump();
  EXPECT_EQ((*report)["failed"], 0) << report->dump();
  EXPECT_EQ((*report)["complete"], true);
  auto after = Objects();
  ASSERT_EQ(after.size(), 3u);
  EXPECT_EQ(after["a.txt"].id, before["a.txt"].id) << "a.txt was made an object twice";
  EXPECT_EQ(Bytes("b.txt"), "bravo");
  EXPECT_EQ(Bytes("c.txt"), "charlie");
  for (const char* path : {"a.txt", "b.txt", "c.txt"}) {
    auto rec = Record(path);
    ASSERT_TRUE(rec.has_value()) << path;
    EXPECT_EQ(rec->state, "ingested") << path;
  }
  sync = Sync();
  EXPECT_EQ(sync.last_error, "");
  EXPECT_GT(sync.last_success_at, 0);
}

// A file that cannot be read (an I/O error) is that file's failure: it is recorded with the
// error, the other files are imported, the run succeeds, and later runs leave the file alone
// until the user asks for a retry, after which it is imported.
TEST_F(SyncRunnerTest, UnreadableFileIsRecordedWithItsErrorAndImportedAfterARetry) {
  WriteFile("a.txt", "alpha");
  WriteFile("b.txt", "bravo");
  WriteFile("c.txt", "charlie");
  // A small file takes two reads (its bytes, then the end): the third read is b.txt's first.
  source_plan_.Fail("Read", InternalError("cannot read b.txt: Input/output error"), /*first=*/3);
  auto report = RunOnce();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(source_plan_.Injected("Read"), 1);
  EXPECT_EQ((*report)["ingested"], 2) << report->dump();
  EXPECT_EQ((*report)["failed"], 1) << report->dump();
  EXPECT_EQ((*report)["complete"], true);
  auto rec = Record("b.txt");
  ASSERT_TRUE(rec.has_value());
  EXPECT_EQ(rec->state, "failed");
  EXPECT_NE(rec->error.find("Input/output error"), std::string::npos) << rec->error;
  EXPECT_EQ(rec->attempts, 1);
  auto objects = Objects();
  EXPECT_EQ(objects.size(), 2u);
  EXPECT_EQ(objects.count("b.txt"), 0u);
  EXPECT_EQ(Bytes("a.txt"), "alpha");
  EXPECT_EQ(Bytes("c.txt"), "charlie");
  EXPECT_EQ(Sync().last_error, "") << "one file's failure is not the run's";

  // Unchanged, the failed file is not tried again on every run.
  const int64_t opens = source_plan_.Calls("Open");
  report = RunOnce();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(source_plan_.Calls("Open"), opens);
  EXPECT_EQ(State("b.txt"), "failed");

  auto retried = sqlite_->RetrySyncFiles(sync_id_, {"b.txt"});
  ASSERT_TRUE(retried.ok()) << retried.status().ToString();
  EXPECT_EQ(*retried, 1);
  report = RunOnce();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ((*report)["ingested"], 1) << report->dump();
  EXPECT_EQ((*report)["failed"], 0) << report->dump();
  EXPECT_EQ(Bytes("b.txt"), "bravo");
  rec = Record("b.txt");
  ASSERT_TRUE(rec.has_value());
  EXPECT_EQ(rec->state, "ingested");
  EXPECT_EQ(rec->error, "");
  EXPECT_EQ(Objects().size(), 3u);
}

// The source becoming unreachable between two pages: the run records the error on the sync and
// keeps what it finished (objects, records, the cursor after the first page); the next run goes
// on from the cursor, reading only the files the first did not, and completes the pass.
TEST_F(SyncRunnerTest, ListingFailureKeepsThePagesDoneAndTheNextRunResumes) {
  UsePageSize(2);
  const std::vector<std::string> paths = {"a.txt", "b.txt", "c.txt", "d.txt", "e.txt"};
  for (const auto& p : paths) WriteFile(p, "bytes of " + p);
  source_plan_.Fail("List", UnavailableError("the source cannot be reached"), /*first=*/2);
  auto failed = RunOnce();
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), StatusCode::kUnavailable);
  store::Sync sync = Sync();
  EXPECT_EQ(sync.last_error, "the source cannot be reached");
  EXPECT_NE(sync.cursor, "") << "the first page's progress was lost";
  auto objects = Objects();
  ASSERT_EQ(objects.size(), 2u);
  EXPECT_EQ(Bytes("a.txt"), "bytes of a.txt");
  EXPECT_EQ(Bytes("b.txt"), "bytes of b.txt");
  EXPECT_EQ(State("a.txt"), "ingested");
  EXPECT_EQ(State("b.txt"), "ingested");
  EXPECT_FALSE(Record("c.txt").has_value());

  const int64_t opens = source_plan_.Calls("Open");
  EXPECT_EQ(opens, 2);
  auto report = RunOnce();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ((*report)["listed"], 3) << report->dump();
  EXPECT_EQ((*report)["ingested"], 3) << report->dump();
  EXPECT_EQ((*report)["complete"], true);
  EXPECT_EQ(source_plan_.Calls("Open") - opens, 3) << "files of the pages done were read again";
  objects = Objects();
  EXPECT_EQ(objects.size(), paths.size());
  for (const auto& p : paths) EXPECT_EQ(Bytes(p), "bytes of " + p);
  sync = Sync();
  EXPECT_EQ(sync.last_error, "");
  EXPECT_EQ(sync.cursor, "") << "a completed pass starts the next one from the beginning";
}

// The source becoming unreachable in the middle of a file larger than one read: the bytes read so
// far never become an object and leave no temporary behind; the next run copies the whole file.
TEST_F(SyncRunnerTest, SourceLostInTheMiddleOfAFileLeavesNoPartialObject) {
  std::string big(3 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i * 7919 % 26);
  WriteFile("a.txt", "alpha");
  WriteFile("big.bin", big);
  // a.txt takes reads 1 and 2; big.bin's first megabyte is read 3, its second read 4.
  source_plan_.Fail("Read", UnavailableError("the source cannot be reached"), /*first=*/4);
  auto failed = RunOnce();
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(source_plan_.Injected("Read"), 1);
  EXPECT_EQ(Sync().last_error, "the source cannot be reached");
  auto objects = Objects();
  EXPECT_EQ(objects.size(), 1u);
  EXPECT_EQ(objects.count("big.bin"), 0u);
  auto stored = local_->List("", 100);
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  EXPECT_EQ(stored->size(), 1u) << "the part of big.bin that was read became a blob";
  auto temporaries = local_->CleanTemporary(SystemClock::Get().NowUs() + kHourUs);
  ASSERT_TRUE(temporaries.ok()) << temporaries.status().ToString();
  EXPECT_EQ(*temporaries, 0) << "the abandoned copy of big.bin was left behind";

  auto report = RunOnce();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ((*report)["ingested"], 1) << report->dump();
  EXPECT_EQ((*report)["unchanged"], 1) << report->dump();
  EXPECT_EQ(Objects().size(), 2u);
  EXPECT_TRUE(Bytes("big.bin") == big) << "big.bin was not copied whole";
  EXPECT_EQ(State("big.bin"), "ingested");
  EXPECT_EQ(Sync().last_error, "");
}

// The file records of a page cannot be written after its files became objects (the database is
// unreachable): the run fails with the error on the sync, and the cursor stays before the page
// (it moves only once the page's records are durable). The next run finds the objects already
// there and records them: no file becomes an object twice, none goes unrecorded.
TEST_F(SyncRunnerTest, UnwrittenRecordsDoNotMakeObjectsTwice) {
  UsePageSize(2);
  const std::vector<std::string> paths = {"a.txt", "b.txt", "c.txt"};
  for (const auto& p : paths) WriteFile(p, "bytes of " + p);
  metadata_->plan().Fail("PutSyncFiles", UnavailableError("the database cannot be reached"));
  auto failed = RunOnce();
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(metadata_->plan().Injected("PutSyncFiles"), 1);
  store::Sync sync = Sync();
  EXPECT_EQ(sync.last_error, "the database cannot be reached");
  EXPECT_EQ(sync.cursor, "") << "the cursor moved past files with no record";
  auto before = Objects();  // the first page's
  ASSERT_EQ(before.size(), 2u);
  for (const auto& p : paths) EXPECT_FALSE(Record(p).has_value()) << p;

  auto report = RunOnce();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ((*report)["ingested"], 1) << report->dump();
  EXPECT_EQ((*report)["unchanged"], 2) << report->dump();
  EXPECT_EQ((*report)["complete"], true);
  auto after = Objects();
  ASSERT_EQ(after.size(), paths.size());
  for (const auto& [key, object] : before) {
    EXPECT_EQ(after[key].id, object.id) << key << " was made an object twice";
  }
  for (const auto& p : paths) {
    EXPECT_EQ(Bytes(p), "bytes of " + p);
    EXPECT_EQ(State(p), "ingested") << p;
  }
  EXPECT_EQ(Sync().last_error, "");
}

}  // namespace
}  // namespace argus::engine
