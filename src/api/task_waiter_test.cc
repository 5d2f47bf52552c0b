#include "api/task_waiter.h"

#include <gtest/gtest.h>

#include <future>

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
  TaskWaiter waiter(queue_.get());
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
  TaskWaiter waiter(queue_.get());
  auto task = Submit();
  std::promise<bool> done;
  auto start = std::chrono::steady_clock::now();
  waiter.Wait("ns", task.id, In(100), [&](bool terminal) { done.set_value(terminal); });
  EXPECT_FALSE(done.get_future().get());
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(95));
}

TEST_F(TaskWaiterTest, AlreadyFinishedAnswersAtOnce) {
  TaskWaiter waiter(queue_.get());
  auto task = Submit();
  Finish(task.id);
  bool terminal = false;
  waiter.Wait("ns", task.id, In(5000), [&](bool t) { terminal = t; });
  EXPECT_TRUE(terminal);
}

TEST_F(TaskWaiterTest, ShutdownAnswersEveryWaiterAndPoller) {
  TaskWaiter waiter(queue_.get());
  auto task = Submit();
  int answered = 0;
  waiter.Wait("ns", task.id, In(60000), [&](bool t) { answered += t ? 100 : 1; });
  waiter.Poll(In(60000), [&](bool final) {
    if (final) ++answered;
    return final;
  });
  waiter.Shutdown();
  EXPECT_EQ(answered, 2);
  waiter.Wait("ns", task.id, In(60000), [&](bool) { ++answered; });  // refused: at once
  EXPECT_EQ(answered, 3);
}

TEST_F(TaskWaiterTest, PollRetriesUntilSatisfied) {
  TaskWaiter waiter(queue_.get());
  std::atomic<int> calls{0};
  std::promise<int> done;
  waiter.Poll(In(5000), [&](bool) {
    if (++calls < 3) return false;
    done.set_value(calls.load());
    return true;
  });
  EXPECT_EQ(done.get_future().get(), 3);
}

}  // namespace
}  // namespace argus::api
