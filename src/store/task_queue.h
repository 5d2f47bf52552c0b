#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/json.h"
#include "core/result.h"
#include "store/metadata_store.h"

namespace argus::store {

/// pending: ready to run. scheduled: waiting for run_at (a delay or a retry backoff).
/// running: leased by a worker. succeeded, failed (non-retryable error or attempts exhausted:
/// the dead-letter list) and cancelled are terminal.
enum class TaskStatus { kPending, kScheduled, kRunning, kSucceeded, kFailed, kCancelled };
std::string_view TaskStatusName(TaskStatus status);
Result<TaskStatus> ParseTaskStatus(std::string_view name);
bool IsTerminal(TaskStatus status);

/// Temporal-style retry policy. The delay before attempt n+1 is
/// min(initial_interval_s * backoff_coefficient^(n-1), max_interval_s), with ±20 % jitter.
struct RetryPolicy {
  double initial_interval_s = 1;
  double backoff_coefficient = 2;
  double max_interval_s = 60;
  int max_attempts = 3;  ///< including the first; 1 = never retry
  std::vector<std::string> non_retryable_codes;
};

/// 0 means no limit.
struct TaskTimeouts {
  double schedule_to_start_s = 0;  ///< pending/scheduled longer than this → failed (timeout)
  double start_to_close_s = 0;     ///< one attempt running longer → attempt fails (timeout)
  double heartbeat_s = 0;          ///< no heartbeat for this long → attempt fails (timeout)
};

struct TaskError {
  std::string code;  ///< snake_case, e.g. "timeout", "invalid_argument", user codes
  std::string message;
  int attempt = 0;
};

/// One unit of work. The task row is the queue entry: there is nothing to enqueue separately.
struct Task {
  std::string id;  ///< UUIDv7
  std::string namespace_id;
  std::string kind;
  std::string queue = "cpu";
  int priority = 5;  ///< 0..9, 9 runs first
  Json input = Json::object();
  std::string idempotency_key;  ///< unique per namespace when set
  TaskStatus status = TaskStatus::kPending;
  int attempt = 0;  ///< attempts started so far
  RetryPolicy retry;
  TaskTimeouts timeouts;
  double progress = 0;  ///< 0..1
  std::string progress_message;
  Json result;                     ///< null until succeeded
  std::optional<TaskError> error;  ///< the last error
  std::string parent_id;           ///< the batch or parent task, if any
  std::string worker_id;           ///< who runs (or last ran) it
  std::string lease_id;            ///< current lease while running
  TimestampUs lease_expires_at = 0;
  /// Times the process running this task died while the task ran (poison-task protection).
  int crash_count = 0;
  TimestampUs heartbeat_at = 0;
  bool cancel_requested = false;  ///< set on a running task; the worker stops within a heartbeat
  TimestampUs created_at = 0;
  TimestampUs updated_at = 0;
  TimestampUs run_at = 0;  ///< earliest start (delays, backoff)
  /// When the current/last attempt started. Unset on a running task that a worker leased ahead
  /// (LeaseRequest::prefetch) and has not started yet.
  std::optional<TimestampUs> started_at;
  std::optional<TimestampUs> finished_at;  ///< when it became terminal
};

/// The public JSON form of a task (API responses, event payloads), as text and as a tree.
std::string TaskJsonText(const Task& task);
Json TaskToJson(const Task& task);

/// What a caller asks for; the queue fills id, status, times.
struct NewTask {
  std::string namespace_id;
  std::string kind;
  std::string queue = "cpu";
  int priority = 5;
  Json input = Json::object();
  std::string idempotency_key;
  std::optional<TimestampUs> run_at;
  RetryPolicy retry;
  TaskTimeouts timeouts;
  std::string parent_id;
};

struct EnqueueResult {
  Task task;
  bool created = true;  ///< false: an existing task with the same idempotency key
};

/// A worker asks for what it can start now (its free slots) and, for kinds it knows to be
/// quick, a few tasks more to start as soon as a slot frees (leasing ahead saves a round trip
/// per task when tasks take microseconds). Tasks are taken in priority order, then age: the
/// first `max_tasks` start now; after them, tasks are leased ahead while they are of a kind in
/// `prefetch_kinds` and fewer than `prefetch` were, and the first task of any other kind ends
/// the lease, so a slow task of higher priority is never passed over for quicker ones.
struct LeaseRequest {
  std::string worker_id;
  std::string namespace_id;         ///< empty: every namespace (in-process and global workers)
  std::vector<std::string> queues;  ///< empty: every queue
  std::vector<std::string> kinds;   ///< empty: every kind
  int max_tasks = 1;  ///< tasks to start now (the worker's free slots); may be 0 with prefetch
  int prefetch = 0;   ///< most tasks leased ahead, beyond max_tasks
  std::vector<std::string> prefetch_kinds;  ///< kinds that may be leased ahead
  double lease_s = 30;                      ///< visibility timeout; heartbeats extend it
};

struct TaskFilter {
  std::string namespace_id;  ///< required
  std::optional<TaskStatus> status;
  std::string kind;       ///< empty: any
  std::string queue;      ///< empty: any
  std::string parent_id;  ///< empty: any
};

struct QueueStats {
  std::string queue;
  int64_t pending = 0, scheduled = 0, running = 0;
  double oldest_pending_s = 0;
  bool paused = false;
};

/// Per-kind limits that hold across all workers sharing the queue.
struct KindLimits {
  int max_running = 0;        ///< 0: unlimited
  double max_per_second = 0;  ///< 0: unlimited (starts per second)
};

/// The durable task queue. Every acknowledged call (returned OK) survives kill -9. Each state
/// change appends its event ("task.created", "task.started", "task.progress", "task.retrying",
/// "task.succeeded", "task.failed", "task.cancelled"; data: TaskJsonText of the task right after
/// the change; queue: the task's queue) to the EventLog in the same transaction.
/// Thread-safe; implementations group concurrent writes into shared transactions.
/// Lease-bound calls (Heartbeat, Complete, Fail) return Aborted when `lease_id` is not the
/// task's current lease (expired and re-leased, or finished): the caller must drop its work.
/// All calls: Unavailable when the backend cannot be reached; Internal on corruption.
class TaskQueue {
 public:
  virtual ~TaskQueue() = default;

  /// Records the tasks in one transaction, in order. A task whose idempotency key already
  /// exists in its namespace yields the existing task (created = false). ResourceExhausted when
  /// the namespace would exceed `max_pending_per_namespace` (0: no cap).
  virtual Result<std::vector<EnqueueResult>> Enqueue(const std::vector<NewTask>& tasks,
                                                     int64_t max_pending_per_namespace) = 0;

  /// NotFound when absent or in another namespace.
  virtual Result<Task> Get(std::string_view namespace_id, std::string_view id) = 0;
  /// Matching tasks oldest first (id order), keyset-paginated.
  virtual Result<Page<Task>> List(const TaskFilter& filter, const PageRequest& page) = 0;

  /// Leases runnable tasks (pending, or scheduled with run_at <= now) from unpaused queues,
  /// highest priority first, then oldest, as LeaseRequest describes; respects KindLimits. Each
  /// becomes running with a fresh lease_id, attempt + 1, a lease of lease_s, and a task.started
  /// event; the ones started now have started_at = now, the ones leased ahead none yet. May
  /// return none.
  virtual Result<std::vector<Task>> Lease(const LeaseRequest& request) = 0;
  /// When the earliest scheduled task of `queues` (empty: every queue) of `namespace_id` (empty:
  /// any) comes due, nullopt when none is scheduled. A worker that found nothing to lease sleeps
  /// until then or until an event of its queues wakes it, instead of polling.
  virtual Result<std::optional<TimestampUs>> NextRunAt(std::string_view namespace_id,
                                                       const std::vector<std::string>& queues) = 0;
  /// The worker starts a task it leased ahead: started_at = now, and its lease runs `lease_s`
  /// from now (so time spent waiting in the worker does not count against the task). Aborted
  /// for a stale lease.
  virtual Result<Task> Start(std::string_view id, std::string_view lease_id, double lease_s) = 0;

  /// Extends the lease by `extend_s` and records progress when given. Returns the task, whose
  /// cancel_requested tells the worker to stop.
  virtual Result<Task> Heartbeat(std::string_view id, std::string_view lease_id, double extend_s,
                                 std::optional<double> progress,
                                 std::optional<std::string> message) = 0;
  /// running → succeeded with `result` (progress becomes 1).
  virtual Result<Task> Complete(std::string_view id, std::string_view lease_id, Json result) = 0;
  struct Completion {
    std::string id;
    std::string lease_id;
    Json result;
    /// Optional: the task as the caller leased it (borrowed for the call). A backend may use it
    /// to skip re-reading a row that has not changed since; the outcome is the same either way.
    const Task* leased = nullptr;
    /// When the worker started a task it had leased ahead (recorded as its started_at).
    std::optional<TimestampUs> started_at;
  };
  /// Completes several tasks in one transaction (workers finishing a leased batch). One Status
  /// per item, in order: OK, or Aborted for a stale lease; the call itself fails only when the
  /// transaction does.
  virtual Result<std::vector<Status>> CompleteMany(const std::vector<Completion>& items) = 0;
  /// Ends the attempt with `error`. Retries (scheduled after backoff, task.retrying) unless the
  /// code is non-retryable, attempts are exhausted, or `retryable` is false → failed. A task with
  /// cancel_requested becomes cancelled instead.
  virtual Result<Task> Fail(std::string_view id, std::string_view lease_id, TaskError error,
                            bool retryable) = 0;

  /// pending/scheduled → cancelled at once; running → cancel_requested (the worker ends it);
  /// terminal → FailedPrecondition.
  virtual Result<Task> Cancel(std::string_view namespace_id, std::string_view id) = 0;
  /// Cancels every non-terminal task matching the filter; returns how many.
  virtual Result<int64_t> CancelMatching(const TaskFilter& filter) = 0;
  /// failed/cancelled → pending with a fresh attempt budget; others → FailedPrecondition.
  virtual Result<Task> Retry(std::string_view namespace_id, std::string_view id) = 0;

  /// Applies timeouts and expired leases at `now`: a task whose lease expired returns to
  /// pending (task.retrying) with its attempt spent, or ends failed with code "lease_expired"
  /// when that was its last attempt (retry.max_attempts), so a task that keeps losing its
  /// worker cannot circulate forever; heartbeat/start-to-close timeouts fail the attempt with
  /// code "timeout" (and may retry); schedule-to-start timeouts fail the task. Returns how many
  /// tasks changed.
  virtual Result<int64_t> Sweep(TimestampUs now) = 0;
  /// When Sweep next has something to do (the earliest lease expiry, heartbeat or
  /// start-to-close deadline of a running task, or schedule-to-start deadline of a waiting one),
  /// nullopt when nothing can time out: the sweeper sleeps until then or until a task starts.
  virtual Result<std::optional<TimestampUs>> NextSweepAt() = 0;
  /// Returns every task leased by `worker_id` to pending at once, without counting an attempt
  /// (a worker handing back work on shutdown).
  virtual Result<int64_t> ReleaseWorker(std::string_view worker_id) = 0;
  /// Start-up after `worker_id`'s process died: every task it had started counts a crash
  /// (crash_count + 1) and returns to pending without spending an attempt, unless its crash
  /// count now exceeds `max_crash_attempts`: then it ends failed with code "worker_crashed" (a
  /// poison task that kills its worker must not kill every restart). Tasks it had only leased
  /// ahead return to pending uncounted. Returns how many tasks changed.
  virtual Result<int64_t> RecoverWorker(std::string_view worker_id, int max_crash_attempts) = 0;

  virtual Status SetQueuePaused(std::string_view queue, bool paused) = 0;
  /// Limits of `kind` for every worker; all zero removes them.
  virtual Status SetKindLimits(std::string_view kind, const KindLimits& limits) = 0;
  /// The kinds that have limits, by kind.
  virtual Result<std::map<std::string, KindLimits>> ListKindLimits() = 0;
  /// Per-queue counts of the live tasks of `namespace_id` (empty: every namespace), with each
  /// queue's pause flag. With a namespace, only queues it has live tasks in are listed (another
  /// tenant's queue names stay private); without, every known queue is.
  virtual Result<std::vector<QueueStats>> Stats(std::string_view namespace_id) = 0;

  /// Deletes terminal tasks finished before `before`; returns how many. (Their events are the
  /// EventLog's, purged there.)
  virtual Result<int64_t> Purge(TimestampUs before) = 0;
};

}  // namespace argus::store
