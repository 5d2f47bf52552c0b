#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/json.h"
#include "core/result.h"
#include "store/task_queue.h"

namespace argus::engine {

/// What a running task sees: its record, and a way to report progress that also tells it to
/// stop. Owned by the worker; valid only during the handler call. Not thread-safe.
class TaskContext {
 public:
  /// `beat` records progress and returns the task as stored, or an error when the lease is lost.
  using BeatFn =
      std::function<Result<store::Task>(std::optional<double>, std::optional<std::string>)>;
  TaskContext(const store::Task& task, BeatFn beat, const std::atomic<bool>* stopping)
      : task_(task), beat_(std::move(beat)), stopping_(stopping) {}

  const store::Task& task() const { return task_; }
  /// Extends the lease and records progress (0..1) when given. Returns false when the task
  /// should stop now: cancelled, lease lost, or the worker is shutting down.
  bool Heartbeat(std::optional<double> progress = std::nullopt,
                 std::optional<std::string> message = std::nullopt);
  /// True once Heartbeat has seen a cancel request or a lost lease.
  bool cancelled() const { return cancelled_; }
  bool lease_lost() const { return lease_lost_; }
  bool stopping() const { return stopping_ != nullptr && stopping_->load(); }

 private:
  const store::Task& task_;
  BeatFn beat_;
  const std::atomic<bool>* stopping_;
  bool cancelled_ = false;
  bool lease_lost_ = false;
};

/// A task kind's implementation: input (in ctx.task().input) → result JSON, or an error whose
/// code becomes the task error code. Must return promptly once ctx.Heartbeat() returns false.
using TaskHandler = std::function<Result<Json>(TaskContext& ctx)>;

struct TaskKind {
  std::string name;
  std::string description;
  Json input_schema;  ///< JSON Schema of `input` (validated by the API at submission)
  TaskHandler handler;
  /// Enqueued only by the server itself (its scheduler); the API refuses it from clients.
  bool internal = false;
};

/// The kinds this process can run. Filled at start-up, read-only afterwards (thread-safe).
class TaskKindRegistry {
 public:
  /// AlreadyExists for a name taken; InvalidArgument for no name, no handler or an input schema
  /// that does not compile (the validator in the entry: a bad kind stops start-up).
  Status Register(TaskKind kind);
  const TaskKind* Find(std::string_view name) const;
  std::vector<std::string> Names() const;

 private:
  std::map<std::string, TaskKind, std::less<>> kinds_;
};

/// `noop` (input ignored, result {}) and `sleep` ({"seconds": number}, cancellable, heartbeats).
void RegisterBuiltinKinds(TaskKindRegistry& registry);

}  // namespace argus::engine
