#include <algorithm>

#include "api/handlers/handlers.h"
#include "core/json_schema.h"

namespace argus::api {

namespace {

const Json kRetrySchema = {
    {"type", "object"},
    {"additionalProperties", false},
    {"properties",
     {{"initial_interval_s", {{"type", "number"}, {"minimum", 0}, {"maximum", 86400}}},
      {"backoff_coefficient", {{"type", "number"}, {"minimum", 1}, {"maximum", 100}}},
      {"max_interval_s", {{"type", "number"}, {"minimum", 0}, {"maximum", 604800}}},
      {"max_attempts", {{"type", "integer"}, {"minimum", 1}, {"maximum", 1000}}},
      {"non_retryable_codes",
       {{"type", "array"},
        {"maxItems", 50},
        {"items", {{"type", "string"}, {"maxLength", 64}}}}}}}};

const Json kTimeoutsSchema = {{"type", "object"},
                              {"additionalProperties", false},
                              {"properties",
                               {{"schedule_to_start_s", {{"type", "number"}, {"minimum", 0}}},
                                {"start_to_close_s", {{"type", "number"}, {"minimum", 0}}},
                                {"heartbeat_s", {{"type", "number"}, {"minimum", 0}}}}}};

const Json kNewTaskSchema = {
    {"type", "object"},
    {"additionalProperties", false},
    {"required", {"kind"}},
    {"properties",
     {{"kind",
       {{"type", "string"},
        {"minLength", 1},
        {"maxLength", 64},
        {"description", "noop, sleep, or a kind your own workers lease"}}},
      {"input", {{"type", "object"}}},
      {"queue", {{"type", "string"}, {"minLength", 1}, {"maxLength", 32}}},
      {"priority", {{"type", "integer"}, {"minimum", 0}, {"maximum", 9}}},
      {"run_at", {{"type", "string"}, {"format", "date-time"}}},
      {"idempotency_key", {{"type", "string"}, {"minLength", 1}, {"maxLength", 200}}},
      {"parent_id", {{"type", "string"}, {"maxLength", 64}}},
      {"retry", kRetrySchema},
      {"timeouts", kTimeoutsSchema}}}};

const Json kBatchSchema = {
    {"type", "object"},
    {"additionalProperties", false},
    {"required", {"tasks"}},
    {"properties",
     {{"tasks",
       {{"type", "array"}, {"minItems", 1}, {"maxItems", 1000}, {"items", kNewTaskSchema}}}}}};

const Json kFilterSchema = {
    {"type", "object"},
    {"additionalProperties", false},
    {"properties",
     {{"status", {{"type", "string"}, {"enum", {"pending", "scheduled", "running"}}}},
      {"kind", {{"type", "string"}}},
      {"queue", {{"type", "string"}}},
      {"parent_id", {{"type", "string"}}}}}};

const Json kTaskSchema = {
    {"type", "object"},
    {"required", {"id", "kind", "queue", "priority", "status", "attempt", "created_at"}},
    {"properties",
     {{"id", {{"type", "string"}}},
      {"kind", {{"type", "string"}}},
      {"queue", {{"type", "string"}}},
      {"priority", {{"type", "integer"}}},
      {"status",
       {{"type", "string"},
        {"enum", {"pending", "scheduled", "running", "succeeded", "failed", "cancelled"}}}},
      {"input", {{"type", "object"}}},
      {"attempt", {{"type", "integer"}}},
      {"crash_count",
       {{"type", "integer"},
        {"description", "times the server died while this task ran (tasks.max_crash_attempts)"}}},
      {"progress", {{"type", "object"}}},
      {"result", Json::object()},
      {"error", {{"type", {"object", "null"}}}},
      {"created_at", {{"type", "string"}, {"format", "date-time"}}}}}};

constexpr double kMaxWaitS = kMaxPreferWaitS;

}  // namespace

bool ValidTaskName(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
              c == '.' || c == ':';
    if (!ok) return false;
  }
  return s[0] >= 'a' && s[0] <= 'z';
}

namespace {

// JSON body (already schema-checked) → NewTask, with the checks a schema cannot express.
Result<store::NewTask> ToNewTask(HandlerEnv env, const RequestContext& ctx, const Json& body,
                                 const std::string& where) {
  store::NewTask t;
  t.namespace_id = ctx.namespace_id;
  t.kind = body["kind"].get<std::string>();
  if (!ValidTaskName(t.kind)) {
    return InvalidArgumentError(where + "kind '" + t.kind +
                                "' must be lowercase letters, digits, '_', '-', '.', ':'");
  }
  if (auto it = body.find("input"); it != body.end()) t.input = *it;
  // Kinds no worker published (external workers' own) are left to their workers to check.
  ARGUS_ASSIGN_OR_RETURN(auto known, env.task_kinds->Find(t.kind));
  if (known != nullptr) {
    if (known->entry.internal) {
      return InvalidArgumentError(where + "kind '" + t.kind +
                                  "' is started by Argus itself (e.g. sync runs: POST "
                                  "/v1/buckets/{bucket}/syncs/{id}/run)");
    }
    if (known->input_schema == nullptr) {
      return FailedPreconditionError(where + "kind '" + t.kind +
                                     "' was published with an input schema that does not "
                                     "compile (" +
                                     known->schema_error + "); fix the worker that serves it");
    }
    Status s = known->input_schema->Validate(t.input);
    if (!s.ok()) return InvalidArgumentError(where + "input: " + std::string(s.message()));
  }
  // Without a queue: "cpu", unless the kind's workers serve other queues only.
  std::string default_queue = "cpu";
  if (known != nullptr && !known->entry.queues.empty() &&
      std::find(known->entry.queues.begin(), known->entry.queues.end(), default_queue) ==
          known->entry.queues.end()) {
    default_queue = known->entry.queues.front();
  }
  t.queue = body.value("queue", default_queue);
  if (!ValidTaskName(t.queue))
    return InvalidArgumentError(where + "queue '" + t.queue + "' is invalid");
  t.priority = body.value("priority", 5);
  t.idempotency_key = body.value("idempotency_key", "");
  t.parent_id = body.value("parent_id", "");
  if (auto it = body.find("run_at"); it != body.end()) {
    TimestampUs ts;
    ParseRfc3339(it->get<std::string>(), &ts);
    t.run_at = ts;
  }
  if (auto it = body.find("retry"); it != body.end()) {
    t.retry.initial_interval_s = it->value("initial_interval_s", t.retry.initial_interval_s);
    t.retry.backoff_coefficient = it->value("backoff_coefficient", t.retry.backoff_coefficient);
    t.retry.max_interval_s = it->value("max_interval_s", t.retry.max_interval_s);
    t.retry.max_attempts = it->value("max_attempts", t.retry.max_attempts);
    t.retry.non_retryable_codes = it->value("non_retryable_codes", std::vector<std::string>{});
  }
  if (auto it = body.find("timeouts"); it != body.end()) {
    t.timeouts.schedule_to_start_s = it->value("schedule_to_start_s", 0.0);
    t.timeouts.start_to_close_s = it->value("start_to_close_s", 0.0);
    t.timeouts.heartbeat_s = it->value("heartbeat_s", 0.0);
  }
  return t;
}

Result<store::TaskFilter> FilterFrom(const RequestContext& ctx, const Json& source,
                                     bool from_query) {
  store::TaskFilter f;
  f.namespace_id = ctx.namespace_id;
  auto get = [&](const char* name) -> std::string {
    if (from_query) return ctx.Query(name).value_or("");
    return source.value(name, "");
  };
  if (std::string status = get("status"); !status.empty()) {
    ARGUS_ASSIGN_OR_RETURN(f.status, store::ParseTaskStatus(status));
  }
  f.kind = get("kind");
  f.queue = get("queue");
  f.parent_id = get(from_query ? "parent" : "parent_id");
  return f;
}

Json QueueStatsJson(const std::vector<store::QueueStats>& stats) {
  Json items = Json::array();
  for (const auto& q : stats) {
    items.push_back({{"queue", q.queue},
                     {"pending", q.pending},
                     {"scheduled", q.scheduled},
                     {"running", q.running},
                     {"oldest_pending_s", q.oldest_pending_s},
                     {"paused", q.paused}});
  }
  return {{"items", items}, {"next_cursor", nullptr}};
}

void AddQueueRoutes(Router& router, HandlerEnv env) {
  router.Add({.method = "GET",
              .pattern = "/v1/queues",
              .operation_id = "listQueues",
              .summary = "Queues with their depth and state: the namespace's own tasks in scope, "
                         "every namespace's for a global admin without X-Namespace",
              .tag = "tasks",
              .access = Access::kAnyKey,
              .response_schema = ListSchema({{"type", "object"}}),
              .handler = [env](RequestContext& ctx) -> Result<ApiResponse> {
                // A namespace key always has its namespace in scope: it never sees the totals.
                ARGUS_ASSIGN_OR_RETURN(auto stats, env.deps->tasks->Stats(ctx.namespace_id));
                return ApiResponse::Of(200, QueueStatsJson(stats));
              }});
  for (const char* action : {"pause", "resume"}) {
    bool pause = std::string_view(action) == "pause";
    router.Add({.method = "POST",
                .pattern = std::string("/v1/queues/{queue}/") + action,
                .operation_id = std::string(action) + "Queue",
                .summary = pause ? "Stop leasing from a queue (running tasks go on)"
                                 : "Resume leasing from a queue",
                .tag = "tasks",
                .access = Access::kGlobalAdmin,
                .success_status = 204,
                .handler = [env, pause](RequestContext& ctx) -> Result<ApiResponse> {
                  std::string queue(ctx.PathParam("queue"));
                  if (!ValidTaskName(queue)) return InvalidArgumentError("invalid queue name");
                  ARGUS_RETURN_IF_ERROR(env.deps->tasks->SetQueuePaused(queue, pause));
                  return ApiResponse::NoContent();
                }});
  }
  router.Add({.method = "GET",
              .pattern = "/v1/workers",
              .operation_id = "listWorkers",
              .summary = "Workers heard from in the last 10 minutes: id, host, queues, running "
                         "tasks, last heartbeat. With a namespace in scope, the external workers "
                         "that leased there; for a global admin without X-Namespace, every "
                         "worker (in-process ones first)",
              .tag = "tasks",
              .access = Access::kAnyKey,
              .response_schema = ListSchema({{"type", "object"}}),
              .handler = [env](RequestContext& ctx) -> Result<ApiResponse> {
                // In-process workers serve every namespace: their counts are global figures, so
                // only a global admin without a namespace in scope sees them.
                ARGUS_ASSIGN_OR_RETURN(Json items,
                                       env.workers->ToJson(ctx.namespace_id.empty()
                                                               ? std::nullopt
                                                               : std::optional(ctx.namespace_id)));
                return ApiResponse::Of(200, {{"items", items}, {"next_cursor", nullptr}});
              }});
}

}  // namespace

namespace {

// `answer(task)` once the task is terminal or `wait_s` has passed, whichever is first (at once
// when it is terminal already or nothing can wait).
using TaskAnswer = std::function<Result<ApiResponse>(const store::Task&)>;
Result<ApiResponse> AnswerWhenTerminal(HandlerEnv env, const store::Task& task, double wait_s,
                                       TaskAnswer answer) {
  if (store::IsTerminal(task.status) || env.waiter == nullptr) return answer(task);
  ApiResponse deferred;
  deferred.deferred = [env, ns = task.namespace_id, id = task.id, wait_s,
                       answer](std::function<void(Result<ApiResponse>)> complete) {
    auto deadline = std::chrono::steady_clock::now() +
                    std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                        std::chrono::duration<double>(wait_s));
    env.waiter->Wait(ns, id, deadline, [env, ns, id, answer, complete](bool) {
      auto t = env.deps->tasks->Get(ns, id);
      if (!t.ok()) return complete(t.status());
      complete(answer(*t));
    });
  };
  return deferred;
}

}  // namespace

ApiResponse WaitForTask(HandlerEnv env, const store::Task& task, double wait_s,
                        std::optional<bool> created) {
  std::string applied = "wait=" + std::to_string(static_cast<int64_t>(wait_s));
  auto answer = [applied, created](const store::Task& t) -> Result<ApiResponse> {
    bool done = store::IsTerminal(t.status);
    int status = !created ? 200 : (done ? 200 : 202);
    auto r = ApiResponse::Of(status, store::TaskToJson(t));
    r.headers.emplace_back("Preference-Applied", applied);
    r.headers.emplace_back("Location", "/v1/tasks/" + t.id);
    return r;
  };
  // `answer` never fails, so neither does this (a failed read after the wait is answered
  // through the deferred completion).
  return AnswerWhenTerminal(env, task, wait_s, answer).value();
}

Result<ApiResponse> RunInternalTask(HandlerEnv env, store::NewTask task,
                                    std::function<ApiResponse()> succeeded) {
  task.queue = "io";
  task.retry.initial_interval_s = 0.2;  // an unavailable store gets a quick second try
  ARGUS_ASSIGN_OR_RETURN(auto enqueued, env.deps->tasks->Enqueue({task}, /*cap=*/0));
  return AnswerWhenTerminal(
      env, enqueued.front().task, kInternalTaskWaitS,
      [succeeded](const store::Task& t) -> Result<ApiResponse> {
        if (t.status == store::TaskStatus::kSucceeded) return succeeded();
        if (store::IsTerminal(t.status)) {
          if (!t.error) return InternalError("task " + t.id + " ended without success or error");
          return Status(StatusCodeFromName(t.error->code), t.error->message);
        }
        return ApiResponse::Of(202, store::TaskToJson(t));  // still running: look it up later
      });
}

void AddTaskRoutes(Router& router, HandlerEnv env) {
  router.Add({.method = "POST",
              .pattern = "/v1/tasks",
              .operation_id = "createTask",
              .summary = "Submit a task (Idempotency-Key header or field returns the first task)",
              .tag = "tasks",
              .access = Access::kNamespaceEditor,
              .request_schema = kNewTaskSchema,
              .response_schema = kTaskSchema,
              .success_status = 201,
              .handler = [env](RequestContext& ctx) -> Result<ApiResponse> {
                ARGUS_ASSIGN_OR_RETURN(auto t, ToNewTask(env, ctx, ctx.body, ""));
                std::string_view header = ctx.http.Header("idempotency-key");
                if (!header.empty()) {
                  if (header.size() > 200)
                    return InvalidArgumentError("Idempotency-Key is too long");
                  t.idempotency_key = std::string(header);
                }
                ARGUS_ASSIGN_OR_RETURN(
                    auto results,
                    env.deps->tasks->Enqueue({std::move(t)}, env.deps->max_pending_per_namespace));
                const auto& r = results.front();
                if (auto wait = PreferWait(ctx.http, kMaxWaitS)) {
                  return WaitForTask(env, r.task, *wait, r.created);
                }
                auto resp = ApiResponse::Of(r.created ? 201 : 200, store::TaskToJson(r.task));
                resp.headers.emplace_back("Location", "/v1/tasks/" + r.task.id);
                return resp;
              }});
  router.Add({.method = "POST",
              .pattern = "/v1/tasks/batch",
              .operation_id = "createTasks",
              .summary = "Submit up to 1000 tasks in one transaction",
              .tag = "tasks",
              .access = Access::kNamespaceEditor,
              .request_schema = kBatchSchema,
              .response_schema = {{"type", "object"},
                                  {"properties",
                                   {{"tasks", {{"type", "array"}, {"items", kTaskSchema}}}}}},
              .success_status = 201,
              .handler = [env](RequestContext& ctx) -> Result<ApiResponse> {
                std::vector<store::NewTask> tasks;
                const Json& list = ctx.body["tasks"];
                tasks.reserve(list.size());
                for (size_t i = 0; i < list.size(); ++i) {
                  ARGUS_ASSIGN_OR_RETURN(
                      auto t, ToNewTask(env, ctx, list[i], "tasks[" + std::to_string(i) + "]: "));
                  tasks.push_back(std::move(t));
                }
                ARGUS_ASSIGN_OR_RETURN(
                    auto results,
                    env.deps->tasks->Enqueue(tasks, env.deps->max_pending_per_namespace));
                // Up to 1000 records: spliced from their JSON text, not built as one tree.
                std::string body = "{\"tasks\":[";
                for (size_t i = 0; i < results.size(); ++i) {
                  if (i > 0) body.push_back(',');
                  body += store::TaskJsonText(results[i].task);
                }
                body += "]}";
                ApiResponse resp;
                resp.status = 201;
                resp.raw = std::move(body);
                return resp;
              }});
  router.Add({.method = "GET",
              .pattern = "/v1/tasks",
              .operation_id = "listTasks",
              .summary = "List tasks, oldest first",
              .tag = "tasks",
              .access = Access::kNamespaceViewer,
              .response_schema = ListSchema(kTaskSchema),
              .query =
                  [] {
                    auto q = ListQueryParams();
                    q.push_back({"status", {{"type", "string"}}, "pending, scheduled, ..."});
                    q.push_back({"kind", {{"type", "string"}}, "task kind"});
                    q.push_back({"queue", {{"type", "string"}}, "queue name"});
                    q.push_back({"parent", {{"type", "string"}}, "parent (batch) id"});
                    return q;
                  }(),
              .handler = [env](RequestContext& ctx) -> Result<ApiResponse> {
                ARGUS_ASSIGN_OR_RETURN(auto params, ParseListParams(ctx));
                ARGUS_ASSIGN_OR_RETURN(auto filter, FilterFrom(ctx, nullptr, true));
                ARGUS_ASSIGN_OR_RETURN(auto page, env.deps->tasks->List(filter, params.page));
                Json items = Json::array();
                for (const auto& t : page.items) items.push_back(store::TaskToJson(t));
                return ApiResponse::Of(200, ListBody(std::move(items), page.next_after_id));
              }});
  router.Add({.method = "GET",
              .pattern = "/v1/tasks/{id}",
              .operation_id = "getTask",
              .summary = "Get a task",
              .tag = "tasks",
              .access = Access::kNamespaceViewer,
              .response_schema = kTaskSchema,
              .handler = [env](RequestContext& ctx) -> Result<ApiResponse> {
                ARGUS_ASSIGN_OR_RETURN(auto t,
                                       env.deps->tasks->Get(ctx.namespace_id, ctx.PathParam("id")));
                if (auto wait = PreferWait(ctx.http, kMaxWaitS)) {
                  return WaitForTask(env, t, *wait, std::nullopt);
                }
                return ApiResponse::Of(200, store::TaskToJson(t));
              }});
  router.Add({.method = "POST",
              .pattern = "/v1/tasks/{id}/cancel",
              .operation_id = "cancelTask",
              .summary = "Cancel a task (a running one stops within one heartbeat)",
              .tag = "tasks",
              .access = Access::kNamespaceEditor,
              .response_schema = kTaskSchema,
              .handler = [env](RequestContext& ctx) -> Result<ApiResponse> {
                ARGUS_ASSIGN_OR_RETURN(
                    auto t, env.deps->tasks->Cancel(ctx.namespace_id, ctx.PathParam("id")));
                return ApiResponse::Of(200, store::TaskToJson(t));
              }});
  router.Add({.method = "POST",
              .pattern = "/v1/tasks/{id}/retry",
              .operation_id = "retryTask",
              .summary = "Run a failed or cancelled task again",
              .tag = "tasks",
              .access = Access::kNamespaceEditor,
              .response_schema = kTaskSchema,
              .handler = [env](RequestContext& ctx) -> Result<ApiResponse> {
                ARGUS_ASSIGN_OR_RETURN(
                    auto t, env.deps->tasks->Retry(ctx.namespace_id, ctx.PathParam("id")));
                return ApiResponse::Of(200, store::TaskToJson(t));
              }});
  router.Add({.method = "POST",
              .pattern = "/v1/tasks/cancel",
              .operation_id = "cancelTasks",
              .summary = "Cancel every unfinished task matching a filter",
              .tag = "tasks",
              .access = Access::kNamespaceEditor,
              .request_schema = kFilterSchema,
              .response_schema = {{"type", "object"},
                                  {"properties", {{"cancelled", {{"type", "integer"}}}}}},
              .handler = [env](RequestContext& ctx) -> Result<ApiResponse> {
                ARGUS_ASSIGN_OR_RETURN(auto filter, FilterFrom(ctx, ctx.body, false));
                ARGUS_ASSIGN_OR_RETURN(int64_t n, env.deps->tasks->CancelMatching(filter));
                return ApiResponse::Of(200, {{"cancelled", n}});
              }});
  AddTaskKindRoutes(router, env);
  AddQueueRoutes(router, env);
  AddWorkerProtocolRoutes(router, env);
}

}  // namespace argus::api
