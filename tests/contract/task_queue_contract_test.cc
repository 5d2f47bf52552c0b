// TaskQueue conformance, part 1: enqueue, read, lease, heartbeat, complete, fail.
// Part 2 (cancel, retry, sweep, release, stats, events, purge) is
// task_queue_lifecycle_contract_test.cc; the fixture is task_queue_contract_test.h.

#include "tests/contract/task_queue_contract_test.h"

#include <fmt/format.h>
#include <gmock/gmock.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "core/id.h"

namespace argus::store {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::IsEmpty;

TEST_P(TaskQueueContractTest, EnqueueRecordsEveryFieldAndGetReturnsIt) {
  NewTask request = MakeTask("ocr", 7, "gpu");
  request.input = {{"object", "o1"}, {"nested", {{"list", {1, 2.5, "x", nullptr}}}}};
  request.retry = {.initial_interval_s = 1.5,
                   .backoff_coefficient = 3,
                   .max_interval_s = 30.25,
                   .max_attempts = 4,
                   .non_retryable_codes = {"bad_input", "unsupported"}};
  request.timeouts = {.schedule_to_start_s = 10, .start_to_close_s = 20.5, .heartbeat_s = 5};
  request.parent_id = "batch-1";
  Task task = MustEnqueue(request);

  EXPECT_TRUE(IsValidId(task.id)) << task.id;
  EXPECT_EQ(task.namespace_id, "ns1");
  EXPECT_EQ(task.kind, "ocr");
  EXPECT_EQ(task.queue, "gpu");
  EXPECT_EQ(task.priority, 7);
  EXPECT_EQ(task.input, request.input);
  EXPECT_EQ(task.status, TaskStatus::kPending);
  EXPECT_EQ(task.attempt, 0);
  EXPECT_EQ(task.retry.initial_interval_s, 1.5);
  EXPECT_EQ(task.retry.backoff_coefficient, 3);
  EXPECT_EQ(task.retry.max_interval_s, 30.25);
  EXPECT_EQ(task.retry.max_attempts, 4);
  EXPECT_THAT(task.retry.non_retryable_codes, ElementsAre("bad_input", "unsupported"));
  EXPECT_EQ(task.timeouts.schedule_to_start_s, 10);
  EXPECT_EQ(task.timeouts.start_to_close_s, 20.5);
  EXPECT_EQ(task.timeouts.heartbeat_s, 5);
  EXPECT_EQ(task.parent_id, "batch-1");
  EXPECT_TRUE(task.result.is_null());
  EXPECT_FALSE(task.error.has_value());
  EXPECT_EQ(task.created_at, Now());
  EXPECT_EQ(task.updated_at, Now());
  EXPECT_EQ(task.run_at, Now());
  EXPECT_FALSE(task.started_at.has_value());
  EXPECT_FALSE(task.finished_at.has_value());

  Task got = MustGet(task.id);
  EXPECT_EQ(TaskToJson(got), TaskToJson(task));
  EXPECT_EQ(got.retry.non_retryable_codes, task.retry.non_retryable_codes);
  EXPECT_EQ(got.timeouts.start_to_close_s, 20.5);
}

TEST_P(TaskQueueContractTest, BatchEnqueueKeepsOrder) {
  std::vector<NewTask> batch;
  for (int i = 0; i < 5; ++i) {
    batch.push_back(MakeTask());
    batch.back().input = {{"i", i}};
  }
  auto result = queue_->Enqueue(batch, 0);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  ASSERT_EQ(result->size(), 5u);
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE((*result)[i].created);
    EXPECT_EQ((*result)[i].task.input, Json({{"i", i}}));
    ids.push_back((*result)[i].task.id);
  }
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
  EXPECT_THAT(ListIds({.namespace_id = "ns1"}), ElementsAreArray(ids));
}

TEST_P(TaskQueueContractTest, FutureRunAtMakesTheTaskScheduled) {
  NewTask request = MakeTask();
  request.run_at = Now() + 60 * kSecondUs;
  Task task = MustEnqueue(request);
  EXPECT_EQ(task.status, TaskStatus::kScheduled);
  EXPECT_EQ(task.run_at, *request.run_at);
  EXPECT_EQ(MustGet(task.id).status, TaskStatus::kScheduled);
}

TEST_P(TaskQueueContractTest, GetOfUnknownOrForeignTaskIsNotFound) {
  Task task = MustEnqueue(MakeTask());
  EXPECT_EQ(queue_->Get("ns2", task.id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(queue_->Get("ns1", NewId(clock_)).status().code(), StatusCode::kNotFound);
}

TEST_P(TaskQueueContractTest, ListFiltersByStatusKindQueueAndParent) {
  NewTask child = MakeTask("ocr", 5, "gpu");
  child.parent_id = "p1";
  Task a = MustEnqueue(child);
  Task b = MustEnqueue(MakeTask("ocr"));
  Task c = MustEnqueue(MakeTask("thumbnail"));
  NewTask other = MakeTask("ocr");
  other.namespace_id = "ns2";
  MustEnqueue(other);
  Task running = MustLease({.worker_id = "w", .queues = {"cpu"}, .kinds = {"thumbnail"}}).at(0);
  ASSERT_EQ(running.id, c.id);

  EXPECT_THAT(ListIds({.namespace_id = "ns1"}), ElementsAre(a.id, b.id, c.id));
  EXPECT_THAT(ListIds({.namespace_id = "ns1", .kind = "ocr"}), ElementsAre(a.id, b.id));
  EXPECT_THAT(ListIds({.namespace_id = "ns1", .queue = "gpu"}), ElementsAre(a.id));
  EXPECT_THAT(ListIds({.namespace_id = "ns1", .parent_id = "p1"}), ElementsAre(a.id));
  EXPECT_THAT(ListIds({.namespace_id = "ns1", .status = TaskStatus::kRunning}), ElementsAre(c.id));
  EXPECT_THAT(
      ListIds(
          {.namespace_id = "ns1", .status = TaskStatus::kPending, .kind = "ocr", .queue = "cpu"}),
      ElementsAre(b.id));
  EXPECT_THAT(ListIds({.namespace_id = "ns3"}), IsEmpty());
}

TEST_P(TaskQueueContractTest, ListPaginatesInIdOrder) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(MustEnqueue(MakeTask()).id);
  std::vector<std::string> seen;
  std::string after;
  int pages = 0;
  do {
    auto page = queue_->List({.namespace_id = "ns1"}, {.after_id = after, .limit = 2});
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    for (const Task& t : page->items) seen.push_back(t.id);
    if (!page->next_after_id.empty()) {
      EXPECT_EQ(page->next_after_id, page->items.back().id);
    }
    after = page->next_after_id;
    ++pages;
  } while (!after.empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  EXPECT_THAT(seen, ElementsAreArray(ids));
  EXPECT_EQ(queue_->List({.namespace_id = "ns1"}, {.limit = 0}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(queue_->List({.namespace_id = "ns1"}, {.limit = 1001}).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_P(TaskQueueContractTest, IdempotencyKeyReturnsTheFirstTask) {
  NewTask first = MakeTask();
  first.idempotency_key = "upload-42";
  first.input = {{"v", 1}};
  Task original = MustEnqueue(first);

  NewTask again = first;
  again.input = {{"v", 2}};
  auto repeated = queue_->Enqueue({again, again}, 0);
  ASSERT_TRUE(repeated.ok()) << repeated.status().ToString();
  for (const EnqueueResult& r : *repeated) {
    EXPECT_FALSE(r.created);
    EXPECT_EQ(r.task.id, original.id);
    EXPECT_EQ(r.task.input, Json({{"v", 1}}));
  }
  // Twice in one new batch: the second yields the first.
  NewTask fresh = MakeTask();
  fresh.idempotency_key = "upload-43";
  auto batch = queue_->Enqueue({fresh, fresh}, 0);
  ASSERT_TRUE(batch.ok());
  EXPECT_TRUE((*batch)[0].created);
  EXPECT_FALSE((*batch)[1].created);
  EXPECT_EQ((*batch)[1].task.id, (*batch)[0].task.id);
  // Keys are per namespace.
  NewTask elsewhere = first;
  elsewhere.namespace_id = "ns2";
  Task other = MustEnqueue(elsewhere);
  EXPECT_NE(other.id, original.id);

  EXPECT_EQ(ListIds({.namespace_id = "ns1"}).size(), 2u);
  EXPECT_THAT(EventTypesOf(original.id), ElementsAre("task.created"));
}

TEST_P(TaskQueueContractTest, NamespaceCapRefusesTheWholeBatch) {
  ASSERT_TRUE(queue_->Enqueue({MakeTask(), MakeTask()}, 3).ok());
  auto over = queue_->Enqueue({MakeTask(), MakeTask()}, 3);
  EXPECT_EQ(over.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(ListIds({.namespace_id = "ns1"}).size(), 2u);

  NewTask keyed = MakeTask();
  keyed.idempotency_key = "k";
  ASSERT_TRUE(queue_->Enqueue({keyed}, 3).ok());  // the third
  EXPECT_EQ(queue_->Enqueue({MakeTask()}, 3).status().code(), StatusCode::kResourceExhausted);
  // An idempotent hit adds nothing, so it is answered even at the cap.
  auto hit = queue_->Enqueue({keyed}, 3);
  ASSERT_TRUE(hit.ok()) << hit.status().ToString();
  EXPECT_FALSE(hit->front().created);
  // Scheduled tasks count as waiting too.
  NewTask later = MakeTask();
  later.run_at = Now() + 60 * kSecondUs;
  EXPECT_EQ(queue_->Enqueue({later}, 3).status().code(), StatusCode::kResourceExhausted);
  // Other namespaces have their own count; 0 means no cap.
  NewTask other = MakeTask();
  other.namespace_id = "ns2";
  EXPECT_TRUE(queue_->Enqueue({other}, 3).ok());
  EXPECT_TRUE(queue_->Enqueue({MakeTask()}, 0).ok());
  // Running tasks do not count.
  EXPECT_EQ(MustLease({.worker_id = "w", .max_tasks = 2}).size(), 2u);
  EXPECT_TRUE(queue_->Enqueue({MakeTask()}, 3).ok());
}

TEST_P(TaskQueueContractTest, LeaseTakesHighestPriorityFirstThenOldest) {
  Task low1 = MustEnqueue(MakeTask("k", 0));
  Task high1 = MustEnqueue(MakeTask("k", 9));
  Task mid = MustEnqueue(MakeTask("k", 5));
  Task high2 = MustEnqueue(MakeTask("k", 9));
  Task low2 = MustEnqueue(MakeTask("k", 0));
  std::vector<std::string> order;
  for (int i = 0; i < 3; ++i) order.push_back(MustLeaseOne().id);
  for (const Task& t : MustLease({.worker_id = "w1", .max_tasks = 10})) order.push_back(t.id);
  EXPECT_THAT(order, ElementsAre(high1.id, high2.id, mid.id, low1.id, low2.id));
  EXPECT_THAT(MustLease({.worker_id = "w1", .max_tasks = 10}), IsEmpty());
}

TEST_P(TaskQueueContractTest, LeaseMakesTheTaskRunningUnderAFreshLease) {
  Task a = MustEnqueue(MakeTask());
  Task b = MustEnqueue(MakeTask());
  clock_.AdvanceUs(5 * kSecondUs);
  std::vector<Task> leased = MustLease({.worker_id = "worker-7", .max_tasks = 2, .lease_s = 45});
  ASSERT_EQ(leased.size(), 2u);
  EXPECT_NE(leased[0].lease_id, leased[1].lease_id);
  for (const Task& t : leased) {
    EXPECT_EQ(t.status, TaskStatus::kRunning);
    EXPECT_EQ(t.attempt, 1);
    EXPECT_EQ(t.worker_id, "worker-7");
    EXPECT_FALSE(t.lease_id.empty());
    EXPECT_EQ(t.lease_expires_at, Now() + 45 * kSecondUs);
    EXPECT_EQ(t.heartbeat_at, Now());
    EXPECT_EQ(t.started_at, Now());
    EXPECT_EQ(t.updated_at, Now());
    EXPECT_EQ(TaskToJson(MustGet(t.id)), TaskToJson(t));
  }
  EXPECT_THAT(IdsOf(leased), ElementsAre(a.id, b.id));
}

TEST_P(TaskQueueContractTest, DelayedTaskIsNotLeasedBeforeRunAt) {
  NewTask request = MakeTask();
  request.run_at = Now() + 10 * kSecondUs;
  Task task = MustEnqueue(request);
  EXPECT_THAT(MustLease({.worker_id = "w1"}), IsEmpty());
  clock_.AdvanceUs(task.run_at - Now() - 1);
  EXPECT_THAT(MustLease({.worker_id = "w1"}), IsEmpty());
  clock_.AdvanceUs(1);
  Task leased = MustLeaseOne();
  EXPECT_EQ(leased.id, task.id);
  EXPECT_EQ(leased.status, TaskStatus::kRunning);
}

TEST_P(TaskQueueContractTest, PausedQueueIsNotLeasedUntilResumed) {
  Task gpu = MustEnqueue(MakeTask("k", 9, "gpu"));
  Task cpu = MustEnqueue(MakeTask("k", 0, "cpu"));
  ASSERT_TRUE(queue_->SetQueuePaused("gpu", true).ok());
  EXPECT_THAT(IdsOf(MustLease({.worker_id = "w1", .max_tasks = 10})), ElementsAre(cpu.id));
  EXPECT_THAT(MustLease({.worker_id = "w1", .queues = {"gpu"}}), IsEmpty());
  ASSERT_TRUE(queue_->SetQueuePaused("gpu", false).ok());
  EXPECT_THAT(IdsOf(MustLease({.worker_id = "w1", .max_tasks = 10})), ElementsAre(gpu.id));
}

TEST_P(TaskQueueContractTest, LeaseOnlyTakesRequestedQueuesAndKinds) {
  Task cpu_ocr = MustEnqueue(MakeTask("ocr", 5, "cpu"));
  Task gpu_ocr = MustEnqueue(MakeTask("ocr", 5, "gpu"));
  Task cpu_thumb = MustEnqueue(MakeTask("thumbnail", 5, "cpu"));
  Task io_fetch = MustEnqueue(MakeTask("fetch", 5, "io"));
  EXPECT_THAT(IdsOf(MustLease({.worker_id = "w", .queues = {"gpu"}, .max_tasks = 10})),
              ElementsAre(gpu_ocr.id));
  EXPECT_THAT(IdsOf(MustLease({.worker_id = "w", .kinds = {"thumbnail"}, .max_tasks = 10})),
              ElementsAre(cpu_thumb.id));
  EXPECT_THAT(
      IdsOf(MustLease(
          {.worker_id = "w", .queues = {"cpu", "io"}, .kinds = {"ocr", "fetch"}, .max_tasks = 10})),
      ElementsAre(cpu_ocr.id, io_fetch.id));
}

TEST_P(TaskQueueContractTest, LeaseForANamespaceOnlyTakesItsTasks) {
  NewTask foreign = MakeTask("k", 9);
  foreign.namespace_id = "ns2";
  Task theirs = MustEnqueue(foreign);
  Task mine = MustEnqueue(MakeTask("k", 0));
  NewTask retry_later = MakeTask("k", 0);
  retry_later.namespace_id = "ns2";
  retry_later.run_at = Now() + kSecondUs;
  Task theirs_scheduled = MustEnqueue(retry_later);
  clock_.AdvanceUs(kSecondUs);
  EXPECT_THAT(IdsOf(MustLease({.worker_id = "w", .namespace_id = "ns1", .max_tasks = 10})),
              ElementsAre(mine.id));
  EXPECT_THAT(MustLease({.worker_id = "w", .namespace_id = "ns3", .max_tasks = 10}), IsEmpty());
  EXPECT_THAT(IdsOf(MustLease({.worker_id = "w", .max_tasks = 10})),
              ElementsAre(theirs.id, theirs_scheduled.id));
}

TEST_P(TaskQueueContractTest, KindMaxRunningCapsConcurrentTasksAcrossWorkers) {
  ASSERT_TRUE(queue_->SetKindLimits("ocr", {.max_running = 2}).ok());
  std::vector<Task> ocr;
  for (int i = 0; i < 4; ++i) ocr.push_back(MustEnqueue(MakeTask("ocr", 9)));
  Task other = MustEnqueue(MakeTask("thumbnail", 0));

  std::vector<Task> first = MustLease({.worker_id = "w1", .max_tasks = 10});
  EXPECT_THAT(IdsOf(first), ElementsAre(ocr[0].id, ocr[1].id, other.id));
  EXPECT_THAT(MustLease({.worker_id = "w2", .max_tasks = 10}), IsEmpty());
  ASSERT_TRUE(queue_->Complete(first[0].id, first[0].lease_id, Json()).ok());
  EXPECT_THAT(IdsOf(MustLease({.worker_id = "w2", .max_tasks = 10})), ElementsAre(ocr[2].id));
  ASSERT_TRUE(queue_->SetKindLimits("ocr", {}).ok());  // all zero: unlimited again
  EXPECT_THAT(IdsOf(MustLease({.worker_id = "w2", .max_tasks = 10})), ElementsAre(ocr[3].id));
}

TEST_P(TaskQueueContractTest, KindLimitsAreListedUntilCleared) {
  auto none = queue_->ListKindLimits();
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_THAT(*none, IsEmpty());
  ASSERT_TRUE(queue_->SetKindLimits("ocr", {.max_running = 2}).ok());
  ASSERT_TRUE(queue_->SetKindLimits("embed", {.max_per_second = 2.5}).ok());
  ASSERT_TRUE(queue_->SetKindLimits("ocr", {.max_running = 3, .max_per_second = 1}).ok());
  auto both = queue_->ListKindLimits();
  ASSERT_TRUE(both.ok()) << both.status().ToString();
  ASSERT_EQ(both->size(), 2u);
  EXPECT_EQ(both->at("ocr").max_running, 3);
  EXPECT_EQ(both->at("ocr").max_per_second, 1);
  EXPECT_EQ(both->at("embed").max_running, 0);
  EXPECT_EQ(both->at("embed").max_per_second, 2.5);
  ASSERT_TRUE(queue_->SetKindLimits("ocr", {}).ok());
  auto left = queue_->ListKindLimits();
  ASSERT_TRUE(left.ok());
  EXPECT_EQ(left->size(), 1u);
  EXPECT_EQ(left->count("embed"), 1u);
}

TEST_P(TaskQueueContractTest, KindMaxPerSecondLimitsStarts) {
  ASSERT_TRUE(queue_->SetKindLimits("embed", {.max_per_second = 1}).ok());
  for (int i = 0; i < 3; ++i) MustEnqueue(MakeTask("embed"));
  Task other = MustEnqueue(MakeTask("thumbnail"));
  std::vector<Task> first = MustLease({.worker_id = "w1", .max_tasks = 10});
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0].kind, "embed");
  EXPECT_EQ(first[1].id, other.id);
  EXPECT_THAT(MustLease({.worker_id = "w1", .max_tasks = 10}), IsEmpty());
  clock_.AdvanceUs(kSecondUs);
  EXPECT_EQ(MustLease({.worker_id = "w1", .max_tasks = 10}).size(), 1u);
  EXPECT_THAT(MustLease({.worker_id = "w1", .max_tasks = 10}), IsEmpty());
}

TEST_P(TaskQueueContractTest, HeartbeatExtendsTheLeaseAndRecordsProgress) {
  Task task = MustEnqueue(MakeTask());
  Task leased = MustLeaseOne("w1", 30);
  clock_.AdvanceUs(20 * kSecondUs);
  auto beat = queue_->Heartbeat(task.id, leased.lease_id, 60, 0.5, "half way");
  ASSERT_TRUE(beat.ok()) << beat.status().ToString();
  EXPECT_EQ(beat->lease_expires_at, Now() + 60 * kSecondUs);
  EXPECT_EQ(beat->heartbeat_at, Now());
  EXPECT_EQ(beat->progress, 0.5);
  EXPECT_EQ(beat->progress_message, "half way");
  EXPECT_FALSE(beat->cancel_requested);
  EXPECT_EQ(TaskToJson(MustGet(task.id)), TaskToJson(*beat));

  // Past the first lease's end, the extended lease still holds.
  clock_.AdvanceUs(30 * kSecondUs);
  ASSERT_TRUE(queue_->Sweep(Now()).ok());
  EXPECT_EQ(MustGet(task.id).status, TaskStatus::kRunning);
  // A bare heartbeat keeps the recorded progress.
  auto bare = queue_->Heartbeat(task.id, leased.lease_id, 60, std::nullopt, std::nullopt);
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->progress, 0.5);
  EXPECT_EQ(bare->progress_message, "half way");
}

TEST_P(TaskQueueContractTest, StaleLeaseIsAbortedEverywhere) {
  Task task = MustEnqueue(MakeTask());
  Task first = MustLeaseOne("w1", 30);
  clock_.AdvanceUs(31 * kSecondUs);
  auto swept = queue_->Sweep(Now());
  ASSERT_TRUE(swept.ok());
  EXPECT_EQ(*swept, 1);
  Task second = MustLeaseOne("w2", 30);
  ASSERT_EQ(second.id, task.id);
  EXPECT_NE(second.lease_id, first.lease_id);

  EXPECT_EQ(queue_->Complete(task.id, first.lease_id, Json()).status().code(),
            StatusCode::kAborted);
  EXPECT_EQ(queue_->Heartbeat(task.id, first.lease_id, 30, 0.9, std::nullopt).status().code(),
            StatusCode::kAborted);
  EXPECT_EQ(queue_->Fail(task.id, first.lease_id, {.code = "io"}, true).status().code(),
            StatusCode::kAborted);
  Task now = MustGet(task.id);
  EXPECT_EQ(now.status, TaskStatus::kRunning);
  EXPECT_EQ(now.worker_id, "w2");
  EXPECT_EQ(now.progress, 0);
  EXPECT_TRUE(queue_->Complete(task.id, second.lease_id, Json()).ok());
}

TEST_P(TaskQueueContractTest, CompleteRecordsTheResultAndEndsTheLease) {
  Task task = MustEnqueue(MakeTask());
  Task leased = MustLeaseOne();
  clock_.AdvanceUs(3 * kSecondUs);
  Json result = {{"width", 640}, {"labels", {"cat", "dog"}}};
  auto done = queue_->Complete(task.id, leased.lease_id, result);
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(done->status, TaskStatus::kSucceeded);
  EXPECT_EQ(done->result, result);
  EXPECT_EQ(done->finished_at, Now());
  EXPECT_TRUE(done->lease_id.empty());
  EXPECT_EQ(done->worker_id, "w1");
  EXPECT_EQ(TaskToJson(MustGet(task.id)), TaskToJson(*done));
  // Finished: the lease is gone, and so is the task from the lease pool.
  EXPECT_EQ(queue_->Complete(task.id, leased.lease_id, result).status().code(),
            StatusCode::kAborted);
  EXPECT_THAT(MustLease({.worker_id = "w1"}), IsEmpty());
  EXPECT_EQ(queue_->Complete(NewId(clock_), leased.lease_id, result).status().code(),
            StatusCode::kNotFound);
}

TEST_P(TaskQueueContractTest, CompleteManyAnswersEachItem) {
  for (int i = 0; i < 3; ++i) MustEnqueue(MakeTask());
  std::vector<Task> leased = MustLease({.worker_id = "w1", .max_tasks = 3, .lease_s = 10});
  ASSERT_EQ(leased.size(), 3u);
  // The middle one's lease expires and another worker takes it.
  clock_.AdvanceUs(5 * kSecondUs);
  ASSERT_TRUE(queue_->Heartbeat(leased[0].id, leased[0].lease_id, 30, {}, {}).ok());
  ASSERT_TRUE(queue_->Heartbeat(leased[2].id, leased[2].lease_id, 30, {}, {}).ok());
  clock_.AdvanceUs(6 * kSecondUs);
  ASSERT_EQ(queue_->Sweep(Now()).value_or(-1), 1);
  Task retaken = MustLeaseOne("w2");
  ASSERT_EQ(retaken.id, leased[1].id);

  auto statuses = queue_->CompleteMany({{leased[0].id, leased[0].lease_id, Json{{"n", 0}}},
                                        {leased[1].id, leased[1].lease_id, Json{{"n", 1}}},
                                        {leased[2].id, leased[2].lease_id, Json{{"n", 2}}}});
  ASSERT_TRUE(statuses.ok()) << statuses.status().ToString();
  ASSERT_EQ(statuses->size(), 3u);
  EXPECT_TRUE((*statuses)[0].ok());
  EXPECT_EQ((*statuses)[1].code(), StatusCode::kAborted);
  EXPECT_TRUE((*statuses)[2].ok());
  EXPECT_EQ(MustGet(leased[0].id).status, TaskStatus::kSucceeded);
  EXPECT_EQ(MustGet(leased[0].id).result, Json({{"n", 0}}));
  EXPECT_EQ(MustGet(leased[1].id).status, TaskStatus::kRunning);
  EXPECT_EQ(MustGet(leased[2].id).status, TaskStatus::kSucceeded);
}

// The leased copy a worker passes along is only a hint: what the row says since (a stale lease,
// progress from a heartbeat, a cancel request) decides, exactly as without it.
TEST_P(TaskQueueContractTest, CompleteManyWithLeasedCopiesHonoursLaterChanges) {
  for (int i = 0; i < 4; ++i) MustEnqueue(MakeTask());
  std::vector<Task> leased = MustLease({.worker_id = "w1", .max_tasks = 3, .lease_s = 60});
  ASSERT_EQ(leased.size(), 3u);
  leased.push_back(MustLeaseOne("w1", /*lease_s=*/1));
  clock_.AdvanceUs(kSecondUs);
  ASSERT_TRUE(queue_->Heartbeat(leased[1].id, leased[1].lease_id, 60, 0.5, "half way").ok());
  ASSERT_TRUE(queue_->Cancel("ns1", leased[2].id).ok());  // running: cancel_requested
  clock_.AdvanceUs(kSecondUs);
  ASSERT_EQ(queue_->Sweep(Now()).value_or(-1), 1);  // leased[3]'s lease expired
  clock_.AdvanceUs(kSecondUs);
  // leased[0] is unchanged since it was leased: the copy is accurate there.
  std::vector<TaskQueue::Completion> items;
  for (int i = 0; i < 4; ++i) {
    items.push_back({leased[i].id, leased[i].lease_id, Json{{"n", i}}, &leased[i]});
  }
  auto statuses = queue_->CompleteMany(items);
  ASSERT_TRUE(statuses.ok()) << statuses.status().ToString();
  EXPECT_TRUE((*statuses)[0].ok());
  EXPECT_TRUE((*statuses)[1].ok());
  EXPECT_TRUE((*statuses)[2].ok());
  EXPECT_EQ((*statuses)[3].code(), StatusCode::kAborted);
  Task zero = MustGet(leased[0].id);
  EXPECT_EQ(zero.status, TaskStatus::kSucceeded);
  EXPECT_EQ(zero.result, Json({{"n", 0}}));
  EXPECT_EQ(zero.progress, 1);
  EXPECT_EQ(zero.finished_at, Now());
  EXPECT_EQ(MustGet(leased[1].id).progress_message, "half way");  // not the leased copy's ""
  EXPECT_TRUE(MustGet(leased[2].id).cancel_requested);
  EXPECT_EQ(MustGet(leased[3].id).status, TaskStatus::kPending);
  // Each success recorded exactly one task.succeeded event, with the stored record.
  auto events = log_->Read(0, 1000);
  ASSERT_TRUE(events.ok());
  int succeeded = 0;
  for (const auto& e : *events) {
    if (e.type != "task.succeeded") continue;
    ++succeeded;
    Json data = Json::parse(e.data_json);
    if (data["id"] == leased[1].id) {
      EXPECT_EQ(data["progress"]["message"], "half way");
    }
    if (data["id"] == leased[0].id) {
      EXPECT_EQ(data["result"], Json({{"n", 0}}));
    }
  }
  EXPECT_EQ(succeeded, 3);
}

TEST_P(TaskQueueContractTest, FailRetriesAfterJitteredExponentialBackoff) {
  NewTask request = MakeTask();
  request.retry = {
      .initial_interval_s = 2, .backoff_coefficient = 3, .max_interval_s = 10, .max_attempts = 4};
  Task task = MustEnqueue(request);
  // Delays before attempts 2, 3, 4: 2 s, 6 s, then min(18 s, 10 s); each ±20 %.
  const double expected_s[] = {2, 6, 10};
  for (int attempt = 1; attempt <= 3; ++attempt) {
    Task leased = MustLeaseOne();
    ASSERT_EQ(leased.attempt, attempt);
    auto failed =
        queue_->Fail(task.id, leased.lease_id, {.code = "io", .message = "disk hiccup"}, true);
    ASSERT_TRUE(failed.ok()) << failed.status().ToString();
    EXPECT_EQ(failed->status, TaskStatus::kScheduled);
    ASSERT_TRUE(failed->error.has_value());
    EXPECT_EQ(failed->error->code, "io");
    EXPECT_EQ(failed->error->message, "disk hiccup");
    EXPECT_EQ(failed->error->attempt, attempt);
    EXPECT_TRUE(failed->lease_id.empty());
    EXPECT_FALSE(failed->finished_at.has_value());
    const double delay = expected_s[attempt - 1];
    EXPECT_GE(failed->run_at, Now() + static_cast<TimestampUs>(0.8 * delay * kSecondUs) - 1);
    EXPECT_LE(failed->run_at, Now() + static_cast<TimestampUs>(1.2 * delay * kSecondUs) + 1);
    EXPECT_THAT(MustLease({.worker_id = "w1"}), IsEmpty()) << "leased before its backoff";
    clock_.AdvanceUs(failed->run_at - Now());
  }
  Task last = MustLeaseOne();
  EXPECT_EQ(last.attempt, 4);
  auto exhausted = queue_->Fail(task.id, last.lease_id, {.code = "io"}, true);
  ASSERT_TRUE(exhausted.ok());
  EXPECT_EQ(exhausted->status, TaskStatus::kFailed);
  EXPECT_EQ(exhausted->finished_at, Now());
  EXPECT_EQ(ErrorAttempt(*exhausted), 4);
}

TEST_P(TaskQueueContractTest, BackoffJitterSpreadsWithinTwentyPercent) {
  constexpr int kTasks = 50;
  NewTask request = MakeTask();
  request.retry.initial_interval_s = 10;
  ASSERT_TRUE(queue_->Enqueue(std::vector<NewTask>(kTasks, request), 0).ok());
  std::vector<Task> leased = MustLease({.worker_id = "w1", .max_tasks = kTasks});
  ASSERT_EQ(leased.size(), static_cast<size_t>(kTasks));
  std::vector<double> factors;
  for (const Task& t : leased) {
    auto failed = queue_->Fail(t.id, t.lease_id, {.code = "io"}, true);
    ASSERT_TRUE(failed.ok()) << failed.status().ToString();
    factors.push_back(static_cast<double>(failed->run_at - Now()) / (10.0 * kSecondUs));
  }
  auto [lo, hi] = std::minmax_element(factors.begin(), factors.end());
  EXPECT_GE(*lo, 0.8 - 1e-6);
  EXPECT_LE(*hi, 1.2 + 1e-6);
  // Uniform jitter: 50 draws all within ±5 % of the middle would be a broken generator.
  EXPECT_LT(*lo, 0.95);
  EXPECT_GT(*hi, 1.05);
}

TEST_P(TaskQueueContractTest, NonRetryableFailuresFailAtOnce) {
  NewTask request = MakeTask();
  request.retry.max_attempts = 5;
  request.retry.non_retryable_codes = {"bad_input"};
  Task by_code = MustEnqueue(request);
  Task by_flag = MustEnqueue(request);
  Task leased_code = MustLeaseOne();
  Task leased_flag = MustLeaseOne();
  ASSERT_EQ(leased_code.id, by_code.id);

  auto failed = queue_->Fail(by_code.id, leased_code.lease_id,
                             {.code = "bad_input", .message = "not an image"}, true);
  ASSERT_TRUE(failed.ok());
  EXPECT_EQ(failed->status, TaskStatus::kFailed);
  EXPECT_EQ(ErrorCode(*failed), "bad_input");
  EXPECT_EQ(failed->finished_at, Now());

  auto flagged = queue_->Fail(by_flag.id, leased_flag.lease_id, {.code = "io"}, false);
  ASSERT_TRUE(flagged.ok());
  EXPECT_EQ(flagged->status, TaskStatus::kFailed);
  EXPECT_EQ(MustGet(by_flag.id).status, TaskStatus::kFailed);
}

TEST_P(TaskQueueContractTest, SingleAttemptPolicyFailsOnFirstError) {
  NewTask request = MakeTask();
  request.retry.max_attempts = 1;
  Task task = MustEnqueue(request);
  Task leased = MustLeaseOne();
  auto failed = queue_->Fail(task.id, leased.lease_id, {.code = "io"}, true);
  ASSERT_TRUE(failed.ok());
  EXPECT_EQ(failed->status, TaskStatus::kFailed);
  EXPECT_THAT(MustLease({.worker_id = "w1"}), IsEmpty());
}

TEST_P(TaskQueueContractTest, ConcurrentWorkersLeaseEachTaskOnce) {
  constexpr int kTasks = 200;
  std::vector<NewTask> batch(kTasks, MakeTask());
  ASSERT_TRUE(queue_->Enqueue(batch, 0).ok());
  std::mutex mu;
  std::map<std::string, int> leases;
  std::atomic<int> errors{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&, w] {
      const std::string worker_id = fmt::format("w{}", w);
      for (;;) {
        auto leased = queue_->Lease({.worker_id = worker_id, .max_tasks = 3});
        if (!leased.ok()) ++errors;
        if (!leased.ok() || leased->empty()) return;
        for (const Task& t : *leased) {
          {
            std::lock_guard lock(mu);
            ++leases[t.id];
          }
          if (!queue_->Complete(t.id, t.lease_id, Json{{"by", w}}).ok()) ++errors;
        }
      }
    });
  }
  for (auto& worker : workers) worker.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(leases.size(), static_cast<size_t>(kTasks));
  for (const auto& [id, count] : leases) EXPECT_EQ(count, 1) << id;
  EXPECT_EQ(ListIds({.namespace_id = "ns1", .status = TaskStatus::kSucceeded}).size(),
            static_cast<size_t>(kTasks));
}

INSTANTIATE_TEST_SUITE_P(Backends, TaskQueueContractTest,
                         testing::ValuesIn(TaskQueueBackendNames()),
                         [](const testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace argus::store
