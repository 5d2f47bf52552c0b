#include "api/handlers/object_common.h"

#include <charconv>

#include "core/crypto.h"

namespace argus::api {

const Json& ObjectSchema() {
  static const Json kSchema = {
      {"type", "object"},
      {"required", {"id", "bucket", "key", "size", "sha256", "media_type", "metadata"}},
      {"properties",
       {{"id", {{"type", "string"}}},
        {"bucket", {{"type", "string"}}},
        {"key", {{"type", "string"}}},
        {"size", {{"type", "integer"}}},
        {"sha256", {{"type", "string"}}},
        {"etag", {{"type", "string"}}},
        {"media_type", {{"type", "string"}, {"description", "sniffed from the bytes"}}},
        {"metadata", {{"type", "object"}}},
        {"status", {{"type", "string"}}},
        {"deduplicated",
         {{"type", "boolean"},
          {"description",
           "upload answers: the bytes were already in the bucket under another key"}}},
        {"created_at", {{"type", "string"}}},
        {"updated_at", {{"type", "string"}}}}}};
  return kSchema;
}

Result<Json> MetadataHeader(const HttpRequest& req, size_t max_bytes) {
  std::string_view raw = req.Header("x-argus-metadata");
  if (raw.empty()) return Json::object();
  std::string text(raw);
  if (!raw.empty() && raw.front() == '%') {
    if (!PercentDecode(raw, &text)) {
      return InvalidArgumentError("X-Argus-Metadata is not valid percent-encoding");
    }
  }
  if (text.size() > max_bytes) {
    return InvalidArgumentError("X-Argus-Metadata is over " + std::to_string(max_bytes) + " bytes");
  }
  auto parsed = ParseJson(text);
  if (!parsed.ok() || !parsed->is_object()) {
    return InvalidArgumentError("X-Argus-Metadata must be a JSON object");
  }
  return std::move(parsed).value();
}

std::string EtagValue(std::string_view header) {
  std::string_view v = header;
  if (v.substr(0, 2) == "W/") v = v.substr(2);
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  return std::string(v);
}

domain::IngestContext IngestContextOf(const ApiDeps& deps) {
  domain::IngestContext ic;
  ic.buckets = deps.buckets;
  ic.references = deps.references;
  ic.blobs = deps.blobs;
  ic.clock = deps.clock;
  ic.max_object_bytes = deps.max_object_bytes;
  ic.max_metadata_bytes = deps.max_metadata_bytes;
  ic.sniff = deps.sniff;
  return ic;
}

Result<store::Bucket> BucketOf(const HandlerEnv& env, const RequestContext& ctx) {
  return env.deps->buckets->GetBucket(ctx.namespace_id, ctx.PathParam("bucket"));
}

std::shared_ptr<UploadBody> StartUpload(const HandlerEnv& env, const RequestContext& ctx) {
  auto bucket = BucketOf(env, ctx);
  if (!bucket.ok()) return std::make_shared<UploadBody>(bucket.status());
  std::optional<int64_t> declared;
  std::string_view length = ctx.http.Header("content-length");
  if (int64_t n = 0;
      !length.empty() &&
      std::from_chars(length.data(), length.data() + length.size(), n).ec == std::errc()) {
    declared = n;
  }
  auto incoming = domain::IncomingObject::Start(IngestContextOf(*env.deps),
                                                std::move(bucket).value(), declared);
  if (!incoming.ok()) return std::make_shared<UploadBody>(incoming.status());
  return std::make_shared<UploadBody>(std::move(incoming).value());
}

Result<ApiResponse> FinishUpload(const HandlerEnv& env, const RequestContext& ctx,
                                 UploadBody& upload, const std::string& key, Json metadata,
                                 std::string expected) {
  if (!upload.complete()) return InvalidArgumentError("the body ended early");
  domain::IngestRequest request;
  request.key = key;
  request.metadata = std::move(metadata);
  request.expected_sha256 = std::move(expected);
  request.precondition.must_not_exist = ctx.http.Header("if-none-match") == "*";
  request.precondition.sha256_must_match = EtagValue(ctx.http.Header("if-match"));
  ARGUS_ASSIGN_OR_RETURN(
      auto result, domain::CommitObject(IngestContextOf(*env.deps), upload.incoming(), request));
  const auto& put = result.put;
  Json j = ObjectJson(put.object, upload.bucket().name);
  j["deduplicated"] = put.deduplicated;
  auto resp = ApiResponse::Of(put.replaced ? 200 : 201, std::move(j));
  resp.headers.emplace_back("ETag", store::ObjectETag(put.object.sha256));
  std::string location = "/v1/buckets/";
  location.append(upload.bucket().name).append("/objects/").append(put.object.key);
  resp.headers.emplace_back("Location", std::move(location));
  return resp;
}

}  // namespace argus::api
