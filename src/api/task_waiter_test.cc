#include "api/task_waiter.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

#include "tests/fakes/temp_sqlite_task_queue.h"

namespace argus::api {
namespace {

class TaskWaiterTest : public ::testing::Test {
 protected:
  store::Task Submit() {
    store::NewTask t;
    t.namespace_id = "ns";
    t.kind = "k";
    return queue_->Enqueue({t}, 0)->front().task;
  }
  void Finish(const std::string& id) {
    store::LeaseRequest req;
    req.worker_id = "w";
    auto leased = queue_->Lease(req);
    ASSERT_EQ(leased->size(), 1u);
    ASSERT_EQ(leased->front().id, id);
    ASSERT_TRUE(queue_->Complete(id, leased->front().lease_id, Json::object()).ok());
  }
  static auto In(int ms) {
    return std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  }

  TempSqliteTaskQueue queue_;
};

TEST_F(TaskWaiterTest, WakesWhenTheTaskFinishes) {
  TaskWaiter waiter(queue_.get(), queue_.bus());
  auto task = Submit();
  std::promise<bool> done;
  auto start = std::chrono::steady_clock::now();
  waiter.Wait("ns", task.id, In(5000), [&](bool terminal) { done.set_value(terminal); });
  Finish(task.id);
  auto f = done.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(3)), std::future_status::ready);
  EXPECT_TRUE(f.get());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
}

TEST_F(TaskWaiterTest, AnswersAtTheDeadlineWhenNothingHappens) {
  TaskWaiter waiter(queue_.get(), queue_.bus());
  auto task = Submit();
  std::promise<bool> done;
  auto start = std::chrono::steady_clock::now();
  waiter.Wait("ns", task.id, In(100), [&](bool terminal) { done.set_value(terminal); });
  EXPECT_FALSE(done.get_future().get());
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(95));
}

TEST_F(TaskWaiterTest, AlreadyFinishedAnswersAtOnce) {
  TaskWaiter waiter(queue_.get(), queue_.bus());
  auto task = Submit();
  Finish(task.id);
  bool terminal = false;
  waiter.Wait("ns", task.id, In(5000), [&](bool t) { terminal = t; });
  EXPECT_TRUE(terminal);
}

TEST_F(TaskWaiterTest, ShutdownAnswersEveryWaiterAndPoller) {
  TaskWaiter waiter(queue_.get(), queue_.bus());
  auto task = Submit();
  int answered = 0;
  waiter.Wait("ns", task.id, In(60000), [&](bool t) { answered += t ? 100 : 1; });
  waiter.Poll(In(60000), "", {}, [&](bool final) {
    if (final) ++answered;
    return TaskWaiter::PollResult{.done = final};
  });
  waiter.Shutdown();
  EXPECT_EQ(answered, 2);
  waiter.Wait("ns", task.id, In(60000), [&](bool) { ++answered; });  // refused: at once
  EXPECT_EQ(answered, 3);
}

// A long poll tries at once, then only when an event of its queues arrives: no polling.
TEST_F(TaskWaiterTest, PollTriesAgainOnEventsOfItsQueuesOnly) {
  std::atomic<int> calls{0};
  std::promise<int> done;
  TaskWaiter waiter(queue_.get(), queue_.bus());  // last: it goes first, with its pollers
  waiter.Poll(In(10000), "ns", {"gpu"}, [&](bool final) {
    const int n = ++calls;
    if (n < 3 && !final) return TaskWaiter::PollResult{};
    done.set_value(n);
    return TaskWaiter::PollResult{.done = true};
  });
  while (calls.load() < 1) std::this_thread::yield();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(calls.load(), 1) << "retried without an event";
  Submit();  // queue "cpu": not one of the poll's queues
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(calls.load(), 1) << "woken by another queue's event";
  store::NewTask t{.namespace_id = "ns", .kind = "k", .queue = "gpu"};
  ASSERT_TRUE(queue_->Enqueue({t}, 0).ok());
  while (calls.load() < 2) std::this_thread::yield();  // (events close together coalesce)
  ASSERT_TRUE(queue_->Enqueue({t}, 0).ok());
  auto f = done.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_EQ(f.get(), 3);
  EXPECT_EQ(waiter.AttemptsForTest(), 3);  // counted as each starts
}

// Nothing to take, but a task is scheduled: the poll tries again when it comes due.
TEST_F(TaskWaiterTest, PollTriesAgainAtItsRetryTime) {
  std::atomic<int> calls{0};
  std::promise<void> done;
  TaskWaiter waiter(queue_.get(), queue_.bus());
  const auto retry_at = In(150);
  waiter.Poll(In(10000), "", {}, [&](bool) {
    if (++calls == 1) return TaskWaiter::PollResult{.retry_at = retry_at};
    done.set_value();
    return TaskWaiter::PollResult{.done = true};
  });
  auto f = done.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_GE(std::chrono::steady_clock::now(), retry_at);
  EXPECT_EQ(calls.load(), 2);
}

}  // namespace
}  // namespace argus::api
