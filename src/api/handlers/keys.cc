#include "api/handlers/handlers.h"
#include "core/id.h"

namespace argus::api {

namespace {

const Json kKeySchema = {
    {"type", "object"},
    {"required",
     {"id", "name", "role", "prefix", "namespace", "created_at", "updated_at", "expires_at",
      "revoked_at"}},
    {"properties",
     {{"id", {{"type", "string"}}},
      {"name", {{"type", "string"}}},
      {"role", {{"type", "string"}, {"enum", {"admin", "editor", "viewer"}}}},
      {"prefix", {{"type", "string"}, {"description", "the key's first characters"}}},
      {"namespace", {{"type", {"string", "null"}}, {"description", "null for a global admin key"}}},
      {"created_at", {{"type", "string"}, {"format", "date-time"}}},
      {"updated_at", {{"type", "string"}, {"format", "date-time"}}},
      {"expires_at", {{"type", {"string", "null"}}, {"format", "date-time"}}},
      {"revoked_at", {{"type", {"string", "null"}}, {"format", "date-time"}}},
      {"secret",
       {{"type", "string"}, {"description", "only in the response that creates the key"}}}}}};

const Json kCreateSchema = {
    {"type", "object"},
    {"additionalProperties", false},
    {"required", {"name", "role"}},
    {"properties",
     {{"name", {{"type", "string"}, {"minLength", 1}, {"maxLength", 200}}},
      {"role", {{"type", "string"}, {"enum", {"admin", "editor", "viewer"}}}},
      {"expires_at", {{"type", {"string", "null"}}, {"format", "date-time"}}}}}};

Json ToJson(const store::ApiKey& k, const std::string& namespace_name) {
  auto opt_time = [](const std::optional<TimestampUs>& t) {
    return t ? Json(FormatRfc3339(*t)) : Json(nullptr);
  };
  return {{"id", k.id},
          {"name", k.name},
          {"role", store::RoleName(k.role)},
          {"prefix", k.prefix},
          {"namespace", k.namespace_id.empty() ? Json(nullptr) : Json(namespace_name)},
          {"created_at", FormatRfc3339(k.created_at)},
          {"updated_at", FormatRfc3339(k.updated_at)},
          {"expires_at", opt_time(k.expires_at)},
          {"revoked_at", opt_time(k.revoked_at)}};
}

// The key must belong to the namespace the request acts in (or be global when none is in
// scope); anything else is reported as absent.
Result<store::ApiKey> GetScopedKey(HandlerEnv env, const RequestContext& ctx) {
  auto key = env.deps->keys->GetApiKey(ctx.PathParam("id"));
  if (!key.ok() || key->namespace_id != ctx.namespace_id) {
    if (!key.ok() && key.status().code() != StatusCode::kNotFound) return key.status();
    return NotFoundError("API key '" + std::string(ctx.PathParam("id")) + "' does not exist");
  }
  return key;
}

}  // namespace

void AddKeyRoutes(Router& router, HandlerEnv env) {
  router.Add({.method = "POST",
              .pattern = "/v1/keys",
              .operation_id = "createKey",
              .summary = "Create an API key (the secret is shown only in this response)",
              .tag = "keys",
              .access = Access::kNamespaceAdmin,
              .request_schema = kCreateSchema,
              .response_schema = kKeySchema,
              .success_status = 201,
              .handler = [env](RequestContext& ctx) -> Result<ApiResponse> {
                store::ApiKey key;
                key.id = NewId(*env.deps->clock);
                key.namespace_id = ctx.namespace_id;
                key.name = ctx.body["name"].get<std::string>();
                ARGUS_ASSIGN_OR_RETURN(key.role,
                                       store::ParseRole(ctx.body["role"].get<std::string>()));
                if (key.namespace_id.empty() && key.role != store::Role::kAdmin) {
                  return InvalidArgumentError(
                      "a key outside any namespace is a global admin key: role must be admin "
                      "(send X-Namespace to create a key in a namespace)");
                }
                key.created_at = key.updated_at = env.deps->clock->NowUs();
                if (auto e = ctx.body.find("expires_at"); e != ctx.body.end() && !e->is_null()) {
                  TimestampUs t;
                  ParseRfc3339(e->get<std::string>(), &t);  // the schema checked the format
                  if (t <= key.created_at) {
                    return InvalidArgumentError("field 'expires_at' must be in the future");
                  }
                  key.expires_at = t;
                }
                // A prefix collision is astronomically unlikely; retry with a fresh secret.
                for (int attempt = 0;; ++attempt) {
                  NewKeySecret secret = MakeKeySecret();
                  key.prefix = secret.prefix;
                  key.hash = secret.hash;
                  auto created = env.deps->keys->CreateApiKey(key);
                  if (created.ok()) {
                    Json body = ToJson(*created, ctx.namespace_name);
                    body["secret"] = secret.secret;
                    auto r = ApiResponse::Of(201, std::move(body));
                    r.headers.emplace_back("Location", "/v1/keys/" + created->id);
                    r.headers.emplace_back("Cache-Control", "no-store");
                    return r;
                  }
                  if (created.status().code() != StatusCode::kAlreadyExists || attempt >= 3) {
                    return created.status();
                  }
                }
              }});
  router.Add(
      {.method = "GET",
       .pattern = "/v1/keys",
       .operation_id = "listKeys",
       .summary = "List the API keys of the namespace (global keys without X-Namespace)",
       .tag = "keys",
       .access = Access::kNamespaceAdmin,
       .response_schema = ListSchema(kKeySchema),
       .query =
           [] {
             auto q = ListQueryParams();
             q.push_back({"include_revoked", {{"type", "boolean"}}, "also list revoked keys"});
             return q;
           }(),
       .handler = [env](RequestContext& ctx) -> Result<ApiResponse> {
         ARGUS_ASSIGN_OR_RETURN(auto params, ParseListParams(ctx));
         bool revoked = ctx.Query("include_revoked").value_or("false") == "true";
         ARGUS_ASSIGN_OR_RETURN(
             auto page, env.deps->keys->ListApiKeys(ctx.namespace_id, params.page, revoked));
         Json items = Json::array();
         for (const auto& k : page.items) items.push_back(ToJson(k, ctx.namespace_name));
         return ApiResponse::Of(200, ListBody(std::move(items), page.next_after_id));
       }});
  router.Add({.method = "GET",
              .pattern = "/v1/keys/{id}",
              .operation_id = "getKey",
              .summary = "Get an API key (never its secret)",
              .tag = "keys",
              .access = Access::kNamespaceAdmin,
              .response_schema = kKeySchema,
              .handler = [env](RequestContext& ctx) -> Result<ApiResponse> {
                ARGUS_ASSIGN_OR_RETURN(auto key, GetScopedKey(env, ctx));
                return ApiResponse::Of(200, ToJson(key, ctx.namespace_name));
              }});
  router.Add({.method = "DELETE",
              .pattern = "/v1/keys/{id}",
              .operation_id = "revokeKey",
              .summary = "Revoke an API key (effective immediately)",
              .tag = "keys",
              .access = Access::kNamespaceAdmin,
              .success_status = 204,
              .handler = [env](RequestContext& ctx) -> Result<ApiResponse> {
                ARGUS_ASSIGN_OR_RETURN(auto key, GetScopedKey(env, ctx));
                ARGUS_ASSIGN_OR_RETURN(
                    auto revoked, env.deps->keys->RevokeApiKey(key.id, env.deps->clock->NowUs()));
                env.auth->InvalidateKey(revoked.id);
                return ApiResponse::NoContent();
              }});
}

}  // namespace argus::api
