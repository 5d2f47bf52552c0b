#include "engine/worker/worker_pool.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "core/id.h"
#include "store/sqlite/register.h"

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
    options_.concurrency = {{"cpu", 2}};
    options_.sweep_interval_s = 0.02;
  }
  void TearDown() override {
    pool_.reset();
    queue_.reset();
    std::filesystem::remove_all(dir_);
  }
  void StartPool() {
    pool_ = std::make_unique<WorkerPool>(queue_.get(), &kinds_, options_, &SystemClock::Get(),
                                         &metrics_);
    ASSERT_TRUE(pool_->Start().ok());
  }
  std::string Submit(const std::string& kind, Json input = Json::object(),
                     store::RetryPolicy retry = {}) {
    store::NewTask t;
    t.namespace_id = "ns";
    t.kind = kind;
    t.input = std::move(input);
    t.retry = retry;
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

  Config config_;
  std::string dir_;
  store::StoreRegistry registry_;
  std::unique_ptr<store::TaskQueue> queue_;
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
  EXPECT_EQ(s.worker_id.rfind("serve/cpu/", 0), 0u);
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
  lease.worker_id = "serve/cpu/0";  // what the crashed run's worker 0 held
  lease.max_tasks = 10;
  ASSERT_EQ(queue_->Lease(lease)->size(), 1u);
  StartPool();
  EXPECT_EQ(WaitFor(id, store::TaskStatus::kSucceeded).status, store::TaskStatus::kSucceeded);
}

}  // namespace
}  // namespace argus::engine
