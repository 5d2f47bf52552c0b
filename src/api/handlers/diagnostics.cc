#include "api/handlers/handlers.h"
#include "core/build_info.h"

namespace argus::api {

namespace {

const Json kWhoamiSchema = {{"type", "object"},
                            {"required", {"key_id", "key_name", "role", "global", "namespace"}},
                            {"properties",
                             {{"key_id", {{"type", "string"}}},
                              {"key_name", {{"type", "string"}}},
                              {"role", {{"type", "string"}}},
                              {"global", {{"type", "boolean"}}},
                              {"namespace", {{"type", {"string", "null"}}}},
                              {"server_version", {{"type", "string"}}}}}};

// A small but real document: what the echo route validates, field by field.
const Json kEchoSchema = {
    {"type", "object"},
    {"additionalProperties", false},
    {"required", {"name", "values"}},
    {"properties",
     {{"name", {{"type", "string"}, {"minLength", 1}, {"maxLength", 200}}},
      {"values", {{"type", "array"}, {"maxItems", 1000}, {"items", {{"type", "number"}}}}},
      {"tags", {{"type", "array"}, {"maxItems", 100}, {"items", {{"type", "string"}}}}},
      {"enabled", {{"type", "boolean"}}},
      {"attributes",
       {{"type", "object"}, {"additionalProperties", {{"type", "string"}, {"maxLength", 1000}}}}},
      {"count", {{"type", "integer"}, {"minimum", 0}}}}}};

}  // namespace

void AddDiagnosticsRoutes(Router& router, HandlerEnv env) {
  router.Add({.method = "GET",
              .pattern = "/v1/whoami",
              .operation_id = "whoami",
              .summary = "The calling key, its role and the namespace in scope",
              .tag = "diagnostics",
              .access = Access::kAnyKey,
              .response_schema = kWhoamiSchema,
              .never_blocks = true,  // the key comes from the cache
              .handler = [](RequestContext& ctx) -> Result<ApiResponse> {
                const Principal& p = *ctx.principal;
                return ApiResponse::Of(
                    200, {{"key_id", p.key_id},
                          {"key_name", p.key_name},
                          {"role", store::RoleName(p.role)},
                          {"global", p.global},
                          {"namespace",
                           ctx.namespace_name.empty() ? Json(nullptr) : Json(ctx.namespace_name)},
                          {"server_version", GetBuildInfo().version}});
              }});
  router.Add({.method = "POST",
              .pattern = "/v1/diagnostics/echo",
              .operation_id = "echo",
              .summary = "Validate a JSON document and echo it back (diagnostics, benchmarks)",
              .tag = "diagnostics",
              .access = Access::kAnyKey,
              .request_schema = kEchoSchema,
              .response_schema = kEchoSchema,
              .never_blocks = true,
              .handler = [](RequestContext& ctx) -> Result<ApiResponse> {
                return ApiResponse::Of(200, std::move(ctx.body));
              }});
}

}  // namespace argus::api
