// TaskQueue conformance, part 2: cancel, retry, sweep (lease expiry and the three timeouts),
// ReleaseWorker, Stats, the event outbox and Purge. The fixture is task_queue_contract_test.h;
// the suite is instantiated in task_queue_contract_test.cc.

#include <gmock/gmock.h>

#include <algorithm>

#include "core/id.h"
#include "tests/contract/task_queue_contract_test.h"

namespace argus::store {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST_P(TaskQueueContractTest, CancelOfWaitingTaskCancelsAtOnce) {
  Task pending = MustEnqueue(MakeTask());
  NewTask later = MakeTask();
  later.run_at = Now() + 60 * kSecondUs;
  Task scheduled = MustEnqueue(later);
  for (const Task& task : {pending, scheduled}) {
    auto cancelled = queue_->Cancel("ns1", task.id);
    ASSERT_TRUE(cancelled.ok()) << cancelled.status().ToString();
    EXPECT_EQ(cancelled->status, TaskStatus::kCancelled);
    EXPECT_EQ(cancelled->finished_at, Now());
    EXPECT_EQ(MustGet(task.id).status, TaskStatus::kCancelled);
  }
  clock_.AdvanceUs(120 * kSecondUs);
  EXPECT_THAT(MustLease({.worker_id = "w1", .max_tasks = 10}), IsEmpty());
}

TEST_P(TaskQueueContractTest, CancelOfRunningTaskAsksTheWorkerWhoseFailCancels) {
  Task task = MustEnqueue(MakeTask());
  Task leased = MustLeaseOne();
  auto requested = queue_->Cancel("ns1", task.id);
  ASSERT_TRUE(requested.ok()) << requested.status().ToString();
  EXPECT_EQ(requested->status, TaskStatus::kRunning);
  EXPECT_TRUE(requested->cancel_requested);
  EXPECT_TRUE(queue_->Cancel("ns1", task.id).ok());  // asking twice is fine

  auto beat = queue_->Heartbeat(task.id, leased.lease_id, 30, 0.3, std::nullopt);
  ASSERT_TRUE(beat.ok());
  EXPECT_TRUE(beat->cancel_requested);
  // The worker stops and reports it; a retryable error does not bring the task back.
  auto ended = queue_->Fail(task.id, leased.lease_id, {.code = "cancelled"}, true);
  ASSERT_TRUE(ended.ok()) << ended.status().ToString();
  EXPECT_EQ(ended->status, TaskStatus::kCancelled);
  EXPECT_EQ(ended->finished_at, Now());
  EXPECT_EQ(MustGet(task.id).status, TaskStatus::kCancelled);
}

TEST_P(TaskQueueContractTest, CancelOfFinishedTaskIsFailedPrecondition) {
  Task done = MustEnqueue(MakeTask());
  Task leased = MustLeaseOne();
  ASSERT_TRUE(queue_->Complete(done.id, leased.lease_id, Json()).ok());
  EXPECT_EQ(queue_->Cancel("ns1", done.id).status().code(), StatusCode::kFailedPrecondition);
  Task cancelled = MustEnqueue(MakeTask());
  ASSERT_TRUE(queue_->Cancel("ns1", cancelled.id).ok());
  EXPECT_EQ(queue_->Cancel("ns1", cancelled.id).status().code(), StatusCode::kFailedPrecondition);
  Task other = MustEnqueue(MakeTask());
  EXPECT_EQ(queue_->Cancel("ns2", other.id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(queue_->Cancel("ns1", NewId(clock_)).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(MustGet(other.id).status, TaskStatus::kPending);
}

TEST_P(TaskQueueContractTest, CancelMatchingCancelsTheLiveTasksOfTheFilter) {
  Task ocr_running = MustEnqueue(MakeTask("ocr", 9));
  ASSERT_EQ(MustLeaseOne().id, ocr_running.id);
  Task ocr_done = MustEnqueue(MakeTask("ocr", 9));
  Task leased = MustLeaseOne();
  ASSERT_TRUE(queue_->Complete(ocr_done.id, leased.lease_id, Json()).ok());
  Task ocr_a = MustEnqueue(MakeTask("ocr"));
  NewTask later = MakeTask("ocr");
  later.run_at = Now() + 60 * kSecondUs;
  Task ocr_scheduled = MustEnqueue(later);
  Task thumb = MustEnqueue(MakeTask("thumbnail"));
  NewTask foreign = MakeTask("ocr");
  foreign.namespace_id = "ns2";
  Task other_ns = MustEnqueue(foreign);

  auto count = queue_->CancelMatching({.namespace_id = "ns1", .kind = "ocr"});
  ASSERT_TRUE(count.ok()) << count.status().ToString();
  EXPECT_EQ(*count, 3);
  EXPECT_EQ(MustGet(ocr_a.id).status, TaskStatus::kCancelled);
  EXPECT_EQ(MustGet(ocr_scheduled.id).status, TaskStatus::kCancelled);
  EXPECT_TRUE(MustGet(ocr_running.id).cancel_requested);
  EXPECT_EQ(MustGet(ocr_running.id).status, TaskStatus::kRunning);
  EXPECT_EQ(MustGet(ocr_done.id).status, TaskStatus::kSucceeded);
  EXPECT_EQ(MustGet(thumb.id).status, TaskStatus::kPending);
  EXPECT_EQ(MustGet(other_ns.id, "ns2").status, TaskStatus::kPending);
}

TEST_P(TaskQueueContractTest, RetryBringsFailedOrCancelledTaskBackWithFreshAttempts) {
  NewTask request = MakeTask();
  request.retry.max_attempts = 1;
  Task task = MustEnqueue(request);
  Task leased = MustLeaseOne();
  ASSERT_TRUE(queue_->Fail(task.id, leased.lease_id, {.code = "io", .message = "m"}, true).ok());
  clock_.AdvanceUs(7 * kSecondUs);

  auto retried = queue_->Retry("ns1", task.id);
  ASSERT_TRUE(retried.ok()) << retried.status().ToString();
  EXPECT_EQ(retried->status, TaskStatus::kPending);
  EXPECT_EQ(retried->attempt, 0);
  EXPECT_EQ(retried->run_at, Now());
  EXPECT_FALSE(retried->finished_at.has_value());
  ASSERT_TRUE(retried->error.has_value());  // kept until the next run ends
  EXPECT_EQ(retried->error->code, "io");
  EXPECT_EQ(queue_->Retry("ns1", task.id).status().code(), StatusCode::kFailedPrecondition);
  Task again = MustLeaseOne();
  EXPECT_EQ(again.id, task.id);
  EXPECT_EQ(again.attempt, 1);
  ASSERT_TRUE(queue_->Cancel("ns1", task.id).ok());
  EXPECT_EQ(queue_->Retry("ns1", task.id).status().code(), StatusCode::kFailedPrecondition);

  ASSERT_TRUE(queue_->Fail(task.id, again.lease_id, {.code = "stopped"}, true).ok());
  ASSERT_EQ(MustGet(task.id).status, TaskStatus::kCancelled);
  auto revived = queue_->Retry("ns1", task.id);
  ASSERT_TRUE(revived.ok());
  EXPECT_EQ(revived->status, TaskStatus::kPending);
  EXPECT_FALSE(revived->cancel_requested);
  EXPECT_EQ(queue_->Retry("ns2", task.id).status().code(), StatusCode::kNotFound);
}

TEST_P(TaskQueueContractTest, ExpiredLeaseReturnsToPendingWithoutFailingTheAttempt) {
  Task task = MustEnqueue(MakeTask());
  Task leased = MustLeaseOne("w1", 30);
  clock_.AdvanceUs(30 * kSecondUs - 1);
  EXPECT_EQ(queue_->Sweep(Now()).value_or(-1), 0);
  clock_.AdvanceUs(2);
  EXPECT_EQ(queue_->Sweep(Now()).value_or(-1), 1);
  Task back = MustGet(task.id);
  EXPECT_EQ(back.status, TaskStatus::kPending);
  EXPECT_EQ(back.attempt, 1);
  EXPECT_FALSE(back.error.has_value());
  EXPECT_TRUE(back.lease_id.empty());
  EXPECT_EQ(MustLeaseOne("w2").attempt, 2);
}

TEST_P(TaskQueueContractTest, SweepFailsAnAttemptThatRunsTooLong) {
  NewTask request = MakeTask();
  request.timeouts.start_to_close_s = 10;
  request.retry.max_attempts = 2;
  Task task = MustEnqueue(request);
  Task first = MustLeaseOne("w1", 100);
  clock_.AdvanceUs(10 * kSecondUs);
  EXPECT_EQ(queue_->Sweep(Now()).value_or(-1), 0);
  clock_.AdvanceUs(1);
  EXPECT_EQ(queue_->Sweep(Now()).value_or(-1), 1);
  Task retrying = MustGet(task.id);
  EXPECT_EQ(retrying.status, TaskStatus::kScheduled);
  ASSERT_TRUE(retrying.error.has_value());
  EXPECT_EQ(retrying.error->code, "timeout");
  EXPECT_EQ(retrying.error->attempt, 1);
  EXPECT_EQ(queue_->Complete(task.id, first.lease_id, Json()).status().code(),
            StatusCode::kAborted);

  clock_.AdvanceUs(retrying.run_at - Now());
  Task second = MustLeaseOne("w1", 100);
  EXPECT_EQ(second.attempt, 2);
  clock_.AdvanceUs(11 * kSecondUs);
  EXPECT_EQ(queue_->Sweep(Now()).value_or(-1), 1);
  EXPECT_EQ(MustGet(task.id).status, TaskStatus::kFailed);
  EXPECT_EQ(ErrorCode(MustGet(task.id)), "timeout");
}

TEST_P(TaskQueueContractTest, SweepFailsAnAttemptWithoutHeartbeats) {
  NewTask request = MakeTask();
  request.timeouts.heartbeat_s = 5;
  request.retry.max_attempts = 1;
  Task task = MustEnqueue(request);
  Task leased = MustLeaseOne("w1", 100);
  clock_.AdvanceUs(4 * kSecondUs);
  ASSERT_TRUE(queue_->Heartbeat(task.id, leased.lease_id, 100, {}, {}).ok());
  clock_.AdvanceUs(4 * kSecondUs);  // 8 s since the lease, 4 s since the heartbeat
  EXPECT_EQ(queue_->Sweep(Now()).value_or(-1), 0);
  clock_.AdvanceUs(2 * kSecondUs);
  EXPECT_EQ(queue_->Sweep(Now()).value_or(-1), 1);
  Task failed = MustGet(task.id);
  EXPECT_EQ(failed.status, TaskStatus::kFailed);
  EXPECT_EQ(ErrorCode(failed), "timeout");
  EXPECT_EQ(failed.finished_at, Now());
}

TEST_P(TaskQueueContractTest, SweepFailsTasksNotStartedInTime) {
  NewTask request = MakeTask();
  request.timeouts.schedule_to_start_s = 10;
  Task waiting = MustEnqueue(request);
  NewTask delayed = request;
  delayed.run_at = Now() + 60 * kSecondUs;
  Task scheduled = MustEnqueue(delayed);
  NewTask prompt = request;
  prompt.priority = 9;
  Task started = MustEnqueue(prompt);
  ASSERT_EQ(MustLeaseOne("w1", 1000).id, started.id);

  clock_.AdvanceUs(9 * kSecondUs);
  EXPECT_EQ(queue_->Sweep(Now()).value_or(-1), 0);
  clock_.AdvanceUs(2 * kSecondUs);
  EXPECT_EQ(queue_->Sweep(Now()).value_or(-1), 2);
  for (const Task& t : {waiting, scheduled}) {
    Task failed = MustGet(t.id);
    EXPECT_EQ(failed.status, TaskStatus::kFailed);
    ASSERT_TRUE(failed.error.has_value());
    EXPECT_EQ(failed.error->code, "timeout");
    EXPECT_EQ(failed.finished_at, Now());
  }
  EXPECT_EQ(MustGet(started.id).status, TaskStatus::kRunning);
}

TEST_P(TaskQueueContractTest, ReleaseWorkerHandsBackItsTasksWithoutUsingAnAttempt) {
  for (int i = 0; i < 3; ++i) MustEnqueue(MakeTask());
  std::vector<Task> mine = MustLease({.worker_id = "w1", .max_tasks = 2});
  Task theirs = MustLeaseOne("w2");
  auto released = queue_->ReleaseWorker("w1");
  ASSERT_TRUE(released.ok()) << released.status().ToString();
  EXPECT_EQ(*released, 2);
  for (const Task& t : mine) {
    Task back = MustGet(t.id);
    EXPECT_EQ(back.status, TaskStatus::kPending);
    EXPECT_EQ(back.attempt, 0);
    EXPECT_TRUE(back.lease_id.empty());
    EXPECT_EQ(queue_->Complete(t.id, t.lease_id, Json()).status().code(), StatusCode::kAborted);
  }
  EXPECT_EQ(MustGet(theirs.id).status, TaskStatus::kRunning);
  std::vector<Task> again = MustLease({.worker_id = "w3", .max_tasks = 10});
  ASSERT_EQ(again.size(), 2u);
  EXPECT_EQ(again[0].attempt, 1);
  EXPECT_EQ(queue_->ReleaseWorker("nobody").value_or(-1), 0);
}

TEST_P(TaskQueueContractTest, StatsCountWaitingAndRunningTasksPerQueue) {
  const TimestampUs oldest = MustEnqueue(MakeTask("k", 5, "cpu")).created_at;
  clock_.AdvanceUs(5 * kSecondUs);
  MustEnqueue(MakeTask("k", 5, "cpu"));
  NewTask later = MakeTask("k", 5, "cpu");
  later.run_at = Now() + 60 * kSecondUs;
  MustEnqueue(later);
  MustEnqueue(MakeTask("k", 9, "cpu"));
  ASSERT_EQ(MustLease({.worker_id = "w", .queues = {"cpu"}}).size(), 1u);
  MustEnqueue(MakeTask("k", 5, "gpu"));
  std::vector<Task> gpu_leased = MustLease({.worker_id = "w", .queues = {"gpu"}});
  ASSERT_EQ(gpu_leased.size(), 1u);
  const Task& done = gpu_leased.front();
  MustEnqueue(MakeTask("k", 5, "gpu"));
  ASSERT_TRUE(queue_->Complete(done.id, done.lease_id, Json()).ok());
  ASSERT_TRUE(queue_->SetQueuePaused("io", true).ok());
  clock_.AdvanceUs(kSecondUs);

  auto stats = queue_->Stats("");
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  auto find = [&](const std::string& name) -> const QueueStats* {
    auto it = std::find_if(stats->begin(), stats->end(),
                           [&](const QueueStats& s) { return s.queue == name; });
    return it == stats->end() ? nullptr : &*it;
  };
  const QueueStats* cpu = find("cpu");
  ASSERT_NE(cpu, nullptr);
  EXPECT_EQ(cpu->pending, 2);
  EXPECT_EQ(cpu->scheduled, 1);
  EXPECT_EQ(cpu->running, 1);
  EXPECT_NEAR(cpu->oldest_pending_s, (Now() - oldest) / 1e6, 1e-3);
  EXPECT_FALSE(cpu->paused);
  const QueueStats* gpu = find("gpu");
  ASSERT_NE(gpu, nullptr);
  EXPECT_EQ(gpu->pending, 1);
  EXPECT_EQ(gpu->running, 0);
  const QueueStats* io = find("io");
  ASSERT_NE(io, nullptr);
  EXPECT_TRUE(io->paused);
  EXPECT_EQ(io->pending + io->scheduled + io->running, 0);
}

TEST_P(TaskQueueContractTest, StatsOfANamespaceCountOnlyItsTasksAndQueues) {
  auto enqueue = [&](const std::string& ns, const std::string& queue, int n) {
    NewTask t = MakeTask("k", 5, queue);
    t.namespace_id = ns;
    ASSERT_TRUE(queue_->Enqueue(std::vector<NewTask>(n, t), 0).ok());
  };
  enqueue("a", "cpu", 1500);
  enqueue("b", "cpu", 7);
  enqueue("b", "secret-queue", 2);
  ASSERT_EQ(MustLease({.worker_id = "w", .namespace_id = "a", .max_tasks = 2}).size(), 2u);
  NewTask later = MakeTask("k", 5, "cpu");
  later.namespace_id = "a";
  later.run_at = Now() + 60 * kSecondUs;
  ASSERT_TRUE(queue_->Enqueue({later}, 0).ok());
  ASSERT_TRUE(queue_->SetQueuePaused("cpu", true).ok());
  ASSERT_TRUE(queue_->SetQueuePaused("io", true).ok());  // no task of "a" there
  auto a = queue_->Stats("a");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_EQ(a->size(), 1u);  // not "secret-queue", not "io"
  EXPECT_EQ((*a)[0].queue, "cpu");
  EXPECT_EQ((*a)[0].pending, 1498);
  EXPECT_EQ((*a)[0].running, 2);
  EXPECT_EQ((*a)[0].scheduled, 1);
  EXPECT_TRUE((*a)[0].paused);
  EXPECT_THAT(queue_->Stats("nobody").value_or(std::vector<QueueStats>(1)), IsEmpty());
  auto all = queue_->Stats("");
  ASSERT_TRUE(all.ok());
  int64_t pending = 0;
  for (const QueueStats& q : *all) pending += q.pending;
  EXPECT_EQ(pending, 1498 + 7 + 2);
  EXPECT_EQ(all->size(), 3u);  // cpu, io (paused, empty), secret-queue
}

TEST_P(TaskQueueContractTest, EventsRecordEveryTransitionInOrder) {
  const int64_t start = log_->LastSeq().value_or(-1);
  NewTask request = MakeTask();
  request.idempotency_key = "once";
  Task task = MustEnqueue(request);
  ASSERT_TRUE(queue_->Enqueue({request}, 0).ok());  // an idempotent hit writes nothing
  Task first = MustLeaseOne();
  ASSERT_TRUE(queue_->Heartbeat(task.id, first.lease_id, 30, 0.25, "a quarter").ok());
  ASSERT_TRUE(queue_->Heartbeat(task.id, first.lease_id, 30, std::nullopt, std::nullopt).ok());
  auto retry = queue_->Fail(task.id, first.lease_id, {.code = "io"}, true);
  ASSERT_TRUE(retry.ok());
  clock_.AdvanceUs(retry->run_at - Now());
  Task second = MustLeaseOne();
  ASSERT_TRUE(queue_->Complete(task.id, second.lease_id, Json{{"ok", true}}).ok());

  std::vector<Event> events = EventsOf(task.id);
  std::vector<std::string> types, statuses;
  for (const Event& e : events) {
    types.push_back(e.type);
    statuses.push_back(Json::parse(e.data_json).value("status", ""));
    EXPECT_EQ(e.namespace_id, "ns1");
    EXPECT_EQ(Json::parse(e.data_json).value("id", ""), task.id);
    EXPECT_GT(e.seq, start);
    EXPECT_GT(e.created_at, 0);
  }
  EXPECT_THAT(types, ElementsAre("task.created", "task.started", "task.progress", "task.retrying",
                                 "task.started", "task.succeeded"));
  EXPECT_THAT(statuses,
              ElementsAre("pending", "running", "running", "scheduled", "running", "succeeded"));
  ASSERT_EQ(events.size(), 6u);
  for (size_t i = 1; i < events.size(); ++i) EXPECT_GT(events[i].seq, events[i - 1].seq);
  EXPECT_EQ(Json::parse(events[2].data_json)["progress"]["fraction"], 0.25);
  EXPECT_EQ(Json::parse(events[3].data_json)["error"]["code"], "io");
  EXPECT_EQ(Json::parse(events[5].data_json)["result"], Json({{"ok", true}}));
  EXPECT_EQ(log_->LastSeq().value_or(-1), events.back().seq);

  // Resuming from a cursor returns what follows it, at most `limit`.
  auto page = log_->Read(events[1].seq, 2);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].seq, events[2].seq);
  EXPECT_EQ((*page)[1].seq, events[3].seq);
  EXPECT_THAT(log_->Read(events.back().seq, 10).value_or({Event{}}), IsEmpty());
  for (const Event& e : events) EXPECT_EQ(e.queue, "cpu");  // idle workers of "cpu" wake
}

TEST_P(TaskQueueContractTest, EventsRecordCancellationAndFailure) {
  Task cancelled = MustEnqueue(MakeTask());
  ASSERT_TRUE(queue_->Cancel("ns1", cancelled.id).ok());
  EXPECT_THAT(EventTypesOf(cancelled.id), ElementsAre("task.created", "task.cancelled"));
  NewTask once = MakeTask();
  once.retry.max_attempts = 1;
  Task failed = MustEnqueue(once);
  Task leased = MustLeaseOne();
  ASSERT_TRUE(queue_->Fail(failed.id, leased.lease_id, {.code = "io"}, true).ok());
  std::vector<Event> events = EventsOf(failed.id);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[2].type, "task.failed");
  EXPECT_EQ(Json::parse(events[2].data_json).value("status", ""), "failed");
}

TEST_P(TaskQueueContractTest, PurgeDeletesOldFinishedTasksAndTheLogItsOldEvents) {
  Task old_pending = MustEnqueue(MakeTask("k", 0));  // live: stays, whatever its age
  Task old_done = MustEnqueue(MakeTask("k", 9));
  Task leased = MustLeaseOne();
  ASSERT_EQ(leased.id, old_done.id);
  ASSERT_TRUE(queue_->Complete(old_done.id, leased.lease_id, Json()).ok());
  clock_.AdvanceUs(10 * kSecondUs);
  const TimestampUs cutoff = Now();
  clock_.AdvanceUs(10 * kSecondUs);
  Task new_cancelled = MustEnqueue(MakeTask());
  ASSERT_TRUE(queue_->Cancel("ns1", new_cancelled.id).ok());
  const int64_t last_seq = log_->LastSeq().value_or(-1);

  auto purged = queue_->Purge(cutoff);
  ASSERT_TRUE(purged.ok()) << purged.status().ToString();
  EXPECT_EQ(*purged, 1);  // the number of tasks deleted
  EXPECT_THAT(EventTypesOf(old_done.id), ElementsAre("task.created", "task.started",
                                                     "task.succeeded"));  // the log's to purge
  auto events_purged = log_->Purge(cutoff);
  ASSERT_TRUE(events_purged.ok()) << events_purged.status().ToString();
  EXPECT_EQ(*events_purged, 4);
  EXPECT_EQ(queue_->Get("ns1", old_done.id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(MustGet(new_cancelled.id).status, TaskStatus::kCancelled);
  EXPECT_EQ(MustGet(old_pending.id).status, TaskStatus::kPending);
  EXPECT_THAT(EventTypesOf(old_done.id), IsEmpty());
  EXPECT_THAT(EventTypesOf(old_pending.id), IsEmpty());  // its event predates the cutoff
  EXPECT_THAT(EventTypesOf(new_cancelled.id), ElementsAre("task.created", "task.cancelled"));
  EXPECT_EQ(log_->LastSeq().value_or(-1), last_seq);
}

// Every change reaches the bus once committed, in seq order, with the log's seqs.
TEST_P(TaskQueueContractTest, CommittedEventsReachTheBusInOrder) {
  std::vector<Event> live;
  auto sub = bus_.Subscribe([&](const EventBatch& batch) {
    for (const Event& e : *batch) live.push_back(e);
  });
  Task task = MustEnqueue(MakeTask());
  Task leased = MustLeaseOne();
  ASSERT_TRUE(queue_->Complete(task.id, leased.lease_id, Json::object()).ok());
  ASSERT_TRUE(queue_->SetQueuePaused("cpu", true).ok());
  // Refused as a whole inside its transaction (the second task is over the namespace cap):
  // the first task's event was rolled back with it and is never published.
  EXPECT_EQ(queue_->Enqueue({MakeTask(), MakeTask()}, 1).status().code(),
            StatusCode::kResourceExhausted);
  auto stored = log_->Read(0, 100);
  ASSERT_TRUE(stored.ok());
  ASSERT_EQ(live.size(), stored->size());
  for (size_t i = 0; i < live.size(); ++i) {
    EXPECT_EQ(live[i].seq, (*stored)[i].seq);
    EXPECT_EQ(live[i].type, (*stored)[i].type);
    EXPECT_EQ(live[i].data_json, (*stored)[i].data_json);
  }
  std::vector<std::string> types;
  for (const Event& e : live) types.push_back(e.type);
  EXPECT_THAT(types, ElementsAre("task.created", "task.started", "task.succeeded", "queue.paused"));
  EXPECT_EQ(live.back().namespace_id, "");  // server-wide
  EXPECT_EQ(live.back().queue, "cpu");
}

}  // namespace
}  // namespace argus::store
