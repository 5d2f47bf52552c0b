#include "store/sqlite/sqlite_task_queue.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <thread>

#include "store/sqlite/migrations.h"
#include "store/sqlite/sqlite_event_log.h"
#include "store/sqlite/temp_dir_for_test.h"
#include "tests/fakes/fake_clock.h"

namespace argus::store::sqlite {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// The query plan of `sql` on a plain connection, one step per line.
std::string RawPlan(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  std::string out;
  auto collect = [](void* out, int columns, char** values, char**) {
    std::string* text = static_cast<std::string*>(out);
    text->append(values[columns - 1] ? values[columns - 1] : "").append("\n");
    return 0;
  };
  EXPECT_EQ(sqlite3_exec(db, ("EXPLAIN QUERY PLAN " + sql).c_str(), collect, &out, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  return out;
}

class SqliteTaskQueueTest : public testing::Test {
 protected:
  void SetUp() override { Open(); }

  void Open() {
    queue_.reset();
    log_.reset();
    const StoreArgs args{.config = &config_, .data_dir = dir_.path(), .clock = &clock_};
    auto created = SqliteTaskQueue::Create(args);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    queue_.reset(static_cast<SqliteTaskQueue*>(created->release()));
    auto log = SqliteEventLog::Create(args);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    log_ = std::move(log).value();
  }

  static NewTask MakeTask(int n = 0) {
    return {.namespace_id = "ns", .kind = "thumbnail", .queue = "cpu", .input = {{"n", n}}};
  }

  std::vector<Task> EnqueueMany(int count) {
    std::vector<NewTask> batch;
    for (int i = 0; i < count; ++i) batch.push_back(MakeTask(i));
    auto enqueued = queue_->Enqueue(batch, 0);
    EXPECT_TRUE(enqueued.ok()) << enqueued.status().ToString();
    std::vector<Task> tasks;
    if (enqueued.ok()) {
      for (auto& r : *enqueued) tasks.push_back(r.task);
    }
    return tasks;
  }

  std::vector<Task> LeaseAll(int count) {
    std::vector<Task> leased;
    while (static_cast<int>(leased.size()) < count) {
      auto batch = queue_->Lease({.worker_id = "w", .max_tasks = 1000});
      EXPECT_TRUE(batch.ok()) << batch.status().ToString();
      if (!batch.ok() || batch->empty()) break;
      leased.insert(leased.end(), batch->begin(), batch->end());
    }
    return leased;
  }

  std::string DbPath() const { return dir_.File("metadata.db"); }

  TempDirForTest dir_;
  Config config_;
  FakeClock clock_{1'700'000'000'000'000};
  std::unique_ptr<SqliteTaskQueue> queue_;
  std::unique_ptr<EventLog> log_;
};

TEST_F(SqliteTaskQueueTest, LivesInMetadataDbInWalMode) {
  EXPECT_TRUE(std::filesystem::exists(DbPath()));
  EXPECT_FALSE(std::filesystem::exists(dir_.File("tasks.db")));
  EXPECT_EQ(RawQuery(DbPath(), "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(RawQuery(DbPath(), "SELECT max(version) FROM schema_migrations"),
            std::to_string(MetadataMigrations().size()));
}

TEST_F(SqliteTaskQueueTest, MissingDataDirIsFailedPrecondition) {
  auto created = SqliteTaskQueue::Create(
      {.config = &config_, .data_dir = dir_.File("absent"), .clock = &clock_});
  EXPECT_EQ(created.status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(SqliteTaskQueueTest, TasksAndEventsSurviveReopen) {
  NewTask request = MakeTask(1);
  request.retry.non_retryable_codes = {"bad_input"};
  request.timeouts.heartbeat_s = 12.5;
  auto enqueued = queue_->Enqueue({request}, 0);
  ASSERT_TRUE(enqueued.ok());
  auto leased = queue_->Lease({.worker_id = "w1", .lease_s = 60});
  ASSERT_TRUE(leased.ok());
  ASSERT_EQ(leased->size(), 1u);
  auto seq = log_->LastSeq();
  ASSERT_TRUE(seq.ok());

  Open();
  auto task = queue_->Get("ns", leased->front().id);
  ASSERT_TRUE(task.ok()) << task.status().ToString();
  EXPECT_EQ(task->status, TaskStatus::kRunning);
  EXPECT_EQ(task->lease_id, leased->front().lease_id);
  EXPECT_EQ(task->retry.non_retryable_codes, std::vector<std::string>{"bad_input"});
  EXPECT_EQ(task->timeouts.heartbeat_s, 12.5);
  EXPECT_EQ(TaskToJson(*task), TaskToJson(leased->front()));
  EXPECT_EQ(log_->LastSeq().value_or(-1), *seq);
  EXPECT_TRUE(queue_->Complete(task->id, task->lease_id, Json{{"ok", true}}).ok());
}

TEST_F(SqliteTaskQueueTest, EventSeqIsNeverReusedAfterPurge) {
  EnqueueMany(3);
  const int64_t last = log_->LastSeq().value_or(-1);
  ASSERT_EQ(last, 3);
  clock_.AdvanceUs(1'000'000);
  ASSERT_TRUE(queue_->Purge(clock_.NowUs()).ok());
  ASSERT_TRUE(log_->Purge(clock_.NowUs()).ok());
  EXPECT_TRUE(log_->Read(0, 10).value_or(std::vector<Event>{{}}).empty());
  Open();  // AUTOINCREMENT remembers the highest seq in the file, not in memory
  EXPECT_EQ(log_->LastSeq().value_or(-1), last);
  EnqueueMany(1);
  auto events = log_->Read(0, 10);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ(events->front().seq, last + 1);
}

TEST_F(SqliteTaskQueueTest, BatchEnqueueIsOneTransaction) {
  const int64_t before = queue_->CommitCountForTest();
  const auto start = std::chrono::steady_clock::now();
  std::vector<Task> tasks = EnqueueMany(1000);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(tasks.size(), 1000u);
  EXPECT_EQ(queue_->CommitCountForTest() - before, 1);
  EXPECT_EQ(RawQuery(DbPath(), "SELECT count(*) FROM tasks"), "1000");
  EXPECT_EQ(RawQuery(DbPath(), "SELECT count(*) FROM events"), "1000");
  // Informational only: timing depends on the machine.
  std::cout << "enqueue of 1000 tasks: "
            << std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count() << " us\n";
}

TEST_F(SqliteTaskQueueTest, ConcurrentCompletesShareCommits) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 500;
  EnqueueMany(kThreads * kPerThread);
  std::vector<Task> leased = LeaseAll(kThreads * kPerThread);
  ASSERT_EQ(leased.size(), static_cast<size_t>(kThreads * kPerThread));

  const int64_t commits_before = queue_->CommitCountForTest();
  const int64_t calls_before = queue_->WriteCallCountForTest();
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  const auto start = std::chrono::steady_clock::now();
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t * kPerThread; i < (t + 1) * kPerThread; ++i) {
        if (!queue_->Complete(leased[i].id, leased[i].lease_id, Json{{"i", i}}).ok()) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(failures.load(), 0);
  const int64_t commits = queue_->CommitCountForTest() - commits_before;
  const int64_t calls = queue_->WriteCallCountForTest() - calls_before;
  EXPECT_EQ(calls, kThreads * kPerThread);
  // Eight callers keep the writer busy: most transactions carry several of them.
  EXPECT_LT(commits, calls / 2) << commits << " transactions for " << calls << " calls";
  EXPECT_EQ(RawQuery(DbPath(), "SELECT count(*) FROM tasks WHERE status = 'succeeded'"), "4000");
  std::cout << calls << " concurrent completes in " << commits << " transactions, "
            << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count() << " ms\n";
}

TEST_F(SqliteTaskQueueTest, InvalidTasksAreRefusedBeforeAnythingIsWritten) {
  auto bad = [&](auto mutate) {
    NewTask task = MakeTask();
    mutate(task);
    return queue_->Enqueue({MakeTask(), task}, 0).status();
  };
  EXPECT_EQ(bad([](NewTask& t) { t.priority = 10; }).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad([](NewTask& t) { t.kind.clear(); }).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad([](NewTask& t) { t.namespace_id.clear(); }).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad([](NewTask& t) { t.retry.max_attempts = 0; }).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad([](NewTask& t) { t.retry.initial_interval_s = NAN; }).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(bad([](NewTask& t) { t.timeouts.heartbeat_s = -1; }).code(),
            StatusCode::kInvalidArgument);
  Status utf8 = bad([](NewTask& t) { t.input = {{"s", std::string("\xff\xfe")}}; });
  EXPECT_EQ(utf8.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(utf8.message(), HasSubstr("task 1 of the batch"));
  EXPECT_EQ(RawQuery(DbPath(), "SELECT count(*) FROM tasks"), "0");
}

TEST_F(SqliteTaskQueueTest, InvalidCallArgumentsAreRefused) {
  EXPECT_EQ(queue_->Lease({.worker_id = ""}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(queue_->Lease({.worker_id = "w", .max_tasks = 0}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(log_->Read(0, 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(queue_->List({.namespace_id = ""}, {}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(queue_->SetKindLimits("k", {.max_running = -1}).code(), StatusCode::kInvalidArgument);
  Task task = EnqueueMany(1).front();
  auto leased = queue_->Lease({.worker_id = "w"});
  ASSERT_TRUE(leased.ok());
  ASSERT_EQ(leased->size(), 1u);
  EXPECT_EQ(
      queue_->Heartbeat(task.id, leased->front().lease_id, 10, 1.5, std::nullopt).status().code(),
      StatusCode::kInvalidArgument);
  EXPECT_EQ(queue_->Complete(task.id, leased->front().lease_id, Json(std::string("\xff")))
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(queue_->Get("ns", task.id)->status, TaskStatus::kRunning);
}

TEST_F(SqliteTaskQueueTest, NamespaceCapCountIsRightAfterARolledBackBatch) {
  // The cap is checked against an in-memory count: a refused batch must not leave it inflated.
  ASSERT_TRUE(queue_->Enqueue({MakeTask(), MakeTask()}, 3).ok());
  EXPECT_EQ(queue_->Enqueue({MakeTask(), MakeTask()}, 3).status().code(),
            StatusCode::kResourceExhausted);
  EXPECT_TRUE(queue_->Enqueue({MakeTask()}, 3).ok());
  EXPECT_EQ(queue_->Enqueue({MakeTask()}, 3).status().code(), StatusCode::kResourceExhausted);
  auto leased = queue_->Lease({.worker_id = "w", .max_tasks = 2});
  ASSERT_TRUE(leased.ok());
  ASSERT_EQ(leased->size(), 2u);
  EXPECT_TRUE(queue_->Enqueue({MakeTask(), MakeTask()}, 3).ok());
}

TEST_F(SqliteTaskQueueTest, LeaseReadsPendingTasksInOrderFromAnIndex) {
  const std::string filters =
      " AND ('[]' = '[]' OR kind IN (SELECT value FROM json_each('[]'))) AND kind NOT IN "
      "(SELECT value FROM json_each('[]')) ORDER BY priority DESC, id LIMIT 10";
  std::string any = "SELECT id FROM tasks WHERE status = 'pending' AND queue = 'cpu'";
  const std::string plan = RawPlan(DbPath(), any.append(filters));
  EXPECT_THAT(plan, HasSubstr("tasks_ready "));
  EXPECT_THAT(plan, Not(HasSubstr("TEMP B-TREE")));
  std::string one =
      "SELECT id FROM tasks WHERE namespace_id = 'ns' AND status = 'pending' AND queue = 'cpu'";
  const std::string in_namespace = RawPlan(DbPath(), one.append(filters));
  EXPECT_THAT(in_namespace, HasSubstr("tasks_ready_in_namespace"));
  EXPECT_THAT(in_namespace, Not(HasSubstr("TEMP B-TREE")));
}

}  // namespace
}  // namespace argus::store::sqlite
