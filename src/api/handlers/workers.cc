// The protocol external workers (any language) use to run tasks: lease (long poll), then
// heartbeat / complete / fail with the lease id.
#include <mutex>

#include "api/handlers/handlers.h"
#include "api/task_waiter.h"

namespace argus::api {

namespace {

const Json kLeaseSchema = {
    {"type", "object"},
    {"additionalProperties", false},
    {"required", {"worker_id"}},
    {"properties",
     {{"worker_id", {{"type", "string"}, {"minLength", 1}, {"maxLength", 200}}},
      {"kinds", {{"type", "array"}, {"maxItems", 100}, {"items", {{"type", "string"}}}}},
      {"queues", {{"type", "array"}, {"maxItems", 100}, {"items", {{"type", "string"}}}}},
      {"max_tasks", {{"type", "integer"}, {"minimum", 1}, {"maximum", 100}}},
      {"wait_s", {{"type", "number"}, {"minimum", 0}, {"maximum", 60}}},
      {"lease_s", {{"type", "number"}, {"minimum", 1}, {"maximum", 3600}}}}}};

const Json kHeartbeatSchema = {
    {"type", "object"},
    {"additionalProperties", false},
    {"required", {"lease_id"}},
    {"properties",
     {{"lease_id", {{"type", "string"}}},
      {"progress", {{"type", "number"}, {"minimum", 0}, {"maximum", 1}}},
      {"message", {{"type", "string"}, {"maxLength", 1000}}},
      {"extend_s", {{"type", "number"}, {"minimum", 1}, {"maximum", 3600}}}}}};

const Json kCompleteSchema = {
    {"type", "object"},
    {"additionalProperties", false},
    {"required", {"lease_id"}},
    {"properties", {{"lease_id", {{"type", "string"}}}, {"result", Json::object()}}}};

const Json kFailSchema = {{"type", "object"},
                          {"additionalProperties", false},
                          {"required", {"lease_id", "error"}},
                          {"properties",
                           {{"lease_id", {{"type", "string"}}},
                            {"retryable", {{"type", "boolean"}}},
                            {"error",
                             {{"type", "object"},
                              {"additionalProperties", false},
                              {"required", {"code", "message"}},
                              {"properties",
                               {{"code", {{"type", "string"}, {"minLength", 1}, {"maxLength", 64}}},
                                {"message", {{"type", "string"}, {"maxLength", 4000}}}}}}}}}};

Json LeasedJson(const store::Task& t) {
  Json j = store::TaskToJson(t);
  j["lease_id"] = t.lease_id;
  j["lease_expires_at"] = FormatRfc3339(t.lease_expires_at);
  return j;
}

// Who may drive a task through the protocol: a key of the task's namespace with the editor
// role or more, or a global admin. The lease id itself is the capability that proves a worker
// holds the task; the namespace check keeps other tenants from even learning a task exists.
Result<store::Task> WorkerTask(HandlerEnv env, const RequestContext& ctx) {
  const Principal& who = *ctx.principal;
  if (who.global) {
    store::Task t;
    t.id = std::string(ctx.PathParam("id"));
    return t;
  }
  if (who.role == store::Role::kViewer) {
    return PermissionDeniedError("running tasks needs the editor role");
  }
  return env.deps->tasks->Get(who.namespace_id, ctx.PathParam("id"));
}

// The task metrics of attempts that external workers finish (in-process workers count their
// own in the worker pool, under the same names).
class ExternalTaskMetrics {
 public:
  explicit ExternalTaskMetrics(MetricsRegistry& m)
      : total_(m.AddCounter("argus_tasks_total", "Task attempts finished, by kind and outcome.",
                            {"kind", "status"})),
        seconds_(m.AddHistogram("argus_task_duration_seconds", "Run time of one task attempt.",
                                {"kind"})),
        retries_(m.AddCounter("argus_task_retries_total",
                              "Task attempts that failed and were scheduled again.")
                     .WithLabels({})) {}

  void Finished(const store::Task& t) {
    total_.WithLabels({t.kind, std::string(store::TaskStatusName(t.status))}).Inc();
    if (t.status == store::TaskStatus::kScheduled) retries_.Inc();
    if (t.started_at) {
      TimestampUs end = t.finished_at.value_or(t.updated_at);
      seconds_.WithLabels({t.kind}).Observe(static_cast<double>(end - *t.started_at) / 1e6);
    }
  }

 private:
  Family<Counter>& total_;
  Family<Histogram>& seconds_;
  Counter& retries_;
};

}  // namespace

void AddWorkerProtocolRoutes(Router& router, HandlerEnv env) {
  auto metrics = std::make_shared<ExternalTaskMetrics>(*env.deps->metrics);
  router.Add(
      {.method = "POST",
       .pattern = "/v1/workers/lease",
       .operation_id = "leaseTasks",
       .summary = "Lease tasks for an external worker (long poll up to wait_s)",
       .tag = "workers",
       .access = Access::kAnyKey,
       .request_schema = kLeaseSchema,
       .response_schema = {{"type", "object"}, {"properties", {{"tasks", {{"type", "array"}}}}}},
       .handler = [env](RequestContext& ctx) -> Result<ApiResponse> {
         const Principal& who = *ctx.principal;
         if (!who.global && who.role == store::Role::kViewer) {
           return PermissionDeniedError("leasing tasks needs the editor role");
         }
         store::LeaseRequest req;
         req.worker_id = ctx.body["worker_id"].get<std::string>();
         req.namespace_id = who.global ? ctx.namespace_id : who.namespace_id;
         req.kinds = ctx.body.value("kinds", std::vector<std::string>{});
         req.queues = ctx.body.value("queues", std::vector<std::string>{});
         req.max_tasks = ctx.body.value("max_tasks", 1);
         req.lease_s = ctx.body.value("lease_s", 30.0);
         double wait_s = ctx.body.value("wait_s", 0.0);
         ARGUS_RETURN_IF_ERROR(env.workers->TouchExternal(
             req.namespace_id, req.namespace_id.empty() ? "" : ctx.namespace_name, req.worker_id,
             std::string(ctx.http.peer_ip), req.queues));
         auto answer = [](const std::vector<store::Task>& tasks) {
           Json out = Json::array();
           for (const auto& t : tasks) out.push_back(LeasedJson(t));
           return ApiResponse::Of(200, {{"tasks", std::move(out)}});
         };
         ARGUS_ASSIGN_OR_RETURN(auto leased, env.deps->tasks->Lease(req));
         if (!leased.empty() || wait_s <= 0 || env.waiter == nullptr) return answer(leased);
         ApiResponse deferred;
         deferred.deferred = [env, req, wait_s,
                              answer](std::function<void(Result<ApiResponse>)> complete) {
           auto deadline = std::chrono::steady_clock::now() +
                           std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                               std::chrono::duration<double>(wait_s));
           env.waiter->Poll(deadline, req.namespace_id, req.queues,
                            [env, req, answer, complete](bool final) -> TaskWaiter::PollResult {
                              auto leased = env.deps->tasks->Lease(req);
                              if (!leased.ok()) {
                                complete(leased.status());
                                return {.done = true};
                              }
                              if (!leased->empty() || final) {
                                complete(answer(*leased));
                                return {.done = true};
                              }
                              // Nothing yet: events wake the poll; a scheduled task coming due does
                              // not.
                              TaskWaiter::PollResult wait;
                              auto next = env.deps->tasks->NextRunAt(req.namespace_id, req.queues);
                              if (next.ok() && next->has_value()) {
                                const int64_t in_us = **next - env.deps->clock->NowUs();
                                wait.retry_at =
                                    TaskWaiter::Clock::now() +
                                    std::chrono::microseconds(std::max<int64_t>(0, in_us));
                              }
                              return wait;
                            });
         };
         return deferred;
       }});
  router.Add({.method = "POST",
              .pattern = "/v1/tasks/{id}/heartbeat",
              .operation_id = "heartbeatTask",
              .summary = "Extend a lease and report progress; answers cancel_requested",
              .tag = "workers",
              .access = Access::kAnyKey,
              .request_schema = kHeartbeatSchema,
              .response_schema = {{"type", "object"}},
              .handler = [env](RequestContext& ctx) -> Result<ApiResponse> {
                ARGUS_ASSIGN_OR_RETURN(auto task, WorkerTask(env, ctx));
                std::optional<double> progress;
                if (ctx.body.contains("progress")) progress = ctx.body["progress"].get<double>();
                std::optional<std::string> message;
                if (ctx.body.contains("message")) message = ctx.body["message"].get<std::string>();
                ARGUS_ASSIGN_OR_RETURN(
                    auto t, env.deps->tasks->Heartbeat(
                                task.id, ctx.body["lease_id"].get<std::string>(),
                                ctx.body.value("extend_s", 30.0), progress, std::move(message)));
                return ApiResponse::Of(200, LeasedJson(t));
              }});
  router.Add({.method = "POST",
              .pattern = "/v1/tasks/{id}/complete",
              .operation_id = "completeTask",
              .summary = "Finish a leased task with its result",
              .tag = "workers",
              .access = Access::kAnyKey,
              .request_schema = kCompleteSchema,
              .response_schema = {{"type", "object"}},
              .handler = [env, metrics](RequestContext& ctx) -> Result<ApiResponse> {
                ARGUS_ASSIGN_OR_RETURN(auto task, WorkerTask(env, ctx));
                Json result = ctx.body.contains("result") ? ctx.body["result"] : Json::object();
                ARGUS_ASSIGN_OR_RETURN(auto t, env.deps->tasks->Complete(
                                                   task.id, ctx.body["lease_id"].get<std::string>(),
                                                   std::move(result)));
                metrics->Finished(t);
                return ApiResponse::Of(200, store::TaskToJson(t));
              }});
  router.Add(
      {.method = "POST",
       .pattern = "/v1/tasks/{id}/fail",
       .operation_id = "failTask",
       .summary = "End a leased task's attempt with an error (retried per its policy)",
       .tag = "workers",
       .access = Access::kAnyKey,
       .request_schema = kFailSchema,
       .response_schema = {{"type", "object"}},
       .handler = [env, metrics](RequestContext& ctx) -> Result<ApiResponse> {
         ARGUS_ASSIGN_OR_RETURN(auto task, WorkerTask(env, ctx));
         store::TaskError error{ctx.body["error"]["code"].get<std::string>(),
                                ctx.body["error"]["message"].get<std::string>(), task.attempt};
         ARGUS_ASSIGN_OR_RETURN(
             auto t, env.deps->tasks->Fail(task.id, ctx.body["lease_id"].get<std::string>(),
                                           std::move(error), ctx.body.value("retryable", true)));
         metrics->Finished(t);
         return ApiResponse::Of(200, store::TaskToJson(t));
       }});
}

}  // namespace argus::api
