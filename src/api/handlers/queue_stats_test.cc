#include "api/handlers/queue_stats.h"

#include <gtest/gtest.h>

#include "tests/fakes/temp_sqlite_task_queue.h"

namespace argus::api {
namespace {

class NamespaceQueueStatsTest : public ::testing::Test {
 protected:
  void Submit(const std::string& ns, const std::string& queue, int n) {
    store::NewTask t;
    t.namespace_id = ns;
    t.kind = "k";
    t.queue = queue;
    ASSERT_TRUE(queue_->Enqueue(std::vector<store::NewTask>(n, t), 0).ok());
  }

  TempSqliteTaskQueue queue_;
};

TEST_F(NamespaceQueueStatsTest, CountsOnlyTheNamespacesOwnTasksAndQueues) {
  Submit("a", "cpu", 3);
  Submit("b", "cpu", 7);
  Submit("b", "secret-queue", 2);
  auto stats = NamespaceQueueStats(*queue_, "a", SystemClock::Get().NowUs());
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  ASSERT_EQ(stats->size(), 1u);
  EXPECT_EQ((*stats)[0].queue, "cpu");
  EXPECT_EQ((*stats)[0].pending, 3);
  EXPECT_EQ((*stats)[0].running, 0);
  auto none = NamespaceQueueStats(*queue_, "c", SystemClock::Get().NowUs());
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_F(NamespaceQueueStatsTest, CountsPastOnePageAndRunningTasksAndPausedQueues) {
  Submit("a", "cpu", 1500);
  store::LeaseRequest lease;
  lease.worker_id = "w";
  lease.max_tasks = 2;
  ASSERT_EQ(queue_->Lease(lease)->size(), 2u);
  ASSERT_TRUE(queue_->SetQueuePaused("cpu", true).ok());
  auto stats = NamespaceQueueStats(*queue_, "a", SystemClock::Get().NowUs());
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  ASSERT_EQ(stats->size(), 1u);
  EXPECT_EQ((*stats)[0].pending, 1498);
  EXPECT_EQ((*stats)[0].running, 2);
  EXPECT_TRUE((*stats)[0].paused);
  EXPECT_GE((*stats)[0].oldest_pending_s, 0);
}

}  // namespace
}  // namespace argus::api
