// TaskQueue conformance, part 3: what workers rely on when tasks take time. Leasing ahead only
// quick kinds and only after the free slots (so priorities hold), Start for a task leased ahead,
// lost leases that spend attempts, and crash recovery with poison-task protection. The fixture
// is task_queue_contract_test.h; the suite is instantiated in task_queue_contract_test.cc.

#include <gmock/gmock.h>

#include "tests/contract/task_queue_contract_test.h"

namespace argus::store {
namespace {

using ::testing::ElementsAre;

std::vector<std::string> Ids(const std::vector<Task>& tasks) {
  std::vector<std::string> ids;
  for (const Task& t : tasks) ids.push_back(t.id);
  return ids;
}

TEST_P(TaskQueueContractTest, LeaseAheadTakesQuickKindsAfterTheFreeSlotsAndStopsAtOthers) {
  Task a = MustEnqueue(MakeTask("slow"));
  Task b = MustEnqueue(MakeTask("quick"));
  Task c = MustEnqueue(MakeTask("quick"));
  Task d = MustEnqueue(MakeTask("slow"));
  MustEnqueue(MakeTask("quick"));
  std::vector<Task> leased = MustLease(
      {.worker_id = "w1", .max_tasks = 1, .prefetch = 10, .prefetch_kinds = {"quick"}});
  // a starts now; b and c are leased ahead; d may not be, so it ends the lease (the quick task
  // after it waits for its turn).
  EXPECT_THAT(Ids(leased), ElementsAre(a.id, b.id, c.id));
  ASSERT_EQ(leased.size(), 3u);
  EXPECT_EQ(leased[0].started_at, Now());
  for (const Task& ahead : {leased[1], leased[2]}) {
    EXPECT_EQ(ahead.status, TaskStatus::kRunning);
    EXPECT_FALSE(ahead.started_at.has_value());
    EXPECT_FALSE(MustGet(ahead.id).started_at.has_value());
    EXPECT_EQ(ahead.attempt, 1);
  }
  EXPECT_EQ(MustGet(d.id).status, TaskStatus::kPending);
}

TEST_P(TaskQueueContractTest, LeaseAheadIsCappedAndOffByDefault) {
  for (int i = 0; i < 6; ++i) MustEnqueue(MakeTask("quick"));
  EXPECT_EQ(MustLease({.worker_id = "w1", .max_tasks = 2}).size(), 2u);
  EXPECT_EQ(
      MustLease({.worker_id = "w1", .max_tasks = 1, .prefetch = 2, .prefetch_kinds = {"quick"}})
          .size(),
      3u);
  // A refill while every slot is busy: nothing to start now, quick tasks ahead only.
  std::vector<Task> refill = MustLease(
      {.worker_id = "w1", .max_tasks = 0, .prefetch = 5, .prefetch_kinds = {"quick"}});
  ASSERT_EQ(refill.size(), 1u);
  EXPECT_FALSE(refill[0].started_at.has_value());
  EXPECT_EQ(queue_->Lease({.worker_id = "w1", .max_tasks = 1, .prefetch = -1}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(queue_->Lease({.worker_id = "w1", .max_tasks = 0}).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_P(TaskQueueContractTest, StartGivesATaskLeasedAheadItsWholeLease) {
  MustEnqueue(MakeTask("quick"));
  Task ahead_task = MustEnqueue(MakeTask("quick"));
  std::vector<Task> leased = MustLease({.worker_id = "w1",
                                        .max_tasks = 1,
                                        .prefetch = 1,
                                        .prefetch_kinds = {"quick"},
                                        .lease_s = 30});
  ASSERT_EQ(leased.size(), 2u);
  const Task& ahead = leased[1];
  ASSERT_EQ(ahead.id, ahead_task.id);
  clock_.AdvanceUs(20 * kSecondUs);  // it waited in the worker
  auto started = queue_->Start(ahead.id, ahead.lease_id, 30);
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  EXPECT_EQ(started->started_at, Now());
  EXPECT_EQ(started->lease_expires_at, Now() + 30 * kSecondUs);
  clock_.AdvanceUs(29 * kSecondUs);  // 49 s after the lease, 29 s after the start
  EXPECT_EQ(queue_->Sweep(Now()).value_or(-1), 1);  // only the first task's lease ran out
  EXPECT_EQ(MustGet(ahead.id).status, TaskStatus::kRunning);
  EXPECT_EQ(queue_->Start(ahead.id, "not-the-lease", 30).status().code(), StatusCode::kAborted);
  EXPECT_EQ(queue_->Start("no-such-task", ahead.lease_id, 30).status().code(),
            StatusCode::kNotFound);
}

TEST_P(TaskQueueContractTest, CompletionRecordsWhenATaskLeasedAheadStarted) {
  MustEnqueue(MakeTask("quick"));
  MustEnqueue(MakeTask("quick"));
  std::vector<Task> leased = MustLease(
      {.worker_id = "w1", .max_tasks = 1, .prefetch = 1, .prefetch_kinds = {"quick"}});
  ASSERT_EQ(leased.size(), 2u);
  const TimestampUs leased_at = Now();
  clock_.AdvanceUs(5000);
  const TimestampUs started_at = Now();
  clock_.AdvanceUs(1000);
  auto done = queue_->CompleteMany(
      {{.id = leased[0].id, .lease_id = leased[0].lease_id, .result = Json::object()},
       {.id = leased[1].id,
        .lease_id = leased[1].lease_id,
        .result = Json::object(),
        .leased = &leased[1],
        .started_at = started_at}});
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_TRUE((*done)[0].ok());
  EXPECT_TRUE((*done)[1].ok());
  EXPECT_EQ(MustGet(leased[0].id).started_at, leased_at);  // started when leased: unchanged
  EXPECT_EQ(MustGet(leased[1].id).started_at, started_at);
  EXPECT_EQ(MustGet(leased[1].id).status, TaskStatus::kSucceeded);
}

TEST_P(TaskQueueContractTest, LostLeasesSpendAttemptsAndTheLastEndsTheTask) {
  NewTask request = MakeTask();
  request.retry.max_attempts = 2;
  Task task = MustEnqueue(request);
  MustLeaseOne("w1", 10);
  clock_.AdvanceUs(11 * kSecondUs);
  EXPECT_EQ(queue_->Sweep(Now()).value_or(-1), 1);
  EXPECT_EQ(MustGet(task.id).status, TaskStatus::kPending);
  Task second = MustLeaseOne("w2", 10);
  EXPECT_EQ(second.attempt, 2);
  clock_.AdvanceUs(11 * kSecondUs);
  EXPECT_EQ(queue_->Sweep(Now()).value_or(-1), 1);
  Task failed = MustGet(task.id);
  EXPECT_EQ(failed.status, TaskStatus::kFailed);
  EXPECT_EQ(ErrorCode(failed), "lease_expired");
  ASSERT_TRUE(failed.error.has_value());
  EXPECT_EQ(failed.error->attempt, 2);
  EXPECT_EQ(failed.finished_at, Now());
  EXPECT_TRUE(failed.lease_id.empty());
  EXPECT_THAT(EventTypesOf(task.id), ElementsAre("task.created", "task.started", "task.retrying",
                                                 "task.started", "task.failed"));
  EXPECT_TRUE(MustLease({.worker_id = "w3", .max_tasks = 10}).empty());
}

TEST_P(TaskQueueContractTest, RecoverWorkerCountsCrashesAndEndsAPoisonTask) {
  Task poison = MustEnqueue(MakeTask("crashy", 9));
  for (int crash = 1; crash <= 2; ++crash) {
    Task leased = MustLeaseOne("serve/cpu");
    ASSERT_EQ(leased.id, poison.id);
    auto recovered = queue_->RecoverWorker("serve/cpu", 2);
    ASSERT_TRUE(recovered.ok()) << recovered.status().ToString();
    EXPECT_EQ(*recovered, 1);
    Task back = MustGet(poison.id);
    EXPECT_EQ(back.status, TaskStatus::kPending) << "crash " << crash;
    EXPECT_EQ(back.crash_count, crash);
    EXPECT_EQ(back.attempt, 0);  // a crash is not the task's attempt
    EXPECT_TRUE(back.lease_id.empty());
  }
  Task third = MustLeaseOne("serve/cpu");
  EXPECT_EQ(queue_->RecoverWorker("serve/cpu", 2).value_or(-1), 1);
  Task failed = MustGet(poison.id);
  EXPECT_EQ(failed.status, TaskStatus::kFailed);
  EXPECT_EQ(ErrorCode(failed), "worker_crashed");
  EXPECT_EQ(failed.crash_count, 3);
  EXPECT_EQ(EventTypesOf(poison.id).back(), "task.failed");
  EXPECT_EQ(queue_->Complete(poison.id, third.lease_id, Json()).status().code(),
            StatusCode::kAborted);
}

TEST_P(TaskQueueContractTest, RecoverWorkerDoesNotCountTasksLeasedAheadOrOtherWorkers) {
  Task started = MustEnqueue(MakeTask("quick"));
  Task ahead = MustEnqueue(MakeTask("quick"));
  Task theirs = MustEnqueue(MakeTask("quick"));
  ASSERT_EQ(MustLease({.worker_id = "w1", .max_tasks = 1, .prefetch = 1,
                       .prefetch_kinds = {"quick"}})
                .size(),
            2u);
  MustLeaseOne("w2");
  EXPECT_EQ(queue_->RecoverWorker("w1", 0).value_or(-1), 2);
  // max_crash_attempts 0: the first crash ends a task that was running...
  EXPECT_EQ(MustGet(started.id).status, TaskStatus::kFailed);
  EXPECT_EQ(ErrorCode(MustGet(started.id)), "worker_crashed");
  // ...but a task only leased ahead never ran, so it goes back uncounted.
  Task back = MustGet(ahead.id);
  EXPECT_EQ(back.status, TaskStatus::kPending);
  EXPECT_EQ(back.crash_count, 0);
  EXPECT_EQ(back.attempt, 0);
  EXPECT_EQ(MustGet(theirs.id).status, TaskStatus::kRunning);
  EXPECT_EQ(queue_->RecoverWorker("w1", -1).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(queue_->RecoverWorker("", 3).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(queue_->RecoverWorker("nobody", 3).value_or(-1), 0);
}

}  // namespace
}  // namespace argus::store
