// SqliteTaskQueue, the tasks whose workers went away: expired leases (Sweep), a worker that says
// goodbye (ReleaseWorker) and one that died with tasks running (RecoverWorker, with the crash
// count that ends a poison task). Split from sqlite_task_queue.cc by responsibility.
#include <fmt/format.h>

#include <string>
#include <utility>

#include "store/sqlite/sqlite_task_queue.h"
#include "store/sqlite/sqlite_task_rows.h"

namespace argus::store::sqlite {
namespace {

// Why an attempt timed out (durations were checked at enqueue, so the product cannot overflow).
std::string AttemptTimeoutMessage(const Task& t, TimestampUs now) {
  if (t.timeouts.start_to_close_s > 0 && t.started_at &&
      now - *t.started_at > static_cast<TimestampUs>(t.timeouts.start_to_close_s * 1e6)) {
    return fmt::format("attempt {} ran longer than start_to_close_s = {} s", t.attempt,
                       t.timeouts.start_to_close_s);
  }
  return fmt::format("attempt {} sent no heartbeat for longer than heartbeat_s = {} s", t.attempt,
                     t.timeouts.heartbeat_s);
}

}  // namespace

Result<int64_t> SqliteTaskQueue::Sweep(TimestampUs now) {
  return RunWrite(writer_, [&](SqliteDatabase& db) { return SweepOp(db, now); });
}

Result<std::optional<TimestampUs>> SqliteTaskQueue::NextSweepAt() {
  ARGUS_ASSIGN_OR_RETURN(auto db, readers_.Acquire());
  return NextSweepDeadline(*db);
}

Result<int64_t> SqliteTaskQueue::SweepOp(SqliteDatabase& db, TimestampUs now) {
  int64_t changed = 0;
  // Timeouts first: a task that stopped heartbeating has failed its attempt, even when its
  // lease has also run out.
  ARGUS_ASSIGN_OR_RETURN(std::vector<std::string> timed_out, AttemptTimedOutIds(db, now));
  for (const std::string& id : timed_out) {
    ARGUS_ASSIGN_OR_RETURN(std::optional<Task> t, LoadTask(db, id));
    if (!t) continue;
    TaskError error{.code = "timeout", .message = AttemptTimeoutMessage(*t, now)};
    ARGUS_RETURN_IF_ERROR(EndAttempt(db, std::move(*t), std::move(error), true, now).status());
    ++changed;
  }
  ARGUS_ASSIGN_OR_RETURN(std::vector<std::string> expired, LeaseExpiredIds(db, now));
  for (const std::string& id : expired) {
    ARGUS_ASSIGN_OR_RETURN(std::optional<Task> t, LoadTask(db, id));
    if (!t) continue;
    if (t->attempt >= t->retry.max_attempts) {
      // Each lost lease spent an attempt: a task whose workers keep vanishing ends here.
      std::string message = fmt::format(
          "the lease of attempt {} (of at most {}) expired: its worker stopped heartbeating",
          t->attempt, t->retry.max_attempts);
      ARGUS_RETURN_IF_ERROR(EndTask(db, std::move(*t), "lease_expired", std::move(message), now));
    } else {
      ARGUS_RETURN_IF_ERROR(Requeue(db, std::move(*t), /*count_attempt=*/true, now));
    }
    ++changed;
  }
  ARGUS_ASSIGN_OR_RETURN(std::vector<std::string> late, StartDeadlinePassedIds(db, now));
  for (const std::string& id : late) {
    ARGUS_ASSIGN_OR_RETURN(std::optional<Task> t, LoadTask(db, id));
    if (!t) continue;
    std::string message = fmt::format("not started within schedule_to_start_s = {} s",
                                      t->timeouts.schedule_to_start_s);
    ARGUS_RETURN_IF_ERROR(EndTask(db, std::move(*t), "timeout", std::move(message), now));
    ++changed;
  }
  return changed;
}

Status SqliteTaskQueue::EndTask(SqliteDatabase& db, Task t, std::string code, std::string message,
                                TimestampUs now) {
  const TaskStatus old_status = t.status;
  t.status = TaskStatus::kFailed;
  t.error = TaskError{.code = std::move(code), .message = std::move(message), .attempt = t.attempt};
  ClearLease(t);
  t.finished_at = now;
  t.updated_at = now;
  ARGUS_RETURN_IF_ERROR(Save(db, old_status, t));
  return AppendTaskEvent(db, "task.failed", t, now);
}

Status SqliteTaskQueue::Requeue(SqliteDatabase& db, Task t, bool count_attempt, TimestampUs now) {
  const TaskStatus old_status = t.status;
  t.status = TaskStatus::kPending;
  if (!count_attempt) t.attempt = std::max(0, t.attempt - 1);
  ClearLease(t);
  t.updated_at = now;
  ARGUS_RETURN_IF_ERROR(Save(db, old_status, t));
  return AppendTaskEvent(db, "task.retrying", t, now);
}

Result<int64_t> SqliteTaskQueue::ReleaseWorker(std::string_view worker_id) {
  if (worker_id.empty()) return InvalidArgumentError("releasing a worker needs its id");
  return RunWrite(writer_, [&](SqliteDatabase& db) -> Result<int64_t> {
    const TimestampUs now = clock_.NowUs();
    ARGUS_ASSIGN_OR_RETURN(std::vector<std::string> ids, RunningIdsOfWorker(db, worker_id));
    for (const std::string& id : ids) {
      ARGUS_ASSIGN_OR_RETURN(std::optional<Task> t, LoadTask(db, id));
      if (!t) return InternalError(fmt::format("running task '{}' vanished", id));
      // A crash or a shutdown is not the task's fault: the attempt is handed back.
      ARGUS_RETURN_IF_ERROR(Requeue(db, std::move(*t), /*count_attempt=*/false, now));
    }
    return static_cast<int64_t>(ids.size());
  });
}

Result<int64_t> SqliteTaskQueue::RecoverWorker(std::string_view worker_id, int max_crash_attempts) {
  if (worker_id.empty()) return InvalidArgumentError("recovering a worker needs its id");
  if (max_crash_attempts < 0) {
    return InvalidArgumentError(
        fmt::format("max_crash_attempts must be >= 0, not {}", max_crash_attempts));
  }
  return RunWrite(writer_, [&](SqliteDatabase& db) -> Result<int64_t> {
    const TimestampUs now = clock_.NowUs();
    ARGUS_ASSIGN_OR_RETURN(std::vector<std::string> ids, RunningIdsOfWorker(db, worker_id));
    for (const std::string& id : ids) {
      ARGUS_ASSIGN_OR_RETURN(std::optional<Task> t, LoadTask(db, id));
      if (!t) return InternalError(fmt::format("running task '{}' vanished", id));
      if (!t->started_at) {  // leased ahead, never started: it cannot have caused the crash
        ARGUS_RETURN_IF_ERROR(Requeue(db, std::move(*t), /*count_attempt=*/false, now));
        continue;
      }
      t->crash_count += 1;
      if (t->crash_count > max_crash_attempts) {
        std::string message = fmt::format(
            "the server stopped abruptly {} times while running this task (more than "
            "tasks.max_crash_attempts = {}): it is not run again, so that it cannot take the "
            "server down at every start",
            t->crash_count, max_crash_attempts);
        ARGUS_RETURN_IF_ERROR(
            EndTask(db, std::move(*t), "worker_crashed", std::move(message), now));
      } else {
        ARGUS_RETURN_IF_ERROR(Requeue(db, std::move(*t), /*count_attempt=*/false, now));
      }
    }
    return static_cast<int64_t>(ids.size());
  });
}

}  // namespace argus::store::sqlite
