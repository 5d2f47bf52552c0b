#include "store/task_queue.h"

namespace argus::store {

std::string_view TaskStatusName(TaskStatus status) {
  switch (status) {
    case TaskStatus::kPending:
      return "pending";
    case TaskStatus::kScheduled:
      return "scheduled";
    case TaskStatus::kRunning:
      return "running";
    case TaskStatus::kSucceeded:
      return "succeeded";
    case TaskStatus::kFailed:
      return "failed";
    case TaskStatus::kCancelled:
      return "cancelled";
  }
  return "pending";
}

Result<TaskStatus> ParseTaskStatus(std::string_view name) {
  for (TaskStatus s : {TaskStatus::kPending, TaskStatus::kScheduled, TaskStatus::kRunning,
                       TaskStatus::kSucceeded, TaskStatus::kFailed, TaskStatus::kCancelled}) {
    if (TaskStatusName(s) == name) return s;
  }
  return InvalidArgumentError("unknown task status '" + std::string(name) +
                              "' (pending, scheduled, running, succeeded, failed, cancelled)");
}

bool IsTerminal(TaskStatus status) {
  return status == TaskStatus::kSucceeded || status == TaskStatus::kFailed ||
         status == TaskStatus::kCancelled;
}

namespace {

Json OptionalTime(const std::optional<TimestampUs>& t) {
  return t ? Json(FormatRfc3339(*t)) : Json(nullptr);
}

Json OrNull(const std::string& s) { return s.empty() ? Json(nullptr) : Json(s); }

}  // namespace

Json TaskToJson(const Task& t) {
  Json j = {
      {"id", t.id},
      {"kind", t.kind},
      {"queue", t.queue},
      {"priority", t.priority},
      {"status", TaskStatusName(t.status)},
      {"input", t.input},
      {"idempotency_key", OrNull(t.idempotency_key)},
      {"attempt", t.attempt},
      {"retry",
       {{"initial_interval_s", t.retry.initial_interval_s},
        {"backoff_coefficient", t.retry.backoff_coefficient},
        {"max_interval_s", t.retry.max_interval_s},
        {"max_attempts", t.retry.max_attempts},
        {"non_retryable_codes", t.retry.non_retryable_codes}}},
      {"timeouts",
       {{"schedule_to_start_s", t.timeouts.schedule_to_start_s},
        {"start_to_close_s", t.timeouts.start_to_close_s},
        {"heartbeat_s", t.timeouts.heartbeat_s}}},
      {"progress", {{"fraction", t.progress}, {"message", OrNull(t.progress_message)}}},
      {"result", t.result},
      {"error", t.error ? Json{{"code", t.error->code},
                               {"message", t.error->message},
                               {"attempt", t.error->attempt}}
                        : Json(nullptr)},
      {"parent_id", OrNull(t.parent_id)},
      {"worker_id", OrNull(t.worker_id)},
      {"cancel_requested", t.cancel_requested},
      {"created_at", FormatRfc3339(t.created_at)},
      {"updated_at", FormatRfc3339(t.updated_at)},
      {"run_at", FormatRfc3339(t.run_at)},
      {"started_at", OptionalTime(t.started_at)},
      {"finished_at", OptionalTime(t.finished_at)},
  };
  return j;
}

}  // namespace argus::store
