#include "engine/worker/worker_pool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <thread>

#include "core/id.h"
#include "store/sqlite/register.h"
#include "tests/fakes/fault_injecting_task_queue.h"

namespace argus::engine {
namespace {

class WorkerPoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path().string() + "/argus-wp-" + NewId();
    std::filesystem::create_directories(dir_);
    ASSERT_TRUE(store::sqlite::RegisterSqliteStores(registry_).ok());
    auto q = registry_.task_queue.Create("sqlite", {&config_, dir_, &SystemClock::Get()});
    ASSERT_TRUE(q.ok()) << q.status().ToString();
    queue_ = std::move(q).value();
    faulty_ = std::make_unique<store::FaultInjectingTaskQueue>(queue_.get());
    RegisterBuiltinKinds(kinds_);
    kinds_
        .Register({"test.fail", "fails with invalid_argument", Json::object(),
                   [](TaskContext&) -> Result<Json> { return InvalidArgumentError("bad input"); }})
        .IgnoreError();
    kinds_
        .Register({"test.flaky", "fails until its third attempt", Json::object(),
                   [](TaskContext& ctx) -> Result<Json> {
                     if (ctx.task().attempt < 3) return UnavailableError("not yet");
                     return Json{{"attempt", ctx.task().attempt}};
                   }})
        .IgnoreError();
    kinds_
        .Register({"test.throw", "throws from its handler", Json::object(),
                   [](TaskContext& ctx) -> Result<Json> {
                     if (ctx.task().input.value("odd", false)) throw 42;
                     throw std::runtime_error("handler bug");
                   }})
        .IgnoreError();
    options_.concurrency = {{"cpu", 2}};
    options_.sweep_interval_s = 0.02;
  }
  void TearDown() override {
    pool_.reset();
    faulty_.reset();
    queue_.reset();
    std::filesystem::remove_all(dir_);
  }
  void StartPool() {
    pool_ = std::make_unique<WorkerPool>(faulty_.get(), &kinds_, options_, &SystemClock::Get(),
                                         &metrics_);
    ASSERT_TRUE(pool_->Start().ok());
  }
  std::string Submit(const std::string& kind, Json input = Json::object(),
                     store::RetryPolicy retry = {}, int priority = 5) {
    store::NewTask t;
    t.namespace_id = "ns";
    t.kind = kind;
    t.input = std::move(input);
    t.retry = retry;
    t.priority = priority;
    auto r = queue_->Enqueue({t}, 0);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r->front().task.id;
  }
  store::Task WaitFor(const std::string& id, store::TaskStatus status, double seconds = 10) {
    auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    store::Task t;
    while (std::chrono::steady_clock::now() < until) {
      t = *queue_->Get("ns", id);
      if (t.status == status) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return t;
  }

  std::vector<store::Task> AllTasks() {
    auto page = queue_->List({.namespace_id = "ns"}, {.limit = 1000});
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    return page.ok() ? page->items : std::vector<store::Task>{};
  }
  int64_t CountWithStatus(store::TaskStatus status) {
    auto all = AllTasks();
    return std::count_if(all.begin(), all.end(),
                         [status](const store::Task& t) { return t.status == status; });
  }

  Config config_;
  std::string dir_;
  store::StoreRegistry registry_;
  std::unique_ptr<store::TaskQueue> queue_;
  std::unique_ptr<store::FaultInjectingTaskQueue> faulty_;
  TaskKindRegistry kinds_;
  WorkerPoolOptions options_;
  MetricsRegistry metrics_;
  std::unique_ptr<WorkerPool> pool_;
};

TEST_F(WorkerPoolTest, RunsTasksAndRecordsResults) {
  StartPool();
  std::vector<std::string> ids;
  for (int i = 0; i < 300; ++i) ids.push_back(Submit("noop"));
  std::string sleeper = Submit("sleep", {{"seconds", 0.05}});
  for (const auto& id : ids)
    EXPECT_EQ(WaitFor(id, store::TaskStatus::kSucceeded).status, store::TaskStatus::kSucceeded);
  auto s = WaitFor(sleeper, store::TaskStatus::kSucceeded);
  EXPECT_EQ(s.result["slept_s"], 0.05);
  EXPECT_EQ(s.worker_id, "serve/cpu");
  EXPECT_NE(metrics_.Render().find("argus_tasks_total{kind=\"noop\",status=\"succeeded\"} 300"),
            std::string::npos);
}

TEST_F(WorkerPoolTest, InvalidInputIsNotRetried) {
  StartPool();
  auto t = WaitFor(Submit("test.fail"), store::TaskStatus::kFailed);
  ASSERT_EQ(t.status, store::TaskStatus::kFailed);
  EXPECT_EQ(t.attempt, 1);
  ASSERT_TRUE(t.error.has_value());
  EXPECT_EQ(t.error->code, "invalid_argument");
}

TEST_F(WorkerPoolTest, TransientErrorsRetryWithBackoff) {
  StartPool();
  store::RetryPolicy retry;
  retry.initial_interval_s = 0.01;
  retry.max_attempts = 5;
  auto t = WaitFor(Submit("test.flaky", Json::object(), retry), store::TaskStatus::kSucceeded);
  ASSERT_EQ(t.status, store::TaskStatus::kSucceeded);
  EXPECT_EQ(t.attempt, 3);
  EXPECT_EQ(t.result["attempt"], 3);
}

TEST_F(WorkerPoolTest, CancelStopsARunningSleepWithinAHeartbeat) {
  StartPool();
  std::string id = Submit("sleep", {{"seconds", 60}});
  ASSERT_EQ(WaitFor(id, store::TaskStatus::kRunning).status, store::TaskStatus::kRunning);
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(queue_->Cancel("ns", id).ok());
  EXPECT_EQ(WaitFor(id, store::TaskStatus::kCancelled).status, store::TaskStatus::kCancelled);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

TEST_F(WorkerPoolTest, StopHandsBackUnfinishedWork) {
  StartPool();
  std::string id = Submit("sleep", {{"seconds", 60}});
  ASSERT_EQ(WaitFor(id, store::TaskStatus::kRunning).status, store::TaskStatus::kRunning);
  pool_->Stop(std::chrono::milliseconds(50));
  auto t = *queue_->Get("ns", id);
  EXPECT_EQ(t.status, store::TaskStatus::kPending);
  EXPECT_EQ(t.attempt, 0);  // handing back is not a failed attempt
}

TEST_F(WorkerPoolTest, StartRequeuesWhatACrashedRunHeld) {
  std::string id = Submit("sleep", {{"seconds", 0.01}});
  store::LeaseRequest lease;
  lease.worker_id = "serve/cpu/0";  // what an older version's worker 0 held when it crashed
  lease.max_tasks = 10;
  ASSERT_EQ(queue_->Lease(lease)->size(), 1u);
  StartPool();
  auto t = WaitFor(id, store::TaskStatus::kSucceeded);
  EXPECT_EQ(t.status, store::TaskStatus::kSucceeded);
  EXPECT_EQ(t.crash_count, 1);
}

// 8 tasks of 0.3 s on 2 slots with a 1 s lease. A worker that leased everything at once and
// ran it in turn (the old pool) let the later leases expire, so tasks ran twice, showed running
// all at once, and none was recorded before the batch ended.
TEST_F(WorkerPoolTest, SlowTasksRunOnceEachAndAreRecordedAsTheyFinish) {
  options_.lease_s = 1;
  for (int i = 0; i < 8; ++i) Submit("sleep", {{"seconds", 0.3}});
  StartPool();
  int64_t most_running = 0;
  bool succeeded_while_others_ran = false;
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (CountWithStatus(store::TaskStatus::kSucceeded) < 8 &&
         std::chrono::steady_clock::now() < until) {
    auto all = AllTasks();
    int64_t running = 0, succeeded = 0, waiting = 0;
    for (const auto& t : all) {
      running += t.status == store::TaskStatus::kRunning;
      succeeded += t.status == store::TaskStatus::kSucceeded;
      waiting += t.status == store::TaskStatus::kPending;
    }
    most_running = std::max(most_running, running);
    if (succeeded > 0 && running + waiting > 0) succeeded_while_others_ran = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  auto all = AllTasks();
  ASSERT_EQ(all.size(), 8u);
  for (const auto& t : all) {
    EXPECT_EQ(t.status, store::TaskStatus::kSucceeded) << t.id;
    EXPECT_EQ(t.attempt, 1) << t.id;
  }
  EXPECT_LE(most_running, 2) << "more tasks shown running than there are slots";
  EXPECT_TRUE(succeeded_while_others_ran);
}

// One slot, three slow low-priority tasks, then an urgent one: it runs next, not after the
// tasks a greedy worker would have leased already.
TEST_F(WorkerPoolTest, APriorityTaskOvertakesLowerOnesThatHaveNotStarted) {
  options_.concurrency = {{"cpu", 1}};
  std::vector<std::string> low;
  for (int i = 0; i < 3; ++i) low.push_back(Submit("sleep", {{"seconds", 0.2}}, {}, 1));
  StartPool();
  ASSERT_EQ(WaitFor(low[0], store::TaskStatus::kRunning).status, store::TaskStatus::kRunning);
  std::string urgent = Submit("sleep", {{"seconds", 0.01}}, {}, 9);
  for (const auto& id : low) WaitFor(id, store::TaskStatus::kSucceeded);
  auto u = WaitFor(urgent, store::TaskStatus::kSucceeded);
  ASSERT_TRUE(u.started_at.has_value());
  for (size_t i = 1; i < low.size(); ++i) {
    auto t = *queue_->Get("ns", low[i]);
    ASSERT_TRUE(t.started_at.has_value());
    EXPECT_LT(*u.started_at, *t.started_at) << "low-priority task " << i << " started first";
  }
}

// No-op tasks are leased ahead (a lease per batch, not per task), and each still records when
// it started.
TEST_F(WorkerPoolTest, QuickTasksAreLeasedAheadInBatches) {
  StartPool();
  // Teach the pool that noop is quick, then measure.
  WaitFor(Submit("noop"), store::TaskStatus::kSucceeded);
  for (int i = 0; i < 5; ++i) WaitFor(Submit("noop"), store::TaskStatus::kSucceeded);
  store::NewTask t;
  t.namespace_id = "ns";
  t.kind = "noop";
  std::vector<store::NewTask> batch(2000, t);
  auto enqueued = queue_->Enqueue(batch, 0);
  ASSERT_TRUE(enqueued.ok());
  const int64_t leases_before = faulty_->plan().Calls("Lease");
  auto last = WaitFor(enqueued->back().task.id, store::TaskStatus::kSucceeded);
  ASSERT_EQ(last.status, store::TaskStatus::kSucceeded);
  for (const auto& e : *enqueued) {
    auto done = WaitFor(e.task.id, store::TaskStatus::kSucceeded);
    ASSERT_EQ(done.status, store::TaskStatus::kSucceeded);
    ASSERT_TRUE(done.started_at.has_value());
    EXPECT_LE(*done.started_at, *done.finished_at);
  }
  EXPECT_LT(faulty_->plan().Calls("Lease") - leases_before, 200);
}

TEST_F(WorkerPoolTest, AHandlerThatThrowsFailsItsTaskAndThePoolGoesOn) {
  StartPool();
  store::RetryPolicy once;
  once.max_attempts = 1;
  auto threw = WaitFor(Submit("test.throw", Json::object(), once), store::TaskStatus::kFailed);
  ASSERT_EQ(threw.status, store::TaskStatus::kFailed);
  ASSERT_TRUE(threw.error.has_value());
  EXPECT_EQ(threw.error->code, "internal");
  EXPECT_NE(threw.error->message.find("handler bug"), std::string::npos);
  auto odd = WaitFor(Submit("test.throw", {{"odd", true}}, once), store::TaskStatus::kFailed);
  EXPECT_EQ(odd.status, store::TaskStatus::kFailed);
  EXPECT_EQ(WaitFor(Submit("noop"), store::TaskStatus::kSucceeded).status,
            store::TaskStatus::kSucceeded);
}

TEST_F(WorkerPoolTest, APoisonTaskThatKeptCrashingTheServerEndsFailed) {
  options_.max_crash_attempts = 1;
  std::string poison = Submit("sleep", {{"seconds", 0.01}});
  // Two previous runs died while running it (the first one is forgiven).
  for (int crash = 0; crash < 2; ++crash) {
    ASSERT_EQ(queue_->Lease({.worker_id = "serve/cpu", .max_tasks = 1})->size(), 1u);
    if (crash == 0) {
      ASSERT_EQ(queue_->RecoverWorker("serve/cpu", 1).value_or(-1), 1);
    }
  }
  StartPool();
  auto t = WaitFor(poison, store::TaskStatus::kFailed);
  ASSERT_EQ(t.status, store::TaskStatus::kFailed);
  EXPECT_EQ(t.error->code, "worker_crashed");
  EXPECT_EQ(t.crash_count, 2);
}

TEST_F(WorkerPoolTest, ACompletionWriteThatFailsRunsTheTaskAgainAfterItsLease) {
  options_.lease_s = 0.5;
  faulty_->plan().Fail("CompleteMany", UnavailableError("disk on fire"));
  StartPool();
  auto t = WaitFor(Submit("noop"), store::TaskStatus::kSucceeded);
  ASSERT_EQ(t.status, store::TaskStatus::kSucceeded);
  EXPECT_EQ(t.attempt, 2);  // the first completion was lost, its lease expired, it ran again
  EXPECT_EQ(faulty_->plan().Injected("CompleteMany"), 1);
}

TEST_F(WorkerPoolTest, LeaseErrorsAreSurvived) {
  faulty_->plan().Fail("Lease", UnavailableError("database locked"), 1, 3);
  StartPool();
  EXPECT_EQ(WaitFor(Submit("noop"), store::TaskStatus::kSucceeded).status,
            store::TaskStatus::kSucceeded);
  EXPECT_GE(faulty_->plan().Injected("Lease"), 3);
}

TEST_F(WorkerPoolTest, AFailureThatCannotBeRecordedRunsTheTaskAgainAfterItsLease) {
  options_.lease_s = 0.5;
  store::RetryPolicy retry;
  retry.initial_interval_s = 0.01;
  retry.max_attempts = 5;
  faulty_->plan().Fail("Fail", UnavailableError("disk on fire"));
  StartPool();
  auto t = WaitFor(Submit("test.flaky", Json::object(), retry), store::TaskStatus::kSucceeded);
  ASSERT_EQ(t.status, store::TaskStatus::kSucceeded);
  EXPECT_EQ(t.attempt, 3);  // attempt 1's failure was lost and its lease expired: it counts
  EXPECT_EQ(faulty_->plan().Injected("Fail"), 1);
}

}  // namespace
}  // namespace argus::engine
