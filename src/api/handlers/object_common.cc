#include "api/handlers/object_common.h"

#include <algorithm>
#include <charconv>

#include "core/crypto.h"
#include "core/id.h"
#include "core/json_schema.h"
#include "core/log.h"
#include "core/media_type.h"
#include "core/unicode.h"

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

std::string ETag(const std::string& sha256) {
  std::string etag = "\"";
  etag += sha256;
  etag += "\"";
  return etag;
}

Json ObjectJson(const store::StoredObject& o, std::string_view bucket) {
  return {{"id", o.id},
          {"bucket", bucket},
          {"key", o.key},
          {"size", o.size},
          {"sha256", o.sha256},
          {"etag", ETag(o.sha256)},
          {"media_type", o.media_type},
          {"metadata", o.metadata},
          {"status", o.status},
          {"created_at", FormatRfc3339(o.created_at)},
          {"updated_at", FormatRfc3339(o.updated_at)}};
}

Status CheckKey(std::string_view raw, std::string* key) {
  if (raw.empty()) return InvalidArgumentError("the object key is empty");
  if (raw.size() > kMaxKeyBytes) {
    return InvalidArgumentError("object keys are at most 1024 bytes");
  }
  for (unsigned char c : raw) {
    if (c < 0x20 || c == 0x7f) {
      return InvalidArgumentError("object keys may not contain NUL or control characters");
    }
  }
  if (raw.front() == '/') return InvalidArgumentError("object keys may not start with '/'");
  ARGUS_RETURN_IF_ERROR(NormalizeNfc(raw, key));
  if (key->size() > kMaxKeyBytes) return InvalidArgumentError("object keys are at most 1024 bytes");
  // No "." or ".." segment and no empty segment: a key must never name a path outside itself.
  std::string_view rest = *key;
  while (true) {
    size_t slash = rest.find('/');
    std::string_view part = rest.substr(0, slash);
    if (part == "." || part == "..") {
      return InvalidArgumentError("object keys may not contain '.' or '..' segments");
    }
    if (part.empty() && slash != std::string_view::npos) {
      return InvalidArgumentError("object keys may not contain '//'");
    }
    if (slash == std::string_view::npos) break;
    rest = rest.substr(slash + 1);
  }
  return OkStatus();
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

Status CheckMetadata(const store::Bucket& bucket, const Json& metadata, size_t max_bytes) {
  if (!metadata.is_object()) return InvalidArgumentError("metadata must be a JSON object");
  if (metadata.dump(-1, ' ', false, Json::error_handler_t::replace).size() > max_bytes) {
    return InvalidArgumentError("metadata is over " + std::to_string(max_bytes) + " bytes");
  }
  if (bucket.metadata_schema.is_object()) {
    ARGUS_ASSIGN_OR_RETURN(auto schema, JsonSchema::Compile(bucket.metadata_schema));
    Status valid = schema.Validate(metadata);
    if (!valid.ok()) {
      return InvalidArgumentError("metadata does not match the bucket's metadata_schema: " +
                                  std::string(valid.message()));
    }
  }
  return OkStatus();
}

std::string EtagValue(std::string_view header) {
  std::string_view v = header;
  if (v.substr(0, 2) == "W/") v = v.substr(2);
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  return std::string(v);
}

int64_t LimitFor(const store::Bucket& bucket, const ApiDeps& deps) {
  int64_t server = deps.max_object_bytes;
  if (bucket.max_object_bytes > 0 && (server <= 0 || bucket.max_object_bytes < server)) {
    return bucket.max_object_bytes;
  }
  return server;
}

void Publish(const HandlerEnv& env, std::string_view type, const store::StoredObject& o,
             const std::string& bucket) {
  if (env.deps->tasks == nullptr) return;
  Status s = env.deps->tasks->PublishEvent(
      type, o.namespace_id, o.id,
      ObjectJson(o, bucket).dump(-1, ' ', false, Json::error_handler_t::replace));
  if (!s.ok()) {
    log::Warn("could not publish an object event",
              {{"type", type}, {"object", o.id}, {"error", s.ToString()}});
  }
}

Result<store::Bucket> BucketOf(const HandlerEnv& env, const RequestContext& ctx) {
  return env.deps->metadata->GetBucket(ctx.namespace_id, ctx.PathParam("bucket"));
}

std::shared_ptr<UploadBody> StartUpload(const HandlerEnv& env, const RequestContext& ctx) {
  auto bucket = BucketOf(env, ctx);
  if (!bucket.ok()) {
    auto refused = std::make_shared<UploadBody>(store::Bucket{}, 0);
    refused->Fail(bucket.status());
    return refused;
  }
  const int64_t limit = LimitFor(*bucket, *env.deps);
  auto upload = std::make_shared<UploadBody>(*bucket, limit);
  std::string_view length = ctx.http.Header("content-length");
  int64_t declared = 0;
  if (limit > 0 && !length.empty() &&
      std::from_chars(length.data(), length.data() + length.size(), declared).ec == std::errc() &&
      declared > limit) {
    upload->Fail(PayloadTooLargeError("objects in bucket '" + bucket->name + "' are at most " +
                                      std::to_string(limit) + " bytes"));
    return upload;
  }
  auto writer = env.deps->blobs->NewWriter();
  if (!writer.ok()) {
    upload->Fail(writer.status());
    return upload;
  }
  upload->SetWriter(std::move(writer).value());
  return upload;
}

Result<ApiResponse> FinishUpload(const HandlerEnv& env, const RequestContext& ctx,
                                 UploadBody& upload, const std::string& key, Json metadata,
                                 std::string expected) {
  if (!upload.complete()) return InvalidArgumentError("the body ended early");
  const store::Bucket& bucket = upload.bucket();
  Status meta_ok = CheckMetadata(bucket, metadata, env.deps->max_metadata_bytes);
  if (!meta_ok.ok()) {
    upload.writer()->Abort();
    return meta_ok;
  }
  std::string media_type = SniffMediaType(upload.head());
  if (!bucket.allowed_media_types.empty() &&
      std::none_of(bucket.allowed_media_types.begin(), bucket.allowed_media_types.end(),
                   [&](const std::string& p) { return MediaTypeMatches(p, media_type); })) {
    upload.writer()->Abort();
    return UnsupportedMediaTypeError("bucket '" + bucket.name + "' does not accept " + media_type);
  }
  std::transform(expected.begin(), expected.end(), expected.begin(), ::tolower);
  auto blob = upload.writer()->Commit(expected);
  if (!blob.ok()) {
    if (blob.status().code() == StatusCode::kInvalidArgument) {
      return InvalidArgumentError("the expected SHA-256 does not match the bytes: " +
                                  std::string(blob.status().message()));
    }
    return blob.status();
  }
  store::ObjectPrecondition cond;
  cond.must_not_exist = ctx.http.Header("if-none-match") == "*";
  cond.sha256_must_match = EtagValue(ctx.http.Header("if-match"));
  store::StoredObject obj;
  obj.id = NewId();
  obj.namespace_id = ctx.namespace_id;
  obj.bucket_id = bucket.id;
  obj.key = key;
  obj.size = blob->size;
  obj.sha256 = blob->sha256;
  obj.media_type = media_type;
  obj.metadata = std::move(metadata);
  obj.created_at = obj.updated_at = env.deps->clock->NowUs();
  // The blob is durable before the row that names it is written; a crash in between leaves an
  // unreferenced blob for the collector, never a row without bytes.
  ARGUS_ASSIGN_OR_RETURN(auto put, env.deps->metadata->PutObject(obj, cond));
  Publish(env, "object.created", put.object, bucket.name);
  Json j = ObjectJson(put.object, bucket.name);
  j["deduplicated"] = put.deduplicated;
  auto resp = ApiResponse::Of(put.replaced ? 200 : 201, std::move(j));
  resp.headers.emplace_back("ETag", ETag(put.object.sha256));
  std::string location = "/v1/buckets/";
  location.append(bucket.name).append("/objects/").append(put.object.key);
  resp.headers.emplace_back("Location", std::move(location));
  return resp;
}

}  // namespace argus::api
