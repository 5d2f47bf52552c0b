#include "engine/worker/task_kinds.h"

#include <chrono>
#include <thread>

#include "core/json_schema.h"

namespace argus::engine {

bool TaskContext::Heartbeat(std::optional<double> progress, std::optional<std::string> message) {
  if (stopping()) return false;
  auto task = beat_(progress, std::move(message));
  if (!task.ok()) {
    // Aborted: the lease moved on (expired and re-leased); anything else: we cannot prove we
    // still own the task, so stop rather than do the work twice.
    lease_lost_ = true;
    return false;
  }
  if (task->cancel_requested) cancelled_ = true;
  return !cancelled_;
}

Status TaskKindRegistry::Register(TaskKind kind) {
  if (kinds_.count(kind.name)) return AlreadyExistsError("task kind '" + kind.name + "' twice");
  if (kind.name.empty()) return InvalidArgumentError("a task kind needs a name");
  if (!kind.handler) return InvalidArgumentError("task kind '" + kind.name + "' has no handler");
  // A kind whose schema does not compile would have the API accept any input for it.
  if (kind.input_schema.is_null()) kind.input_schema = Json::object();
  if (auto compiled = JsonSchema::Compile(kind.input_schema); !compiled.ok()) {
    return InvalidArgumentError("task kind '" + kind.name +
                                "': input_schema: " + std::string(compiled.status().message()));
  }
  std::string name = kind.name;
  kinds_.emplace(std::move(name), std::move(kind));
  return OkStatus();
}

const TaskKind* TaskKindRegistry::Find(std::string_view name) const {
  auto it = kinds_.find(name);
  return it == kinds_.end() ? nullptr : &it->second;
}

std::vector<std::string> TaskKindRegistry::Names() const {
  std::vector<std::string> out;
  for (const auto& [name, k] : kinds_) out.push_back(name);
  return out;
}

void RegisterBuiltinKinds(TaskKindRegistry& registry) {
  registry
      .Register({"noop", "does nothing (diagnostics, benchmarks); input ignored",
                 Json{{"type", "object"}},
                 [](TaskContext&) -> Result<Json> { return Json::object(); }})
      .IgnoreError();
  registry
      .Register({"sleep", "sleeps for input.seconds, heartbeating; cancellable",
                 Json{{"type", "object"},
                      {"additionalProperties", false},
                      {"required", {"seconds"}},
                      {"properties",
                       {{"seconds", {{"type", "number"}, {"minimum", 0}, {"maximum", 86400}}}}}},
                 [](TaskContext& ctx) -> Result<Json> {
                   double seconds = ctx.task().input.value("seconds", 0.0);
                   auto start = std::chrono::steady_clock::now();
                   auto end =
                       start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                   std::chrono::duration<double>(seconds));
                   auto next_beat = start;
                   while (std::chrono::steady_clock::now() < end) {
                     auto now = std::chrono::steady_clock::now();
                     if (ctx.stopping()) {
                       return Status(StatusCode::kCancelled, "the worker is shutting down");
                     }
                     if (now >= next_beat) {
                       double done = std::chrono::duration<double>(now - start).count() / seconds;
                       if (!ctx.Heartbeat(std::min(done, 1.0))) {
                         return Status(StatusCode::kCancelled, "sleep stopped before it finished");
                       }
                       next_beat = now + std::chrono::milliseconds(500);
                     }
                     std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
                         end - now, std::chrono::milliseconds(20)));
                   }
                   return Json{{"slept_s", seconds}};
                 }})
      .IgnoreError();
}

}  // namespace argus::engine
