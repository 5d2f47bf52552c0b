// GET /v1/buckets/{bucket}/thumbnails/{key}: a small image of an object, made once by the
// `thumbnail` extractor (through the InferenceService, which reads the object's blob itself),
// stored in the blob store and recorded as a derived blob of the object's bytes, so every later
// request (for any object with the same bytes) is a read.
#include <set>

#include "api/handlers/handlers.h"
#include "api/handlers/object_common.h"
#include "core/crypto.h"
#include "core/str_cat.h"

namespace argus::api {
namespace {

// Sizes are a fixed ladder: any size at all would let a viewer fill the disk with variants.
const std::set<int> kSizes = {64, 128, 256, 512, 1024};

ApiResponse ImageResponse(std::string bytes, const std::string& media_type,
                          const std::string& sha256) {
  ApiResponse resp;
  resp.status = 200;
  resp.content_type = media_type;
  resp.headers.emplace_back("ETag", store::ObjectETag(sha256));
  resp.headers.emplace_back("Cache-Control", "private, no-cache");
  resp.raw = std::move(bytes);
  return resp;
}

// Stores a thumbnail the extractor made and records it; returns the response.
Result<ApiResponse> Store(const HandlerEnv& env, const std::string& source_sha256,
                          const std::string& variant, const Json& answer) {
  std::string bytes;
  if (!answer.contains("data") || !answer["data"].is_string() ||
      !Base64Decode(answer["data"].get<std::string>(), &bytes)) {
    return InternalError("the thumbnail extractor answered no image");
  }
  ARGUS_ASSIGN_OR_RETURN(auto writer, env.deps->blobs->NewWriter());
  ARGUS_RETURN_IF_ERROR(writer->Write(bytes));
  // Pinned until the record names it (ADR 0007).
  ARGUS_ASSIGN_OR_RETURN(auto pinned, store::CommitPinned(*writer, *env.deps->references));
  store::DerivedBlob derived{
      .source_sha256 = source_sha256,
      .variant = variant,
      .sha256 = pinned.info.sha256,
      .media_type = answer.value("media_type", "application/octet-stream"),
      .size = pinned.info.size,
      .details = {{"width", answer.value("width", 0)}, {"height", answer.value("height", 0)}},
      .created_at = env.deps->clock->NowUs()};
  ARGUS_RETURN_IF_ERROR(env.deps->references->PutDerivedBlob(derived));
  return ImageResponse(std::move(bytes), derived.media_type, derived.sha256);
}

}  // namespace

void AddThumbnailRoutes(Router& router, HandlerEnv env) {
  router.Add(
      {.method = "GET",
       .pattern = "/v1/buckets/{bucket}/thumbnails/{key+}",
       .operation_id = "getObjectThumbnail",
       .summary = "A thumbnail of an image object (made once, then kept in the blob store)",
       .tag = "objects",
       .access = Access::kNamespaceViewer,
       .query = {{"size",
                  {{"type", "integer"}, {"enum", {64, 128, 256, 512, 1024}}, {"default", 256}},
                  "the longer side in pixels (smaller images are not enlarged)"},
                 {"format",
                  {{"type", "string"}, {"enum", {"jpeg", "webp"}}, {"default", "jpeg"}},
                  "image/jpeg or image/webp"}},
       .response_content_type = "image/jpeg",
       .handler = [env](RequestContext& ctx) -> Result<ApiResponse> {
         int size = 256;
         if (auto raw = ctx.Query("size"); raw.has_value()) {
           size = std::atoi(raw->c_str());
           if (!kSizes.count(size) || std::to_string(size) != *raw) {
             return InvalidArgumentError("size must be one of 64, 128, 256, 512, 1024");
           }
         }
         const std::string format = ctx.Query("format").value_or("jpeg");
         if (format != "jpeg" && format != "webp") {
           return InvalidArgumentError("format must be jpeg or webp");
         }
         ARGUS_ASSIGN_OR_RETURN(auto bucket, BucketOf(env, ctx));
         std::string key;
         ARGUS_RETURN_IF_ERROR(domain::CheckObjectKey(ctx.PathParam("key"), &key));
         ARGUS_ASSIGN_OR_RETURN(auto obj, env.deps->buckets->GetObject(bucket.id, key));
         const std::string variant = StrCat({"thumbnail-", std::to_string(size), ".", format});
         // Refused from the record alone, before any byte is read: the media type was sniffed
         // from the content at upload.
         if (!obj.media_type.starts_with("image/")) {
           return UnsupportedMediaTypeError("object '" + key + "' is " + obj.media_type +
                                            ", not an image");
         }
         if (obj.size > env.deps->thumbnail_max_source_bytes) {
           return PayloadTooLargeError("object '" + key + "' has " + std::to_string(obj.size) +
                                       " bytes: thumbnails are made of images up to " +
                                       std::to_string(env.deps->thumbnail_max_source_bytes) +
                                       " (images.max_bytes)");
         }

         if (auto known = env.deps->references->GetDerivedBlob(obj.sha256, variant); known.ok()) {
           std::string_view inm = ctx.http.Header("if-none-match");
           if (!inm.empty() && EtagValue(inm) == known->sha256) {
             ApiResponse resp;
             resp.status = 304;
             resp.headers.emplace_back("ETag", store::ObjectETag(known->sha256));
             resp.raw = std::string();
             return resp;
           }
           auto bytes = store::ReadWholeBlob(*env.deps->blobs, known->sha256, known->size);
           if (bytes.ok())
             return ImageResponse(std::move(*bytes), known->media_type, known->sha256);
           // The blob went (collected with an earlier copy of its source): make it again.
         } else if (known.status().code() != StatusCode::kNotFound) {
           return known.status();
         }

         store::InferenceRequest request{
             .name = "thumbnail",
             .blob_sha256 = obj.sha256,
             .media_type = obj.media_type,
             .params = {{"max_side", size}, {"format", format}},
             .deadline = std::chrono::steady_clock::now() +
                         std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                             std::chrono::duration<double>(env.deps->inference_timeout_s))};
         ApiResponse deferred;
         deferred.deferred = [env, request = std::move(request), variant,
                              key](std::function<void(Result<ApiResponse>)> complete) mutable {
           std::string source = request.blob_sha256;
           env.deps->inference->InferAsync(std::move(request), [env, complete, source, variant,
                                                                key](Result<Json> answer) {
             if (!answer.ok()) {
               // The stored bytes do not decode (corrupt, truncated, over the pixel limit).
               if (answer.status().code() == StatusCode::kInvalidArgument) {
                 return complete(UnsupportedMediaTypeError("object '" + key +
                                                           "' is not an image Argus can read: " +
                                                           std::string(answer.status().message())));
               }
               return complete(answer.status());
             }
             complete(Store(env, source, variant, *answer));
           });
         };
         return deferred;
       }});
}

}  // namespace argus::api
