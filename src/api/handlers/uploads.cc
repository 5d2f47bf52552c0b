// /v1/buckets/{bucket}/uploads: resumable uploads in numbered, retryable parts.
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
#include "domain/upload_completion.h"

namespace argus::api {

namespace {

constexpr int kMaxParts = 10000;

const Json kUploadSchema = {{"type", "object"},
                            {"required", {"id", "bucket", "key", "expires_at", "parts"}},
                            {"properties",
                             {{"id", {{"type", "string"}}},
                              {"bucket", {{"type", "string"}}},
                              {"key", {{"type", "string"}}},
                              {"metadata", {{"type", "object"}}},
                              {"created_at", {{"type", "string"}}},
                              {"expires_at", {{"type", "string"}}},
                              {"parts",
                               {{"type", "array"},
                                {"items",
                                 {{"type", "object"},
                                  {"properties",
                                   {{"number", {{"type", "integer"}}},
                                    {"size", {{"type", "integer"}}},
                                    {"sha256", {{"type", "string"}}}}}}}}}}}};

Json PartJson(const store::UploadPart& p) {
  return {{"number", p.number}, {"size", p.size}, {"sha256", p.sha256}};
}

Json UploadJson(const store::Upload& u, std::string_view bucket,
                const std::vector<store::UploadPart>& parts) {
  Json list = Json::array();
  for (const auto& p : parts) list.push_back(PartJson(p));
  return {{"id", u.id},
          {"bucket", bucket},
          {"key", u.key},
          {"metadata", u.metadata},
          {"created_at", FormatRfc3339(u.created_at)},
          {"expires_at", FormatRfc3339(u.expires_at)},
          {"parts", std::move(list)}};
}

Result<int> PartNumber(std::string_view text) {
  int n = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || p != text.data() + text.size() || n < 1 || n > kMaxParts) {
    return InvalidArgumentError("part numbers run from 1 to 10000");
  }
  return n;
}

}  // namespace

void AddUploadRoutes(Router& router, HandlerEnv env) {
  router.Add(
      {.method = "POST",
       .pattern = "/v1/buckets/{bucket}/uploads",
       .operation_id = "createUpload",
       .summary = "Start a resumable upload (parts are sent separately, then completed)",
       .tag = "objects",
       .access = Access::kNamespaceEditor,
       .request_schema = {{"type", "object"},
                          {"additionalProperties", false},
                          {"required", {"key"}},
                          {"properties",
                           {{"key", {{"type", "string"}, {"minLength", 1}}},
                            {"metadata", {{"type", "object"}}}}}},
       .response_schema = kUploadSchema,
       .success_status = 201,
       .handler = [env](RequestContext& ctx) -> Result<ApiResponse> {
         ARGUS_ASSIGN_OR_RETURN(auto bucket, BucketOf(env, ctx));
         store::Upload u;
         ARGUS_RETURN_IF_ERROR(domain::CheckObjectKey(ctx.body["key"].get<std::string>(), &u.key));
         if (ctx.body.contains("metadata")) u.metadata = ctx.body["metadata"];
         ARGUS_RETURN_IF_ERROR(
             domain::CheckObjectMetadata(bucket, u.metadata, env.deps->max_metadata_bytes));
         u.id = NewId();
         u.namespace_id = ctx.namespace_id;
         u.bucket_id = bucket.id;
         u.created_at = env.deps->clock->NowUs();
         u.expires_at = u.created_at + static_cast<TimestampUs>(env.deps->upload_expire_s * 1e6);
         ARGUS_ASSIGN_OR_RETURN(auto created, env.deps->buckets->CreateUpload(u));
         auto resp = ApiResponse::Of(201, UploadJson(created, bucket.name, {}));
         std::string location = "/v1/buckets/";
         location.append(bucket.name).append("/uploads/").append(created.id);
         resp.headers.emplace_back("Location", std::move(location));
         return resp;
       }});
  router.Add({.method = "GET",
              .pattern = "/v1/buckets/{bucket}/uploads/{id}",
              .operation_id = "getUpload",
              .summary = "A resumable upload with the parts received so far",
              .tag = "objects",
              .access = Access::kNamespaceViewer,
              .response_schema = kUploadSchema,
              .handler = [env](RequestContext& ctx) -> Result<ApiResponse> {
                ARGUS_ASSIGN_OR_RETURN(auto bucket, BucketOf(env, ctx));
                ARGUS_ASSIGN_OR_RETURN(
                    auto u, env.deps->buckets->GetUpload(bucket.id, ctx.PathParam("id")));
                ARGUS_ASSIGN_OR_RETURN(auto parts,
                                       env.deps->buckets->ListUploadParts(bucket.id, u.id));
                return ApiResponse::Of(200, UploadJson(u, bucket.name, parts));
              }});
  router.Add(
      {.method = "PUT",
       .pattern = "/v1/buckets/{bucket}/uploads/{id}/parts/{number}",
       .operation_id = "putUploadPart",
       .summary = "Send part N (1..10000) as the raw body; sending N again replaces it",
       .tag = "objects",
       .access = Access::kNamespaceEditor,
       .response_schema = {{"type", "object"}},
       .body_stream = [env](RequestContext& ctx) -> std::shared_ptr<BodyConsumer> {
         auto upload = StartUpload(env, ctx);
         if (!upload->Wanted()) return upload;
         if (auto n = PartNumber(ctx.PathParam("number")); !n.ok()) {
           upload->Fail(n.status());
         } else if (auto u = env.deps->buckets->GetUpload(upload->bucket().id, ctx.PathParam("id"));
                    !u.ok()) {
           upload->Fail(u.status());
         }
         return upload;
       },
       .handler = [env](RequestContext& ctx) -> Result<ApiResponse> {
         auto* upload = ctx.StreamedBody<UploadBody>();
         if (upload == nullptr) return InternalError("upload body missing");
         ARGUS_RETURN_IF_ERROR(upload->error());
         if (!upload->complete()) return InvalidArgumentError("the body ended early");
         ARGUS_ASSIGN_OR_RETURN(int number, PartNumber(ctx.PathParam("number")));
         std::string expected(ctx.http.Header("x-argus-sha256"));
         std::transform(expected.begin(), expected.end(), expected.begin(), ::tolower);
         // Pinned until the part's row names the blob (ADR 0007).
         auto blob =
             store::CommitPinned(*upload->incoming().writer(), *env.deps->references, expected);
         if (!blob.ok()) {
           if (blob.status().code() == StatusCode::kInvalidArgument) {
             return InvalidArgumentError("X-Argus-Sha256 does not match the part");
           }
           return blob.status();
         }
         store::UploadPart part{.number = number,
                                .sha256 = blob->info.sha256,
                                .size = blob->info.size,
                                .created_at = env.deps->clock->NowUs()};
         ARGUS_RETURN_IF_ERROR(
             env.deps->buckets->PutUploadPart(upload->bucket().id, ctx.PathParam("id"), part));
         return ApiResponse::Of(200, PartJson(part));
       }});
  router.Add(
      {.method = "POST",
       .pattern = "/v1/buckets/{bucket}/uploads/{id}/complete",
       .operation_id = "completeUpload",
       .summary = "Join the parts (1..N, none missing) into the object, as a task (202; "
                  "`Prefer: wait=N` answers when it is done, its result the object); sha256 of "
                  "the whole is checked when given",
       .tag = "objects",
       .access = Access::kNamespaceEditor,
       .request_schema = {{"type", "object"},
                          {"additionalProperties", false},
                          {"properties",
                           {{"sha256",
                             {{"type", "string"}, {"minLength", 64}, {"maxLength", 64}}}}}},
       .response_schema = {{"type", "object"}},
       .success_status = 202,
       .handler = [env](RequestContext& ctx) -> Result<ApiResponse> {
         if (env.deps->tasks == nullptr) return UnavailableError("this server runs no task queue");
         ARGUS_ASSIGN_OR_RETURN(auto bucket, BucketOf(env, ctx));
         ARGUS_ASSIGN_OR_RETURN(auto u,
                                env.deps->buckets->GetUpload(bucket.id, ctx.PathParam("id")));
         ARGUS_ASSIGN_OR_RETURN(auto parts, env.deps->buckets->ListUploadParts(bucket.id, u.id));
         // What can be refused without reading the bytes is refused now, as a 4xx; the bytes
         // are joined (re-read and re-written, up to the object size limit) by a worker.
         ARGUS_RETURN_IF_ERROR(domain::CheckUploadParts(parts));
         int64_t total = 0;
         for (const auto& p : parts) total += p.size;
         if (int64_t limit = domain::ObjectSizeLimit(bucket, env.deps->max_object_bytes);
             limit > 0 && total > limit) {
           return PayloadTooLargeError("objects in bucket '" + bucket.name + "' are at most " +
                                       std::to_string(limit) + " bytes; the parts hold " +
                                       std::to_string(total));
         }
         domain::CompleteUploadInput input;
         input.bucket = bucket.name;
         input.bucket_id = bucket.id;
         input.upload_id = u.id;
         input.expected_sha256 = ctx.body.value("sha256", "");
         std::transform(input.expected_sha256.begin(), input.expected_sha256.end(),
                        input.expected_sha256.begin(), ::tolower);
         if (!input.expected_sha256.empty() && !store::IsBlobSha256(input.expected_sha256)) {
           return InvalidArgumentError("sha256 must be 64 hex digits");
         }
         input.precondition.must_not_exist = ctx.http.Header("if-none-match") == "*";
         input.precondition.sha256_must_match = EtagValue(ctx.http.Header("if-match"));
         ARGUS_ASSIGN_OR_RETURN(
             auto started,
             env.deps->tasks->Enqueue({domain::UploadCompleteTask(ctx.namespace_id, input, parts)},
                                      env.deps->max_pending_per_namespace));
         const store::EnqueueResult& r = started.front();
         if (auto wait = PreferWait(ctx.http, kMaxPreferWaitS)) {
           return WaitForTask(env, r.task, *wait, r.created);
         }
         auto resp = ApiResponse::Of(202, store::TaskToJson(r.task));
         resp.headers.emplace_back("Location", "/v1/tasks/" + r.task.id);
         return resp;
       }});
  router.Add({.method = "DELETE",
              .pattern = "/v1/buckets/{bucket}/uploads/{id}",
              .operation_id = "abortUpload",
              .summary = "Abandon a resumable upload (its parts are freed)",
              .tag = "objects",
              .access = Access::kNamespaceEditor,
              .success_status = 204,
              .handler = [env](RequestContext& ctx) -> Result<ApiResponse> {
                ARGUS_ASSIGN_OR_RETURN(auto bucket, BucketOf(env, ctx));
                ARGUS_RETURN_IF_ERROR(
                    env.deps->buckets->DeleteUpload(bucket.id, ctx.PathParam("id")));
                return ApiResponse::NoContent();
              }});
}

}  // namespace argus::api
