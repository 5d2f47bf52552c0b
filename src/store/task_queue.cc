#include "store/task_queue.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdint>

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

// Writes the public task record with RapidJSON's writer: this text is stored with every event
// (three per task), so it is built without an intermediate JSON tree.
class TaskWriter {
 public:
  explicit TaskWriter(rapidjson::StringBuffer& buffer) : w_(buffer) {}

  void Write(const Task& t) {
    w_.StartObject();
    Str("id", t.id);
    Str("kind", t.kind);
    Str("queue", t.queue);
    Key("priority");
    w_.Int(t.priority);
    Str("status", TaskStatusName(t.status));
    Raw("input", t.input);
    StrOrNull("idempotency_key", t.idempotency_key);
    Key("attempt");
    w_.Int(t.attempt);
    Key("crash_count");
    w_.Int(t.crash_count);
    Key("retry");
    w_.StartObject();
    Num("initial_interval_s", t.retry.initial_interval_s);
    Num("backoff_coefficient", t.retry.backoff_coefficient);
    Num("max_interval_s", t.retry.max_interval_s);
    Key("max_attempts");
    w_.Int(t.retry.max_attempts);
    Key("non_retryable_codes");
    w_.StartArray();
    for (const auto& code : t.retry.non_retryable_codes) Value(code);
    w_.EndArray();
    w_.EndObject();
    Key("timeouts");
    w_.StartObject();
    Num("schedule_to_start_s", t.timeouts.schedule_to_start_s);
    Num("start_to_close_s", t.timeouts.start_to_close_s);
    Num("heartbeat_s", t.timeouts.heartbeat_s);
    w_.EndObject();
    Key("progress");
    w_.StartObject();
    Num("fraction", t.progress);
    StrOrNull("message", t.progress_message);
    w_.EndObject();
    Raw("result", t.result);
    Key("error");
    if (t.error) {
      w_.StartObject();
      Str("code", t.error->code);
      Str("message", t.error->message);
      Key("attempt");
      w_.Int(t.error->attempt);
      w_.EndObject();
    } else {
      w_.Null();
    }
    StrOrNull("parent_id", t.parent_id);
    StrOrNull("worker_id", t.worker_id);
    Key("cancel_requested");
    w_.Bool(t.cancel_requested);
    Str("created_at", FormatRfc3339(t.created_at));
    Str("updated_at", FormatRfc3339(t.updated_at));
    Str("run_at", FormatRfc3339(t.run_at));
    Time("started_at", t.started_at);
    Time("finished_at", t.finished_at);
    w_.EndObject();
  }

 private:
  void Key(std::string_view k) { w_.Key(k.data(), static_cast<rapidjson::SizeType>(k.size())); }
  void Value(std::string_view v) {
    w_.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
  }
  void Str(std::string_view k, std::string_view v) {
    Key(k);
    Value(v);
  }
  void StrOrNull(std::string_view k, const std::string& v) {
    Key(k);
    if (v.empty()) {
      w_.Null();
    } else {
      Value(v);
    }
  }
  void Num(std::string_view k, double v) {
    Key(k);
    w_.Double(v);
  }
  void Time(std::string_view k, const std::optional<TimestampUs>& t) {
    if (t) {
      Str(k, FormatRfc3339(*t));
    } else {
      Key(k);
      w_.Null();
    }
  }
  void Raw(std::string_view k, const Json& v) {
    Key(k);
    std::string text = v.dump(-1, ' ', false, Json::error_handler_t::replace);
    w_.RawValue(text.data(), text.size(), rapidjson::kObjectType);
  }

  rapidjson::Writer<rapidjson::StringBuffer> w_;
};

}  // namespace

std::string TaskJsonText(const Task& task) {
  rapidjson::StringBuffer buffer;
  TaskWriter(buffer).Write(task);
  return std::string(buffer.GetString(), buffer.GetSize());
}

Json TaskToJson(const Task& task) {
  // Our own output: it always parses.
  static const JsonLimits kOwn{.max_depth = 1024, .max_string_bytes = SIZE_MAX};
  auto parsed = ParseJson(TaskJsonText(task), kOwn);
  return parsed.ok() ? std::move(parsed).value() : Json(nullptr);
}

}  // namespace argus::store
