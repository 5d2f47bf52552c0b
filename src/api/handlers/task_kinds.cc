// /v1/task-kinds: the task catalog as clients read it (what Argus's workers and external workers
// publish: description, input schema, queues, limits) and the calls an operator or an external
// worker makes on it: publish or remove an external kind, set a kind's limits.
#include "api/handlers/handlers.h"
#include "core/json_schema.h"

namespace argus::api {

namespace {

const Json kLimitsSchema = {{"type", "object"},
                            {"additionalProperties", false},
                            {"properties",
                             {{"max_running", {{"type", "integer"}, {"minimum", 0}}},
                              {"max_per_second", {{"type", "number"}, {"minimum", 0}}}}}};

const Json kKindSchema = {{"type", "object"},
                          {"properties",
                           {{"kind", {{"type", "string"}}},
                            {"description", {{"type", "string"}}},
                            {"input_schema", {{"type", {"object", "null"}}}},
                            {"queues", {{"type", "array"}, {"items", {{"type", "string"}}}}},
                            {"submittable", {{"type", "boolean"}}},
                            {"published_by", {{"type", "string"}, {"enum", {"argus", "external"}}}},
                            {"limits", kLimitsSchema},
                            {"updated_at", {{"type", "string"}, {"format", "date-time"}}}}}};

const Json kPublishSchema = {
    {"type", "object"},
    {"additionalProperties", false},
    {"properties",
     {{"description", {{"type", "string"}, {"maxLength", 2000}}},
      {"input_schema",
       {{"type", "object"},
        {"description", "JSON Schema that every submitted task's input must match"}}},
      {"queues",
       {{"type", "array"},
        {"maxItems", 32},
        {"items", {{"type", "string"}, {"minLength", 1}, {"maxLength", 32}}}}}}}};

Json LimitsJson(const std::map<std::string, store::KindLimits>& all, const std::string& kind) {
  auto it = all.find(kind);
  store::KindLimits limits = it == all.end() ? store::KindLimits{} : it->second;
  return {{"max_running", limits.max_running}, {"max_per_second", limits.max_per_second}};
}

Json KindJson(const KnownKind& k, const std::map<std::string, store::KindLimits>& limits) {
  auto schema = Json::parse(k.entry.input_schema_json, nullptr, false);
  return {{"kind", k.entry.kind},
          {"description", k.entry.description},
          {"input_schema", schema.is_discarded() ? Json(nullptr) : schema},
          {"queues", k.entry.queues},
          {"submittable", !k.entry.internal},
          {"published_by", k.entry.external ? "external" : "argus"},
          {"limits", LimitsJson(limits, k.entry.kind)},
          {"updated_at", FormatRfc3339(k.entry.updated_at)}};
}

Result<std::string> KindParam(const RequestContext& ctx) {
  std::string kind(ctx.PathParam("kind"));
  if (!ValidTaskName(kind)) {
    return InvalidArgumentError("kind: '" + kind +
                                "' is no task kind name ([a-z][a-z0-9_.:-]{0,63})");
  }
  return kind;
}

// The kind as GET answers it, read now; NotFound when no worker publishes it.
Result<Json> ReadKind(const HandlerEnv& env, const std::string& kind) {
  ARGUS_ASSIGN_OR_RETURN(auto kinds, env.task_kinds->List());
  ARGUS_ASSIGN_OR_RETURN(auto limits, env.deps->tasks->ListKindLimits());
  for (const auto& k : kinds) {
    if (k->entry.kind == kind) return KindJson(*k, limits);
  }
  return NotFoundError("no worker publishes task kind '" + kind + "'");
}

}  // namespace

void AddTaskKindRoutes(Router& router, HandlerEnv env) {
  router.Add({.method = "GET",
              .pattern = "/v1/task-kinds",
              .operation_id = "listTaskKinds",
              .summary = "The task kinds the workers publish: description, input schema, the "
                         "queues that run them, limits, and whether clients may submit them",
              .tag = "tasks",
              .access = Access::kAnyKey,
              .response_schema = ListSchema(kKindSchema),
              .handler = [env](RequestContext&) -> Result<ApiResponse> {
                ARGUS_ASSIGN_OR_RETURN(auto kinds, env.task_kinds->List());
                ARGUS_ASSIGN_OR_RETURN(auto limits, env.deps->tasks->ListKindLimits());
                Json items = Json::array();
                for (const auto& k : kinds) items.push_back(KindJson(*k, limits));
                return ApiResponse::Of(200, {{"items", items}, {"next_cursor", nullptr}});
              }});
  router.Add({.method = "GET",
              .pattern = "/v1/task-kinds/{kind}",
              .operation_id = "getTaskKind",
              .summary = "One task kind of the catalog",
              .tag = "tasks",
              .access = Access::kAnyKey,
              .response_schema = kKindSchema,
              .handler = [env](RequestContext& ctx) -> Result<ApiResponse> {
                ARGUS_ASSIGN_OR_RETURN(std::string kind, KindParam(ctx));
                ARGUS_ASSIGN_OR_RETURN(Json out, ReadKind(env, kind));
                return ApiResponse::Of(200, std::move(out));
              }});
  router.Add(
      {.method = "PUT",
       .pattern = "/v1/task-kinds/{kind}",
       .operation_id = "publishTaskKind",
       .summary = "Publish a kind that external workers run: its description, the JSON Schema "
                  "submissions are checked against, and its queues (201 new, 200 replaced; 409 "
                  "for a kind Argus's own workers run)",
       .tag = "tasks",
       .access = Access::kGlobalAdmin,
       .request_schema = kPublishSchema,
       .response_schema = kKindSchema,
       .handler = [env](RequestContext& ctx) -> Result<ApiResponse> {
         ARGUS_ASSIGN_OR_RETURN(std::string kind, KindParam(ctx));
         store::TaskKindEntry entry;
         entry.kind = kind;
         entry.description = ctx.body.value("description", "");
         if (ctx.body.contains("input_schema")) {
           // Refused here rather than stored: a schema that does not compile would refuse
           // every submission of the kind.
           if (auto compiled = JsonSchema::Compile(ctx.body["input_schema"]); !compiled.ok()) {
             return InvalidArgumentError("input_schema: " +
                                         std::string(compiled.status().message()));
           }
           entry.input_schema_json = ctx.body["input_schema"].dump();
         }
         for (const auto& q : ctx.body.value("queues", Json::array())) {
           const std::string queue = q.get<std::string>();
           if (!ValidTaskName(queue)) {
             return InvalidArgumentError("queues: '" + queue +
                                         "' is no queue name ([a-z][a-z0-9_.:-]{0,31})");
           }
           entry.queues.push_back(queue);
         }
         ARGUS_ASSIGN_OR_RETURN(bool created, env.deps->catalog->PublishExternalKind(entry));
         env.task_kinds->Invalidate();
         ARGUS_ASSIGN_OR_RETURN(Json out, ReadKind(env, kind));
         return ApiResponse::Of(created ? 201 : 200, std::move(out));
       }});
  router.Add({.method = "DELETE",
              .pattern = "/v1/task-kinds/{kind}",
              .operation_id = "removeTaskKind",
              .summary = "Remove a kind external workers published (409 for Argus's own)",
              .tag = "tasks",
              .access = Access::kGlobalAdmin,
              .handler = [env](RequestContext& ctx) -> Result<ApiResponse> {
                ARGUS_ASSIGN_OR_RETURN(std::string kind, KindParam(ctx));
                ARGUS_RETURN_IF_ERROR(env.deps->catalog->RemoveExternalKind(kind));
                env.task_kinds->Invalidate();
                return ApiResponse::NoContent();
              }});
  router.Add({.method = "PUT",
              .pattern = "/v1/task-kinds/{kind}/limits",
              .operation_id = "setKindLimits",
              .summary = "Concurrency and rate limits of a task kind, across all workers",
              .tag = "tasks",
              .access = Access::kGlobalAdmin,
              .request_schema = kLimitsSchema,
              .response_schema = {{"type", "object"}},
              .handler = [env](RequestContext& ctx) -> Result<ApiResponse> {
                ARGUS_ASSIGN_OR_RETURN(std::string kind, KindParam(ctx));
                store::KindLimits limits;
                limits.max_running = ctx.body.value("max_running", 0);
                limits.max_per_second = ctx.body.value("max_per_second", 0.0);
                ARGUS_RETURN_IF_ERROR(env.deps->tasks->SetKindLimits(kind, limits));
                return ApiResponse::Of(200, {{"kind", kind},
                                             {"max_running", limits.max_running},
                                             {"max_per_second", limits.max_per_second}});
              }});
}

}  // namespace argus::api
