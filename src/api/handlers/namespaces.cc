#include "api/handlers/handlers.h"
#include "core/id.h"
#include "domain/cascading_delete.h"

namespace argus::api {

namespace {

const Json kNamespaceSchema = {{"type", "object"},
                               {"required", {"id", "name", "settings", "created_at", "updated_at"}},
                               {"properties",
                                {{"id", {{"type", "string"}}},
                                 {"name", {{"type", "string"}}},
                                 {"settings", {{"type", "object"}}},
                                 {"created_at", {{"type", "string"}, {"format", "date-time"}}},
                                 {"updated_at", {{"type", "string"}, {"format", "date-time"}}}}}};

const Json kCreateSchema = {
    {"type", "object"},
    {"additionalProperties", false},
    {"required", {"name"}},
    {"properties",
     {{"name",
       {{"type", "string"},
        {"minLength", 1},
        {"maxLength", 63},
        {"description", "lowercase letters, digits, '-' and '_'; starts with a letter or digit"}}},
      {"settings", {{"type", "object"}}}}}};

Json ToJson(const store::Namespace& ns) {
  return {{"id", ns.id},
          {"name", ns.name},
          {"settings", ns.settings},
          {"created_at", FormatRfc3339(ns.created_at)},
          {"updated_at", FormatRfc3339(ns.updated_at)}};
}

Status ValidateName(const std::string& name) {
  bool ok = !name.empty() && name.size() <= 63;
  for (size_t i = 0; ok && i < name.size(); ++i) {
    char c = name[i];
    bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    ok = alnum || (i > 0 && (c == '-' || c == '_'));
  }
  if (!ok) {
    return InvalidArgumentError(
        "field 'name' must be 1-63 lowercase letters, digits, '-' or '_', "
        "starting with a letter or digit");
  }
  return OkStatus();
}

}  // namespace

void AddNamespaceRoutes(Router& router, HandlerEnv env) {
  router.Add({.method = "POST",
              .pattern = "/v1/namespaces",
              .operation_id = "createNamespace",
              .summary = "Create a namespace",
              .tag = "namespaces",
              .access = Access::kGlobalAdmin,
              .request_schema = kCreateSchema,
              .response_schema = kNamespaceSchema,
              .success_status = 201,
              .handler = [env](RequestContext& ctx) -> Result<ApiResponse> {
                store::Namespace ns;
                ns.name = ctx.body["name"].get<std::string>();
                ARGUS_RETURN_IF_ERROR(ValidateName(ns.name));
                if (ctx.body.contains("settings")) ns.settings = ctx.body["settings"];
                ns.id = NewId(*env.deps->clock);
                ns.created_at = ns.updated_at = env.deps->clock->NowUs();
                ARGUS_ASSIGN_OR_RETURN(auto created, env.deps->namespaces->CreateNamespace(ns));
                auto r = ApiResponse::Of(201, ToJson(created));
                r.headers.emplace_back("Location", "/v1/namespaces/" + created.name);
                return r;
              }});
  router.Add({.method = "GET",
              .pattern = "/v1/namespaces",
              .operation_id = "listNamespaces",
              .summary = "List namespaces",
              .tag = "namespaces",
              .access = Access::kGlobalAdmin,
              .response_schema = ListSchema(kNamespaceSchema),
              .query = ListQueryParams(),
              .handler = [env](RequestContext& ctx) -> Result<ApiResponse> {
                ARGUS_ASSIGN_OR_RETURN(auto params, ParseListParams(ctx));
                ARGUS_ASSIGN_OR_RETURN(auto page,
                                       env.deps->namespaces->ListNamespaces(params.page));
                Json items = Json::array();
                for (const auto& ns : page.items) items.push_back(ToJson(ns));
                return ApiResponse::Of(200, ListBody(std::move(items), page.next_after_id));
              }});
  router.Add({.method = "GET",
              .pattern = "/v1/namespaces/{name}",
              .operation_id = "getNamespace",
              .summary = "Get a namespace by name",
              .tag = "namespaces",
              .access = Access::kGlobalAdmin,
              .response_schema = kNamespaceSchema,
              .handler = [env](RequestContext& ctx) -> Result<ApiResponse> {
                ARGUS_ASSIGN_OR_RETURN(
                    auto ns, env.deps->namespaces->GetNamespaceByName(ctx.PathParam("name")));
                return ApiResponse::Of(200, ToJson(ns));
              }});
  router.Add({.method = "DELETE",
              .pattern = "/v1/namespaces/{name}",
              .operation_id = "deleteNamespace",
              .summary = "Delete a namespace and everything in it",
              .tag = "namespaces",
              .access = Access::kGlobalAdmin,
              .success_status = 204,
              .handler = [env](RequestContext& ctx) -> Result<ApiResponse> {
                ARGUS_ASSIGN_OR_RETURN(
                    auto ns, env.deps->namespaces->GetNamespaceByName(ctx.PathParam("name")));
                // A cascading delete, run by the workers (domain/cascading_delete.h).
                store::NewTask task;
                task.namespace_id = ns.id;
                task.kind = std::string(domain::kDeleteNamespaceKind);
                task.input = domain::DeleteNamespaceInput(ns.id);
                return RunInternalTask(env, std::move(task), [env, id = ns.id] {
                  env.auth->InvalidateNamespace(id);
                  return ApiResponse::NoContent();
                });
              }});
}

}  // namespace argus::api
