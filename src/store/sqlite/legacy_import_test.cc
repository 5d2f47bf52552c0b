// Data directories of argus versions before metadata.db version 6/7 kept the task queue in
// tasks.db and the webhooks in webhooks.db. Opening any SQLite store imports them once.

#include "store/sqlite/legacy_import.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "store/sqlite/migrations.h"
#include "store/sqlite/sqlite_event_log.h"
#include "store/sqlite/sqlite_task_queue.h"
#include "store/sqlite/sqlite_webhook_store.h"
#include "store/sqlite/temp_dir_for_test.h"
#include "tests/fakes/fake_clock.h"

namespace argus::store::sqlite {
namespace {

class LegacyImportTest : public testing::Test {
 protected:
  // A tasks.db as an older argus left it: at legacy version 4 (before crash counts), one task
  // running, one finished, their events (seq 7..9, 3 purged before), a paused queue.
  void WriteLegacyTasksDb(int version = 4) {
    auto db = SqliteDatabase::Open(dir_.File("tasks.db"), {});
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    auto legacy = LegacyTaskQueueMigrations().subspan(0, version);
    ASSERT_TRUE(ApplyMigrations(**db, legacy, 1).ok());
    const std::string cols =
        "INSERT INTO tasks(id, namespace_id, kind, queue, priority, input, idempotency_key, "
        "status, attempt, retry_policy, schedule_to_start_s, start_to_close_s, heartbeat_s, "
        "progress, progress_message, result, parent_id, worker_id, lease_id, lease_expires_at, "
        "heartbeat_at, cancel_requested, created_at, updated_at, run_at, started_at, finished_at) "
        "VALUES ";
    const std::string retry =
        R"('{"initial_interval_s":1,"backoff_coefficient":2,"max_interval_s":60,"max_attempts":3,"non_retryable_codes":[]}')";
    ASSERT_TRUE(
        (*db)
            ->Exec(cols + "('t-run', 'ns', 'sleep', 'cpu', 5, '{}', '', 'running', 1, " + retry +
                       ", 0, 0, 0, 0.5, '', 'null', '', 'serve/cpu/0', 'L1', 99, 1, 0, "
                       "1, 1, 1, 1, NULL);" +
                       cols + "('t-done', 'ns', 'noop', 'io', 5, '{}', 'k1', 'succeeded', 1, " +
                       retry +
                       ", 0, 0, 0, 1, '', '{\"ok\":true}', '', '', '', 0, 0, 0, 1, 2, 1, "
                       "1, 2);"
                       "INSERT INTO task_events(seq, type, namespace_id, task_id, data, "
                       "created_at) VALUES (7, 'task.created', 'ns', 't-run', '{}', 1), "
                       "(8, 'task.started', 'ns', 't-run', '{}', 1), "
                       "(9, 'task.succeeded', 'ns', 't-done', '{}', 2);"
                       "UPDATE sqlite_sequence SET seq = 12 WHERE name = 'task_events';"
                       "INSERT INTO queue_state(queue, paused) VALUES ('io', 1);",
                   "legacy rows")
            .ok());
  }

  StoreArgs Args() { return {.config = &config_, .data_dir = dir_.path(), .clock = &clock_}; }

  TempDirForTest dir_;
  Config config_;
  FakeClock clock_{1'700'000'000'000'000};
};

TEST_F(LegacyImportTest, TasksEventsAndQueuesMoveIntoMetadataDbOnce) {
  WriteLegacyTasksDb();
  {
    auto queue = SqliteTaskQueue::Create(Args());
    ASSERT_TRUE(queue.ok()) << queue.status().ToString();
    auto log = SqliteEventLog::Create(Args());
    ASSERT_TRUE(log.ok());
    auto running = (*queue)->Get("ns", "t-run");
    ASSERT_TRUE(running.ok()) << running.status().ToString();
    EXPECT_EQ(running->status, TaskStatus::kRunning);
    EXPECT_EQ(running->worker_id, "serve/cpu/0");
    EXPECT_EQ(running->crash_count, 0);
    auto done = (*queue)->Get("ns", "t-done");
    ASSERT_TRUE(done.ok());
    EXPECT_EQ(done->result, Json({{"ok", true}}));
    EXPECT_EQ(done->idempotency_key, "k1");
    auto events = (*log)->Read(0, 100);
    ASSERT_TRUE(events.ok());
    ASSERT_EQ(events->size(), 3u);
    EXPECT_EQ((*events)[0].seq, 7);  // clients' resume cursors stay valid
    EXPECT_EQ((*events)[0].subject_id, "t-run");
    EXPECT_EQ((*events)[0].queue, "cpu");
    EXPECT_EQ((*events)[2].queue, "io");
    EXPECT_EQ((*log)->LastSeq().value_or(-1), 12);
    auto next = (*log)->Append({.type = "a.b", .data_json = "{}"});
    ASSERT_TRUE(next.ok());
    EXPECT_EQ(*next, 13);  // the sequence goes on, never reusing a purged seq
    auto stats = (*queue)->Stats("");
    ASSERT_TRUE(stats.ok());
    bool io_paused = false;
    for (const auto& q : *stats) io_paused = io_paused || (q.queue == "io" && q.paused);
    EXPECT_TRUE(io_paused);
  }
  EXPECT_FALSE(std::filesystem::exists(dir_.File("tasks.db")));
  EXPECT_TRUE(std::filesystem::exists(dir_.File("tasks.db.imported")));
  // A second start finds nothing to import and keeps what it has.
  auto queue = SqliteTaskQueue::Create(Args());
  ASSERT_TRUE(queue.ok());
  EXPECT_TRUE((*queue)->Get("ns", "t-run").ok());
}

// The import committed but the process died before the file was renamed: the next start sees
// the marker and only renames it (importing twice would fail on duplicate ids).
TEST_F(LegacyImportTest, AnImportedFileLeftBehindIsOnlyRenamed) {
  WriteLegacyTasksDb(5);
  std::filesystem::copy_file(dir_.File("tasks.db"), dir_.File("copy.db"));
  { ASSERT_TRUE(SqliteTaskQueue::Create(Args()).ok()); }
  std::filesystem::rename(dir_.File("copy.db"), dir_.File("tasks.db"));
  auto queue = SqliteTaskQueue::Create(Args());
  ASSERT_TRUE(queue.ok()) << queue.status().ToString();
  EXPECT_TRUE((*queue)->Get("ns", "t-done").ok());
  EXPECT_FALSE(std::filesystem::exists(dir_.File("tasks.db")));
  EXPECT_EQ(RawQuery(dir_.File("metadata.db"), "SELECT count(*) FROM tasks"), "2");
}

TEST_F(LegacyImportTest, WebhooksAndTheirCursorMoveIn) {
  {
    auto db = SqliteDatabase::Open(dir_.File("webhooks.db"), {});
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(ApplyMigrations(**db, LegacyWebhookMigrations(), 1).ok());
    ASSERT_TRUE((*db)
                    ->Exec("INSERT INTO webhooks VALUES ('w1', 'ns', 'http://127.0.0.1:9/h', "
                           "'', '[\"task.*\"]', 1, 'whsec_x', '', 0, 0, '', 1, 1);"
                           "UPDATE dispatch_cursor SET seq = 42 WHERE id = 1;",
                           "legacy webhooks")
                    .ok());
  }
  auto store = SqliteWebhookStore::Create(Args());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto hook = (*store)->GetWebhook("ns", "w1");
  ASSERT_TRUE(hook.ok()) << hook.status().ToString();
  EXPECT_EQ(hook->url, "http://127.0.0.1:9/h");
  EXPECT_EQ((*store)->DispatchCursor().value_or(-1), 42);
  EXPECT_TRUE(std::filesystem::exists(dir_.File("webhooks.db.imported")));
}

}  // namespace
}  // namespace argus::store::sqlite
