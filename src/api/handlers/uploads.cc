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
         ARGUS_RETURN_IF_ERROR(CheckKey(ctx.body["key"].get<std::string>(), &u.key));
         if (ctx.body.contains("metadata")) u.metadata = ctx.body["metadata"];
         ARGUS_RETURN_IF_ERROR(CheckMetadata(bucket, u.metadata, env.deps->max_metadata_bytes));
         u.id = NewId();
         u.namespace_id = ctx.namespace_id;
         u.bucket_id = bucket.id;
         u.created_at = env.deps->clock->NowUs();
         u.expires_at = u.created_at + static_cast<TimestampUs>(env.deps->upload_expire_s * 1e6);
         ARGUS_ASSIGN_OR_RETURN(auto created, env.deps->metadata->CreateUpload(u));
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
                    auto u, env.deps->metadata->GetUpload(bucket.id, ctx.PathParam("id")));
                ARGUS_ASSIGN_OR_RETURN(auto parts,
                                       env.deps->metadata->ListUploadParts(bucket.id, u.id));
                return ApiResponse::Of(200, UploadJson(u, bucket.name, parts));
              }});
  router.Add({.method = "PUT",
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
                } else if (auto u = env.deps->metadata->GetUpload(upload->bucket().id,
                                                                  ctx.PathParam("id"));
                           !u.ok()) {
                  upload->Fail(u.status());
                }
                return upload;
              },
              .handler = [env](RequestContext& ctx) -> Result<ApiResponse> {
                auto* upload = dynamic_cast<UploadBody*>(ctx.http.body_consumer.get());
                if (upload == nullptr) return InternalError("upload body missing");
                ARGUS_RETURN_IF_ERROR(upload->error());
                if (!upload->complete()) return InvalidArgumentError("the body ended early");
                ARGUS_ASSIGN_OR_RETURN(int number, PartNumber(ctx.PathParam("number")));
                std::string expected(ctx.http.Header("x-argus-sha256"));
                std::transform(expected.begin(), expected.end(), expected.begin(), ::tolower);
                // Pinned until the part's row names the blob (ADR 0007).
                auto blob = store::CommitPinned(*upload->incoming().writer(), *env.deps->metadata,
                                                expected);
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
                ARGUS_RETURN_IF_ERROR(env.deps->metadata->PutUploadPart(upload->bucket().id,
                                                                        ctx.PathParam("id"), part));
                return ApiResponse::Of(200, PartJson(part));
              }});
  router.Add(
      {.method = "POST",
       .pattern = "/v1/buckets/{bucket}/uploads/{id}/complete",
       .operation_id = "completeUpload",
       .summary = "Join the parts (1..N, none missing) into the object; sha256 of the whole is "
                  "checked when given",
       .tag = "objects",
       .access = Access::kNamespaceEditor,
       .request_schema = {{"type", "object"},
                          {"additionalProperties", false},
                          {"properties",
                           {{"sha256",
                             {{"type", "string"}, {"minLength", 64}, {"maxLength", 64}}}}}},
       .response_schema = ObjectSchema(),
       .success_status = 201,
       .handler = [env](RequestContext& ctx) -> Result<ApiResponse> {
         ARGUS_ASSIGN_OR_RETURN(auto bucket, BucketOf(env, ctx));
         ARGUS_ASSIGN_OR_RETURN(auto u,
                                env.deps->metadata->GetUpload(bucket.id, ctx.PathParam("id")));
         ARGUS_ASSIGN_OR_RETURN(auto parts, env.deps->metadata->ListUploadParts(bucket.id, u.id));
         if (parts.empty()) return InvalidArgumentError("the upload has no parts");
         for (size_t i = 0; i < parts.size(); ++i) {
           if (parts[i].number != static_cast<int>(i) + 1) {
             return InvalidArgumentError("part " + std::to_string(i + 1) +
                                         " is missing: parts must run 1.." +
                                         std::to_string(parts.back().number) + " without gaps");
           }
         }
         // The parts are read back in order into one new blob (hashed and size-checked on the
         // way, exactly like a streamed upload).
         UploadBody whole(bucket, LimitFor(bucket, *env.deps));
         ARGUS_ASSIGN_OR_RETURN(auto writer, env.deps->blobs->NewWriter());
         whole.SetWriter(std::move(writer));
         constexpr size_t kPiece = 1 << 20;
         for (const auto& part : parts) {
           ARGUS_ASSIGN_OR_RETURN(auto reader, env.deps->blobs->Open(part.sha256));
           for (int64_t at = 0; at < reader->size();) {
             ARGUS_ASSIGN_OR_RETURN(std::string piece, reader->ReadAt(at, kPiece));
             if (piece.empty()) return InternalError("a stored part is shorter than recorded");
             at += static_cast<int64_t>(piece.size());
             if (!whole.OnData(piece)) return whole.error();
           }
         }
         whole.OnEnd(true);
         ARGUS_ASSIGN_OR_RETURN(auto resp, FinishUpload(env, ctx, whole, u.key, u.metadata,
                                                        ctx.body.value("sha256", "")));
         // The object now holds the bytes: the parts' rows go (their blobs are collected).
         ARGUS_RETURN_IF_ERROR(env.deps->metadata->DeleteUpload(bucket.id, u.id));
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
                    env.deps->metadata->DeleteUpload(bucket.id, ctx.PathParam("id")));
                return ApiResponse::NoContent();
              }});
}

}  // namespace argus::api
