// /v1/buckets: create, list, get, update, delete (refused while objects remain, unless forced).
#include <algorithm>
#include <charconv>

#include "api/handlers/handlers.h"
#include "api/handlers/object_common.h"
#include "core/crypto.h"
#include "core/id.h"
#include "core/json_schema.h"
#include "core/log.h"
#include "core/media_type.h"
#include "core/unicode.h"
#include "domain/cascading_delete.h"

namespace argus::api {

namespace {

const Json kBucketFields = {
    {"description", {{"type", "string"}, {"maxLength", 1000}}},
    {"max_object_bytes",
     {{"type", "integer"},
      {"minimum", 0},
      {"description", "largest object accepted; 0 means the server's objects.max_object_bytes"}}},
    {"allowed_media_types",
     {{"type", "array"},
      {"maxItems", 100},
      {"items", {{"type", "string"}, {"minLength", 3}, {"maxLength", 100}}},
      {"description", "e.g. [\"image/*\", \"video/mp4\"]; empty allows any"}}},
    {"metadata_schema",
     {{"type", "object"}, {"description", "JSON Schema every object's metadata must satisfy"}}}};

Json CreateBucketSchema() {
  Json props = kBucketFields;
  props["name"] = {{"type", "string"}, {"minLength", 1}, {"maxLength", 63}};
  return {{"type", "object"},
          {"additionalProperties", false},
          {"required", {"name"}},
          {"properties", props}};
}

const Json kBucketSchema = {{"type", "object"},
                            {"required", {"id", "name", "created_at"}},
                            {"properties",
                             {{"id", {{"type", "string"}}},
                              {"name", {{"type", "string"}}},
                              {"description", {{"type", "string"}}},
                              {"max_object_bytes", {{"type", "integer"}}},
                              {"allowed_media_types", {{"type", "array"}}},
                              {"metadata_schema", {{"type", {"object", "null"}}}},
                              {"created_at", {{"type", "string"}}},
                              {"updated_at", {{"type", "string"}}}}}};

Json BucketJson(const store::Bucket& b) {
  return {{"id", b.id},
          {"name", b.name},
          {"description", b.description},
          {"max_object_bytes", b.max_object_bytes},
          {"allowed_media_types", b.allowed_media_types},
          {"metadata_schema", b.metadata_schema},
          {"created_at", FormatRfc3339(b.created_at)},
          {"updated_at", FormatRfc3339(b.updated_at)}};
}

std::vector<std::string> StringList(const Json& j) {
  std::vector<std::string> out;
  for (const auto& v : j) out.push_back(v.get<std::string>());
  return out;
}

Status CheckBucketFields(const Json& body) {
  if (body.contains("metadata_schema")) {
    auto compiled = JsonSchema::Compile(body["metadata_schema"]);
    if (!compiled.ok()) {
      return InvalidArgumentError("metadata_schema: " + std::string(compiled.status().message()));
    }
  }
  if (body.contains("allowed_media_types")) {
    for (const auto& t : body["allowed_media_types"]) {
      const std::string& s = t.get_ref<const std::string&>();
      if (s.find('/') == std::string::npos) {
        return InvalidArgumentError(
            "allowed_media_types entries look like 'image/*' or "
            "'video/mp4', not '" +
            s + "'");
      }
    }
  }
  return OkStatus();
}

}  // namespace

void AddBucketRoutes(Router& router, HandlerEnv env) {
  router.Add({.method = "POST",
              .pattern = "/v1/buckets",
              .operation_id = "createBucket",
              .summary = "Create a bucket (limits, allowed media types, metadata schema)",
              .tag = "objects",
              .access = Access::kNamespaceEditor,
              .request_schema = CreateBucketSchema(),
              .response_schema = kBucketSchema,
              .success_status = 201,
              .handler = [env](RequestContext& ctx) -> Result<ApiResponse> {
                const Json& b = ctx.body;
                ARGUS_RETURN_IF_ERROR(CheckBucketFields(b));
                store::Bucket bucket;
                bucket.id = NewId();
                bucket.namespace_id = ctx.namespace_id;
                bucket.name = b["name"].get<std::string>();
                bucket.description = b.value("description", "");
                bucket.max_object_bytes = b.value("max_object_bytes", int64_t{0});
                if (b.contains("allowed_media_types")) {
                  bucket.allowed_media_types = StringList(b["allowed_media_types"]);
                }
                if (b.contains("metadata_schema")) bucket.metadata_schema = b["metadata_schema"];
                bucket.created_at = bucket.updated_at = env.deps->clock->NowUs();
                ARGUS_ASSIGN_OR_RETURN(auto created, env.deps->buckets->CreateBucket(bucket));
                auto resp = ApiResponse::Of(201, BucketJson(created));
                resp.headers.emplace_back("Location", "/v1/buckets/" + created.name);
                return resp;
              }});
  router.Add({.method = "GET",
              .pattern = "/v1/buckets",
              .operation_id = "listBuckets",
              .summary = "List buckets, oldest first",
              .tag = "objects",
              .access = Access::kNamespaceViewer,
              .response_schema = ListSchema(kBucketSchema),
              .query = ListQueryParams(),
              .handler = [env](RequestContext& ctx) -> Result<ApiResponse> {
                ARGUS_ASSIGN_OR_RETURN(auto params, ParseListParams(ctx));
                ARGUS_ASSIGN_OR_RETURN(
                    auto page, env.deps->buckets->ListBuckets(ctx.namespace_id, params.page));
                Json items = Json::array();
                for (const auto& b : page.items) items.push_back(BucketJson(b));
                return ApiResponse::Of(200, ListBody(std::move(items), page.next_after_id));
              }});
  router.Add({.method = "GET",
              .pattern = "/v1/buckets/{bucket}",
              .operation_id = "getBucket",
              .summary = "Get a bucket",
              .tag = "objects",
              .access = Access::kNamespaceViewer,
              .response_schema = kBucketSchema,
              .handler = [env](RequestContext& ctx) -> Result<ApiResponse> {
                ARGUS_ASSIGN_OR_RETURN(auto b, BucketOf(env, ctx));
                return ApiResponse::Of(200, BucketJson(b));
              }});
  router.Add({.method = "PATCH",
              .pattern = "/v1/buckets/{bucket}",
              .operation_id = "updateBucket",
              .summary = "Change a bucket's description, limits or metadata schema",
              .tag = "objects",
              .access = Access::kNamespaceEditor,
              .request_schema = {{"type", "object"},
                                 {"additionalProperties", false},
                                 {"properties", kBucketFields}},
              .response_schema = kBucketSchema,
              .handler = [env](RequestContext& ctx) -> Result<ApiResponse> {
                const Json& b = ctx.body;
                ARGUS_RETURN_IF_ERROR(CheckBucketFields(b));
                store::BucketUpdate u;
                if (b.contains("description")) u.description = b["description"].get<std::string>();
                if (b.contains("max_object_bytes")) {
                  u.max_object_bytes = b["max_object_bytes"].get<int64_t>();
                }
                if (b.contains("allowed_media_types")) {
                  u.allowed_media_types = StringList(b["allowed_media_types"]);
                }
                if (b.contains("metadata_schema")) u.metadata_schema = b["metadata_schema"];
                ARGUS_ASSIGN_OR_RETURN(auto updated, env.deps->buckets->UpdateBucket(
                                                         ctx.namespace_id, ctx.PathParam("bucket"),
                                                         u, env.deps->clock->NowUs()));
                return ApiResponse::Of(200, BucketJson(updated));
              }});
  router.Add(
      {.method = "DELETE",
       .pattern = "/v1/buckets/{bucket}",
       .operation_id = "deleteBucket",
       .summary = "Delete a bucket (refused while it holds objects, unless ?force=true)",
       .tag = "objects",
       .access = Access::kNamespaceAdmin,
       .success_status = 204,
       .query = {{"force", {{"type", "boolean"}}, "also delete its objects"}},
       .handler = [env](RequestContext& ctx) -> Result<ApiResponse> {
         bool force = ctx.Query("force").value_or("") == "true";
         // 404 now; the rest (objects with force) is a cascading delete the workers run.
         ARGUS_RETURN_IF_ERROR(
             env.deps->buckets->GetBucket(ctx.namespace_id, ctx.PathParam("bucket")).status());
         store::NewTask task;
         task.namespace_id = ctx.namespace_id;
         task.kind = std::string(domain::kDeleteBucketKind);
         task.input = domain::DeleteBucketInput(ctx.namespace_id, ctx.PathParam("bucket"), force);
         return RunInternalTask(env, std::move(task), [] { return ApiResponse::NoContent(); });
       }});
}

}  // namespace argus::api
