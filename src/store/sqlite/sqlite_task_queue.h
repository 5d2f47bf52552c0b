#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "store/sqlite/sqlite_task_rows.h"
#include "store/sqlite/store_file.h"
#include "store/store_registry.h"
#include "store/task_queue.h"

namespace argus::store::sqlite {

/// TaskQueue in metadata.db (SqliteStoreFile), next to the rows and events of the other SQLite
/// stores; each state change appends its event to the `events` table in the same transaction.
/// Durable once a call returns. One argus process per file (capabilities: durable, not
/// multi_process).
///
/// Threading and group commit: every mutating call becomes an operation of the file's
/// GroupCommitWriter, whose one thread runs queued operations of every store in ONE transaction,
/// each in its own savepoint (one call's failure rolls back only that call), commits once and
/// wakes all their callers. So concurrent Complete calls from many workers share commits, and an
/// Enqueue of 1000 tasks is one transaction. Reads (Get, List, Stats) use the file's pool of
/// read-only connections and see every call that has returned. All methods are thread-safe.
///
/// Time comes from StoreArgs::clock only (Sweep uses its argument). Ids are NewId(clock) made on
/// the writer thread, so they increase in enqueue order.
///
/// Choices the contract leaves open:
/// - KindLimits::max_per_second is a token bucket per kind kept in memory (burst: one second's
///   worth, at least one start); it restarts full when the process starts or the limit changes.
/// - Lost leases (Sweep), ReleaseWorker and RecoverWorker return tasks to pending with a
///   "task.retrying" event; queue pauses and resumes append "queue.paused" / "queue.resumed" and
///   kind limit changes "kind_limits.updated" (server-wide: empty namespace), which wake idle
///   workers;
///   a cancellation request on a running task writes no event (the worker's Fail → "cancelled"
///   does). Retry of a failed/cancelled task writes "task.retrying".
/// - The schedule-to-start timeout counts from created_at (a delay counts against it) and stops
///   applying once the task has started; Retry restarts it from the retry time.
/// - Lease resets progress to 0 for the new attempt; the last error stays until the next Fail.
///   Fail records the error with the task's own attempt number (TaskError::attempt is ignored).
/// - Sweep's `now` is used both to judge deadlines and as the time of the changes it makes.
/// - A NewTask::run_at in the past is stored as now.
/// - CancelMatching counts the tasks it changed (a running task already asked to cancel is not
///   counted again).
/// - Invalid arguments (priority outside 0..9, empty namespace/kind/queue/worker, max_attempts
///   < 1, negative or non-finite durations, progress outside 0..1, input or result JSON holding
///   invalid UTF-8) → InvalidArgument. Unknown task id → NotFound,
///   also for the lease-bound calls.
class SqliteTaskQueue final : public TaskQueue {
 public:
  /// Opens (or shares) `<args.data_dir>/metadata.db`; errors as SqliteStoreFile::Open.
  static Result<std::unique_ptr<TaskQueue>> Create(const StoreArgs& args);
  ~SqliteTaskQueue() override;

  Result<std::vector<EnqueueResult>> Enqueue(const std::vector<NewTask>& tasks,
                                             int64_t max_pending_per_namespace) override;
  Result<Task> Get(std::string_view namespace_id, std::string_view id) override;
  Result<Page<Task>> List(const TaskFilter& filter, const PageRequest& page) override;
  Result<std::vector<Task>> Lease(const LeaseRequest& request) override;
  Result<std::optional<TimestampUs>> NextRunAt(std::string_view namespace_id,
                                               const std::vector<std::string>& queues) override;
  Result<Task> Start(std::string_view id, std::string_view lease_id, double lease_s) override;
  Result<Task> Heartbeat(std::string_view id, std::string_view lease_id, double extend_s,
                         std::optional<double> progress,
                         std::optional<std::string> message) override;
  Result<Task> Complete(std::string_view id, std::string_view lease_id, Json result) override;
  Result<std::vector<Status>> CompleteMany(const std::vector<Completion>& items) override;
  Result<Task> Fail(std::string_view id, std::string_view lease_id, TaskError error,
                    bool retryable) override;
  Result<Task> Cancel(std::string_view namespace_id, std::string_view id) override;
  Result<int64_t> CancelMatching(const TaskFilter& filter) override;
  Result<Task> Retry(std::string_view namespace_id, std::string_view id) override;
  Result<int64_t> Sweep(TimestampUs now) override;
  Result<std::optional<TimestampUs>> NextSweepAt() override;
  Result<int64_t> ReleaseWorker(std::string_view worker_id) override;
  Result<int64_t> RecoverWorker(std::string_view worker_id, int max_crash_attempts) override;
  Status SetQueuePaused(std::string_view queue, bool paused) override;
  Status SetKindLimits(std::string_view kind, const KindLimits& limits) override;
  Result<std::map<std::string, KindLimits>> ListKindLimits() override;
  Result<std::vector<QueueStats>> Stats(std::string_view namespace_id) override;
  Result<int64_t> Purge(TimestampUs before) override;

  /// Group transactions committed so far, and the calls they carried (every store's).
  int64_t CommitCountForTest() const { return file_->writer().CommitCountForTest(); }
  int64_t WriteCallCountForTest() const { return file_->writer().OperationCountForTest(); }

 private:
  struct TokenBucket {
    double tokens = 0;
    TimestampUs refilled_at = 0;
  };
  class KindGate;

  explicit SqliteTaskQueue(std::shared_ptr<SqliteStoreFile> file);

  // Everything below runs on the writer thread, inside a group transaction.
  Result<std::vector<EnqueueResult>> EnqueueOp(SqliteDatabase& db,
                                               const std::vector<NewTask>& tasks,
                                               const std::vector<PreparedTask>& prepared,
                                               TimestampUs now, int64_t max_pending);
  // Checks one task (idempotency key, cap) and queues its row in `unwritten` (writing those
  // queued before whenever it reads the table); EnqueueOp writes the rows and the events.
  Result<EnqueueResult> EnqueueOne(SqliteDatabase& db, const NewTask& request,
                                   const PreparedTask& prepared, int64_t max_pending,
                                   std::vector<const PreparedTask*>& unwritten);
  // Runs on the caller's thread, before the write.
  PreparedTask PrepareTask(const NewTask& request, TimestampUs now);

  Result<std::vector<Task>> LeaseOp(SqliteDatabase& db, const LeaseRequest& request);
  // `task` (as read in this transaction) as its new attempt starts; LeaseOp writes it and its
  // task.started event.
  Task StartAttempt(Task task, const LeaseRequest& request, bool started, TimestampUs now);
  Result<Task> CompleteOp(SqliteDatabase& db, std::string_view id, std::string_view lease_id,
                          Json result, std::optional<TimestampUs> started_at);
  Result<Task> EndAttempt(SqliteDatabase& db, Task task, TaskError error, bool retryable,
                          TimestampUs now);
  Result<bool> CancelOp(SqliteDatabase& db, Task& task, TimestampUs now);
  Result<int64_t> SweepOp(SqliteDatabase& db, TimestampUs now);
  Status Requeue(SqliteDatabase& db, Task task, bool count_attempt, TimestampUs now);
  /// Any non-terminal state → failed with `code`, without a retry (task.failed).
  Status EndTask(SqliteDatabase& db, Task task, std::string code, std::string message,
                 TimestampUs now);
  Status Save(SqliteDatabase& db, TaskStatus old_status, const Task& task,
              std::optional<TimestampUs> new_start_deadline = std::nullopt);
  Result<int64_t> WaitingCount(SqliteDatabase& db, const std::string& namespace_id);
  TimestampUs BackoffUs(const RetryPolicy& retry, int attempt);

  const std::shared_ptr<SqliteStoreFile> file_;
  const Clock& clock_;
  GroupCommitWriter& writer_;
  ConnectionPool& readers_;
  int rollback_hook_ = -1;

  // Writer-thread state: touched only by operations, which run one at a time.
  std::map<std::string, TokenBucket> buckets_;  // by kind
  // Pending + scheduled tasks per namespace, loaded lazily for the cap check and kept up to date
  // by Save; dropped whenever a batch rolls anything back (the counts could then be stale).
  std::map<std::string, int64_t> waiting_counts_;
  std::mt19937_64 rng_;  // backoff jitter
};

}  // namespace argus::store::sqlite
