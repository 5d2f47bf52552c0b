#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "store/sqlite/sqlite_database.h"
#include "store/task_queue.h"

// Row-level access to the task tables of metadata.db for SqliteTaskQueue: how a Task maps onto the
// `tasks` table and how events, queue flags and kind limits are stored. No queue semantics live
// here (which transition is allowed, what an event means): that is sqlite_task_queue.cc. Each
// function runs on the connection it is given, inside whatever transaction the caller holds.
//
// Representation: input, result and the retry policy are JSON text; timeouts and progress are
// REAL columns (the sweep compares them in SQL); the error is three nullable columns; empty
// strings are stored as '' (not NULL) so that equality filters stay simple.

namespace argus::store::sqlite {

/// The task with `id`, or nullopt. Internal when the row is corrupt.
Result<std::optional<Task>> LoadTask(SqliteDatabase& db, std::string_view id);

/// Forgets the task's lease (its id and expiry), as every way out of running does.
void ClearLease(Task& task);

/// The task of `namespace_id` holding `key`, or nullopt. REQUIRES: key is not empty.
Result<std::optional<Task>> FindTaskByIdempotencyKey(SqliteDatabase& db,
                                                     std::string_view namespace_id,
                                                     std::string_view key);

/// Inserts a new task row. `start_deadline` is when a task still waiting to start fails with a
/// schedule-to-start timeout (nullopt: never).
/// JSON as the task table stores it.
std::string DumpStoredJson(const Json& value);

/// A new task with the text its INSERT and its task.created event need, made before the write
/// (off the single writer thread).
struct PreparedTask {
  Task task;
  std::optional<TimestampUs> start_deadline;
  std::string input_json;
  std::string retry_json;
  std::string result_json;
  std::string event_json;  ///< TaskJsonText(task)
};
PreparedTask PrepareNewTask(Task task, std::optional<TimestampUs> start_deadline);
/// Inserts the new tasks' rows in order, with multi-row INSERTs. AlreadyExists when an
/// idempotency key is taken (nothing of the call is then left to keep: the caller's savepoint
/// rolls it back).
Status InsertTasks(SqliteDatabase& db, std::span<const PreparedTask* const> tasks);

/// A task the caller completed from its leased copy, for SaveSucceededIfUnchanged.
struct SucceededRow {
  const Task* done;  ///< the task as completed
  std::string_view lease_id;
  TimestampUs leased_updated_at = 0;
  std::string_view result_json;
};

/// running → succeeded for each task whose row has not changed since it was leased (same lease
/// and updated_at as `leased_updated_at`), with multi-row UPDATEs. Per row: true when written,
/// false (nothing written) when the row changed; the caller then takes the general path.
/// REQUIRES: the ids are distinct.
Result<std::vector<bool>> SaveSucceededIfUnchanged(SqliteDatabase& db,
                                                   std::span<const SucceededRow> rows);

/// Writes every mutable field of `task` (status, attempt, progress, result, error, lease,
/// flags and times) to its row. The start deadline is dropped when the task leaves
/// pending/scheduled, replaced when `new_start_deadline` is given, and kept otherwise.
Status SaveTask(SqliteDatabase& db, const Task& task,
                std::optional<TimestampUs> new_start_deadline = std::nullopt);

/// pending/scheduled → running, with multi-row UPDATEs that write only what a new attempt
/// changes (status, attempt, started_at, worker, lease, heartbeat_at = updated_at, progress
/// reset; the start deadline is dropped). REQUIRES: each task is its row as read in this
/// transaction with those fields updated, updated_at == heartbeat_at, and the ids are distinct.
Status SaveStartedTasks(SqliteDatabase& db, std::span<const Task> tasks);

/// Appends an event about `task` (its ids and queue) whose data, TaskJsonText of the task, the
/// caller already has.
Status AppendTaskEventText(SqliteDatabase& db, std::string_view type, const Task& task,
                           std::string_view data_json, TimestampUs at);
/// The same, making the data here.
Status AppendTaskEvent(SqliteDatabase& db, std::string_view type, const Task& task, TimestampUs at);

/// A page of `filter.namespace_id`'s tasks after `page.after_id` in id order.
/// REQUIRES: namespace_id is set and page.limit is in 1..1000.
Result<Page<Task>> ListTaskRows(SqliteDatabase& db, const TaskFilter& filter,
                                const PageRequest& page);

/// Ids of the non-terminal tasks matching `filter`, in id order.
Result<std::vector<std::string>> MatchingLiveTaskIds(SqliteDatabase& db, const TaskFilter& filter);

/// Pending tasks of `queue`, plus scheduled ones with run_at <= now, of `namespace_id` (empty:
/// any), restricted to `kinds` (empty: all) and not of `excluded_kinds`; the best `limit` of
/// each, by priority then id, as whole rows (a lease needs no second read).
Result<std::vector<Task>> FindRunnableTasks(SqliteDatabase& db, std::string_view namespace_id,
                                            std::string_view queue,
                                            const std::vector<std::string>& kinds,
                                            const std::vector<std::string>& excluded_kinds,
                                            TimestampUs now, int limit);

/// The earliest run_at of the scheduled tasks of `queue` (empty: any) and `namespace_id` (empty:
/// any), nullopt when none is scheduled.
Result<std::optional<TimestampUs>> NextScheduledRunAt(SqliteDatabase& db,
                                                      std::string_view namespace_id,
                                                      std::string_view queue);
/// Pending + scheduled tasks of a namespace (what max_pending_per_namespace caps).
Result<int64_t> CountWaitingTasks(SqliteDatabase& db, std::string_view namespace_id);
/// Running tasks of a kind (what KindLimits::max_running caps).
Result<int64_t> CountRunningOfKind(SqliteDatabase& db, std::string_view kind);

/// Ids of running tasks whose attempt outlived start_to_close_s or heartbeat_s at `now`.
Result<std::vector<std::string>> AttemptTimedOutIds(SqliteDatabase& db, TimestampUs now);
/// The earliest moment a sweep has something to do: a running task's lease expiry, heartbeat
/// or start-to-close deadline, or a waiting task's start deadline; nullopt when none exists.
Result<std::optional<TimestampUs>> NextSweepDeadline(SqliteDatabase& db);
/// Ids of running tasks whose lease expired at or before `now`.
Result<std::vector<std::string>> LeaseExpiredIds(SqliteDatabase& db, TimestampUs now);
/// Ids of pending/scheduled tasks whose start deadline passed before `now`.
Result<std::vector<std::string>> StartDeadlinePassedIds(SqliteDatabase& db, TimestampUs now);
/// Ids of the tasks running under `worker_id`.
Result<std::vector<std::string>> RunningIdsOfWorker(SqliteDatabase& db, std::string_view worker_id);

/// Records that `queue` exists (unpaused unless flagged already), so Lease can find it.
Status RegisterQueue(SqliteDatabase& db, std::string_view queue);
Status SetQueuePausedRow(SqliteDatabase& db, std::string_view queue, bool paused);
/// Unpaused known queues, by name.
Result<std::vector<std::string>> UnpausedQueues(SqliteDatabase& db);

/// Stored limits; a kind without a row is unlimited. All-zero limits delete the row.
Result<std::map<std::string, KindLimits>> LoadKindLimits(SqliteDatabase& db);
Status SaveKindLimits(SqliteDatabase& db, std::string_view kind, const KindLimits& limits);

/// Per-queue counts of non-terminal tasks plus paused flags, by queue name.
Result<std::vector<QueueStats>> ReadQueueStats(SqliteDatabase& db, std::string_view namespace_id,
                                               TimestampUs now);

/// Deletes terminal tasks finished before `before`; returns how many.
Result<int64_t> PurgeRows(SqliteDatabase& db, TimestampUs before);

}  // namespace argus::store::sqlite
