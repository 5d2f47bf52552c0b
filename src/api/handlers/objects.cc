// /v1/buckets and their objects: streaming uploads into the blob store, records in the metadata
// store, downloads with Range and ETag.
#include <algorithm>
#include <charconv>

#include "api/handlers/handlers.h"
#include "api/http/multipart.h"
#include "core/crypto.h"
#include "core/id.h"
#include "core/json_schema.h"
#include "core/log.h"
#include "core/media_type.h"
#include "core/unicode.h"

namespace argus::api {

namespace {

constexpr size_t kMaxKeyBytes = 1024;

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

const Json kObjectSchema = {
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
        {"description", "upload answers: the bytes were already in the bucket under another key"}}},
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

// Keys arrive percent-decoded from the path. They are checked, then stored in NFC so that the
// same visible name typed on two systems is one key.
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

// The JSON object in X-Argus-Metadata: plain JSON, or percent-encoded JSON (for non-ASCII).
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

// "\"<sha256>\"" or a weak or bare form → the sha256; empty when it is not one.
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

// An upload in progress: the body streams into a blob writer while its first bytes are kept
// for sniffing. Lives from the request head to the handler's answer.
class UploadBody final : public BodyConsumer {
 public:
  UploadBody(store::Bucket bucket, int64_t limit) : bucket_(std::move(bucket)), limit_(limit) {}

  /// Set up from the request head; a failure here refuses the body before it is read.
  void Fail(Status s) {
    if (error_.ok()) error_ = std::move(s);
    if (writer_) writer_->Abort();
  }
  void SetWriter(std::unique_ptr<store::BlobWriter> w) { writer_ = std::move(w); }

  bool Wanted() const override { return error_.ok(); }
  bool OnData(std::string_view bytes) override {
    if (!error_.ok()) return false;
    if (limit_ > 0 && writer_->size() + static_cast<int64_t>(bytes.size()) > limit_) {
      Fail(PayloadTooLargeError("objects in bucket '" + bucket_.name + "' are at most " +
                                std::to_string(limit_) + " bytes"));
      return false;
    }
    if (head_.size() < kSniffBytes) {
      head_.append(bytes.substr(0, kSniffBytes - head_.size()));
    }
    Status s = writer_->Write(bytes);
    if (!s.ok()) {
      Fail(s);
      return false;
    }
    return true;
  }
  void OnEnd(bool complete) override {
    complete_ = complete;
    if (!complete && writer_) writer_->Abort();  // the client went away: nothing is kept
  }

  const Status& error() const { return error_; }
  bool complete() const { return complete_; }
  const store::Bucket& bucket() const { return bucket_; }
  const std::string& head() const { return head_; }
  store::BlobWriter* writer() { return writer_.get(); }

 private:
  store::Bucket bucket_;
  int64_t limit_;
  std::unique_ptr<store::BlobWriter> writer_;
  std::string head_;
  Status error_;
  bool complete_ = false;
};

// Sends a range of a stored blob.
class BlobBody final : public BodySource {
 public:
  BlobBody(std::unique_ptr<store::BlobReader> reader, int64_t offset, int64_t length)
      : reader_(std::move(reader)), offset_(offset), length_(length) {}
  int64_t size() const override { return length_; }
  bool Read(std::string* out, size_t max) override {
    auto piece = reader_->ReadAt(offset_ + sent_, max);
    if (!piece.ok() || piece->empty()) return false;
    sent_ += static_cast<int64_t>(piece->size());
    out->append(*piece);
    return true;
  }

 private:
  std::unique_ptr<store::BlobReader> reader_;
  int64_t offset_;
  int64_t length_;
  int64_t sent_ = 0;
};

// "bytes=a-b", "bytes=a-", "bytes=-n" against `size` → [first, last]; NotFound-free: 416 when
// unsatisfiable, nullopt when the header is absent or not a single byte range (then the whole
// body is sent, as RFC 9110 allows).
Result<std::optional<std::pair<int64_t, int64_t>>> ParseRange(std::string_view header,
                                                              int64_t size) {
  using Range = std::optional<std::pair<int64_t, int64_t>>;
  if (header.empty() || header.substr(0, 6) != "bytes=") return Range();
  std::string_view spec = header.substr(6);
  if (spec.find(',') != std::string_view::npos) return Range();  // multiple ranges: whole body
  size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return Range();
  auto number = [](std::string_view s, int64_t* v) {
    if (s.empty()) return false;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *v);
    return ec == std::errc() && p == s.data() + s.size() && *v >= 0;
  };
  std::string_view a = spec.substr(0, dash), b = spec.substr(dash + 1);
  int64_t first = 0, last = size - 1;
  if (a.empty()) {
    int64_t n = 0;
    if (!number(b, &n)) return Range();
    if (n == 0) return RangeNotSatisfiableError("the range is empty");
    first = std::max<int64_t>(0, size - n);
  } else {
    if (!number(a, &first)) return Range();
    if (!b.empty()) {
      if (!number(b, &last)) return Range();
      if (last < first) return Range();
      last = std::min(last, size - 1);
    }
  }
  if (first >= size) {
    return RangeNotSatisfiableError("the range starts at or after the end (" +
                                    std::to_string(size) + " bytes)");
  }
  return Range(std::make_pair(first, last));
}

// object.created / object.deleted on the event bus (SSE, WebSocket, webhooks). The object row is
// already committed in another database: an event lost to a crash right here is not retried.
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

// The upload state for a request head: the bucket, its limit, a blob writer. Problems found
// here (no bucket, a declared length over the limit) refuse the body before it is read.
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

// After the whole body arrived: checks (metadata, media type, checksum), then the blob is
// committed and the object row written.
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

// A multipart/form-data upload: the "file" part streams into an UploadBody; the small "key"
// and "metadata" parts are kept (they may come before or after the file).
class FormUpload final : public BodyConsumer {
 public:
  FormUpload(std::shared_ptr<UploadBody> file, std::string boundary, size_t max_field_bytes)
      : file_(std::move(file)),
        max_field_bytes_(max_field_bytes),
        parser_(std::move(boundary),
                {.on_part_begin = [this](const MultipartPart& p) { return Begin(p); },
                 .on_part_data = [this](std::string_view d) { return Data(d); },
                 .on_part_end = [this] { return true; }}) {}

  void Fail(Status s) {
    if (error_.ok()) error_ = std::move(s);
    file_->Fail(error_);
  }
  bool Wanted() const override { return error_.ok() && file_->Wanted(); }
  bool OnData(std::string_view bytes) override {
    if (!error_.ok()) return false;
    Status s = parser_.Feed(bytes);
    if (s.ok()) return true;
    // A part callback stopped the parse: the reason is the file's error or ours.
    Fail(s.code() == StatusCode::kCancelled && !file_->error().ok() ? file_->error() : s);
    return false;
  }
  void OnEnd(bool complete) override {
    if (complete && error_.ok()) {
      if (Status s = parser_.Finish(); !s.ok()) Fail(s);
      if (error_.ok() && !saw_file_) Fail(InvalidArgumentError("no part named 'file'"));
    }
    file_->OnEnd(complete && error_.ok());
  }

  Status error() const { return error_.ok() ? file_->error() : error_; }
  UploadBody& file() { return *file_; }
  const std::string& filename() const { return filename_; }
  const std::string& key_field() const { return key_; }
  const std::string& metadata_field() const { return metadata_; }

 private:
  bool Begin(const MultipartPart& p) {
    current_ = nullptr;
    in_file_ = false;
    if (p.name == "file") {
      if (saw_file_) {
        Fail(InvalidArgumentError("more than one part named 'file'"));
        return false;
      }
      saw_file_ = in_file_ = true;
      filename_ = p.filename;
    } else if (p.name == "key") {
      current_ = &key_;
    } else if (p.name == "metadata") {
      current_ = &metadata_;
    }
    return true;
  }
  bool Data(std::string_view d) {
    if (in_file_) return file_->OnData(d);
    if (current_ == nullptr) return true;  // other fields are ignored
    if (current_->size() + d.size() > max_field_bytes_) {
      Fail(InvalidArgumentError("a form field is over " + std::to_string(max_field_bytes_) +
                                " bytes"));
      return false;
    }
    current_->append(d);
    return true;
  }

  std::shared_ptr<UploadBody> file_;
  size_t max_field_bytes_;
  MultipartParser parser_;
  Status error_;
  bool saw_file_ = false;
  bool in_file_ = false;
  std::string filename_, key_, metadata_;
  std::string* current_ = nullptr;
};

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

// Query parameters "metadata.<field>=<value>": the value is JSON when it parses (numbers,
// true/false), else a string.
std::vector<std::pair<std::string, Json>> MetadataFilters(const RequestContext& ctx) {
  std::vector<std::pair<std::string, Json>> out;
  std::string_view q = ctx.http.query;
  while (!q.empty()) {
    size_t amp = q.find('&');
    std::string_view pair = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
    if (pair.substr(0, 9) != "metadata.") continue;
    size_t eq = pair.find('=');
    std::string field, value;
    std::string name(
        pair.substr(9, eq == std::string_view::npos ? std::string_view::npos : eq - 9));
    std::string raw(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
    std::replace(raw.begin(), raw.end(), '+', ' ');
    if (!PercentDecode(name, &field) || !PercentDecode(raw, &value) || field.empty()) continue;
    Json parsed = Json::parse(value, nullptr, false);
    bool scalar = !parsed.is_discarded() && (parsed.is_number() || parsed.is_boolean());
    out.emplace_back(field, scalar ? parsed : Json(value));
  }
  return out;
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
                ARGUS_ASSIGN_OR_RETURN(auto created, env.deps->metadata->CreateBucket(bucket));
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
                    auto page, env.deps->metadata->ListBuckets(ctx.namespace_id, params.page));
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
                ARGUS_ASSIGN_OR_RETURN(auto updated, env.deps->metadata->UpdateBucket(
                                                         ctx.namespace_id, ctx.PathParam("bucket"),
                                                         u, env.deps->clock->NowUs()));
                return ApiResponse::Of(200, BucketJson(updated));
              }});
  router.Add({.method = "DELETE",
              .pattern = "/v1/buckets/{bucket}",
              .operation_id = "deleteBucket",
              .summary = "Delete a bucket (refused while it holds objects, unless ?force=true)",
              .tag = "objects",
              .access = Access::kNamespaceAdmin,
              .success_status = 204,
              .query = {{"force", {{"type", "boolean"}}, "also delete its objects"}},
              .handler = [env](RequestContext& ctx) -> Result<ApiResponse> {
                bool force = ctx.Query("force").value_or("") == "true";
                ARGUS_RETURN_IF_ERROR(env.deps->metadata->DeleteBucket(
                    ctx.namespace_id, ctx.PathParam("bucket"), force));
                return ApiResponse::NoContent();
              }});
}

void AddObjectRoutes(Router& router, HandlerEnv env) {
  router.Add({.method = "PUT",
              .pattern = "/v1/buckets/{bucket}/objects/{key+}",
              .operation_id = "putObject",
              .summary =
                  "Upload an object: the raw body, streamed (X-Argus-Metadata, X-Argus-Sha256, "
                  "If-None-Match: *, If-Match)",
              .tag = "objects",
              .access = Access::kNamespaceEditor,
              .response_schema = kObjectSchema,
              .success_status = 201,
              .body_stream = [env](RequestContext& ctx) -> std::shared_ptr<BodyConsumer> {
                auto upload = StartUpload(env, ctx);
                std::string key;
                if (Status key_ok = CheckKey(ctx.PathParam("key"), &key); !key_ok.ok()) {
                  upload->Fail(key_ok);
                }
                return upload;
              },
              .handler = [env](RequestContext& ctx) -> Result<ApiResponse> {
                auto* upload = dynamic_cast<UploadBody*>(ctx.http.body_consumer.get());
                if (upload == nullptr) return InternalError("upload body missing");
                ARGUS_RETURN_IF_ERROR(upload->error());
                std::string key;
                ARGUS_RETURN_IF_ERROR(CheckKey(ctx.PathParam("key"), &key));
                ARGUS_ASSIGN_OR_RETURN(Json metadata,
                                       MetadataHeader(ctx.http, env.deps->max_metadata_bytes));
                return FinishUpload(env, ctx, *upload, key, std::move(metadata),
                                    std::string(ctx.http.Header("x-argus-sha256")));
              }});
  router.Add({.method = "POST",
              .pattern = "/v1/buckets/{bucket}/objects",
              .operation_id = "postObject",
              .summary = "Upload an object as multipart/form-data: a file part, optional key and "
                         "metadata parts (the key defaults to the file name), streamed",
              .tag = "objects",
              .access = Access::kNamespaceEditor,
              .response_schema = kObjectSchema,
              .success_status = 201,
              .body_stream = [env](RequestContext& ctx) -> std::shared_ptr<BodyConsumer> {
                auto boundary = MultipartParser::BoundaryOf(ctx.http.Header("content-type"));
                auto upload = std::make_shared<FormUpload>(StartUpload(env, ctx),
                                                           boundary.ok() ? *boundary : "-",
                                                           env.deps->max_metadata_bytes);
                if (!boundary.ok()) upload->Fail(boundary.status());
                return upload;
              },
              .handler = [env](RequestContext& ctx) -> Result<ApiResponse> {
                auto* form = dynamic_cast<FormUpload*>(ctx.http.body_consumer.get());
                if (form == nullptr) return InternalError("upload body missing");
                ARGUS_RETURN_IF_ERROR(form->error());
                std::string key;
                ARGUS_RETURN_IF_ERROR(CheckKey(
                    form->key_field().empty() ? form->filename() : form->key_field(), &key));
                Json metadata = Json::object();
                if (!form->metadata_field().empty()) {
                  auto parsed = ParseJson(form->metadata_field());
                  if (!parsed.ok() || !parsed->is_object()) {
                    return InvalidArgumentError("the metadata part must be a JSON object");
                  }
                  metadata = std::move(parsed).value();
                }
                return FinishUpload(env, ctx, form->file(), key, std::move(metadata),
                                    std::string(ctx.http.Header("x-argus-sha256")));
              }});
  router.Add({.method = "GET",
              .pattern = "/v1/buckets/{bucket}/objects/{key+}",
              .operation_id = "getObject",
              .summary = "An object's record (JSON); the bytes are at /content/{key}",
              .tag = "objects",
              .access = Access::kNamespaceViewer,
              .response_schema = kObjectSchema,
              .handler = [env](RequestContext& ctx) -> Result<ApiResponse> {
                ARGUS_ASSIGN_OR_RETURN(auto bucket, BucketOf(env, ctx));
                std::string key;
                ARGUS_RETURN_IF_ERROR(CheckKey(ctx.PathParam("key"), &key));
                ARGUS_ASSIGN_OR_RETURN(auto obj, env.deps->metadata->GetObject(bucket.id, key));
                auto resp = ApiResponse::Of(200, ObjectJson(obj, bucket.name));
                resp.headers.emplace_back("ETag", ETag(obj.sha256));
                return resp;
              }});
  router.Add({.method = "PATCH",
              .pattern = "/v1/buckets/{bucket}/objects/{key+}",
              .operation_id = "updateObjectMetadata",
              .summary = "Replace an object's metadata without uploading again (If-Match)",
              .tag = "objects",
              .access = Access::kNamespaceEditor,
              .request_schema = {{"type", "object"},
                                 {"additionalProperties", false},
                                 {"required", {"metadata"}},
                                 {"properties", {{"metadata", {{"type", "object"}}}}}},
              .response_schema = kObjectSchema,
              .handler = [env](RequestContext& ctx) -> Result<ApiResponse> {
                ARGUS_ASSIGN_OR_RETURN(auto bucket, BucketOf(env, ctx));
                std::string key;
                ARGUS_RETURN_IF_ERROR(CheckKey(ctx.PathParam("key"), &key));
                ARGUS_RETURN_IF_ERROR(
                    CheckMetadata(bucket, ctx.body["metadata"], env.deps->max_metadata_bytes));
                ARGUS_ASSIGN_OR_RETURN(auto obj, env.deps->metadata->UpdateObjectMetadata(
                                                     bucket.id, key, ctx.body["metadata"],
                                                     EtagValue(ctx.http.Header("if-match")),
                                                     env.deps->clock->NowUs()));
                return ApiResponse::Of(200, ObjectJson(obj, bucket.name));
              }});
  router.Add({.method = "DELETE",
              .pattern = "/v1/buckets/{bucket}/objects/{key+}",
              .operation_id = "deleteObject",
              .summary = "Delete an object (its blob is freed once nothing refers to it)",
              .tag = "objects",
              .access = Access::kNamespaceEditor,
              .success_status = 204,
              .handler = [env](RequestContext& ctx) -> Result<ApiResponse> {
                ARGUS_ASSIGN_OR_RETURN(auto bucket, BucketOf(env, ctx));
                std::string key;
                ARGUS_RETURN_IF_ERROR(CheckKey(ctx.PathParam("key"), &key));
                ARGUS_ASSIGN_OR_RETURN(auto gone, env.deps->metadata->DeleteObject(bucket.id, key));
                Publish(env, "object.deleted", gone, bucket.name);
                return ApiResponse::NoContent();
              }});
  router.Add(
      {.method = "GET",
       .pattern = "/v1/buckets/{bucket}/objects",
       .operation_id = "listObjects",
       .summary = "List objects by key (prefix, delimiter=/ for folders, metadata.<field>=value)",
       .tag = "objects",
       .access = Access::kNamespaceViewer,
       .response_schema = ListSchema(kObjectSchema),
       .query =
           [] {
             auto q = ListQueryParams();
             q.push_back({"prefix", {{"type", "string"}}, "only keys starting with this"});
             q.push_back({"delimiter",
                          {{"type", "string"}},
                          "'/': keys with it after the prefix roll up into common_prefixes"});
             return q;
           }(),
       .handler = [env](RequestContext& ctx) -> Result<ApiResponse> {
         ARGUS_ASSIGN_OR_RETURN(auto bucket, BucketOf(env, ctx));
         store::ListObjectsRequest req;
         req.prefix = ctx.Query("prefix").value_or("");
         req.delimiter = ctx.Query("delimiter").value_or("");
         req.metadata_equals = MetadataFilters(ctx);
         if (auto limit = ctx.Query("limit")) {
           int v = 0;
           auto [p, ec] = std::from_chars(limit->data(), limit->data() + limit->size(), v);
           if (ec != std::errc() || p != limit->data() + limit->size() || v < 1 || v > 1000) {
             return InvalidArgumentError(
                 "query parameter 'limit' must be an integer from 1 to 1000");
           }
           req.limit = v;
         }
         if (auto cursor = ctx.Query("cursor"); cursor && !cursor->empty()) {
           if (!Base64UrlDecode(*cursor, &req.after_key) ||
               req.after_key.size() > 2 * kMaxKeyBytes) {
             return InvalidArgumentError(
                 "query parameter 'cursor' is not a cursor this server issued");
           }
         }
         ARGUS_ASSIGN_OR_RETURN(auto listed, env.deps->metadata->ListObjects(bucket.id, req));
         Json items = Json::array();
         for (const auto& o : listed.objects) items.push_back(ObjectJson(o, bucket.name));
         Json body = ListBody(std::move(items), listed.next_after_key);
         body["common_prefixes"] = listed.common_prefixes;
         return ApiResponse::Of(200, std::move(body));
       }});
  router.Add(
      {.method = "GET",
       .pattern = "/v1/buckets/{bucket}/content/{key+}",
       .operation_id = "getObjectContent",
       .summary = "An object's bytes (HEAD too): Range → 206, ETag, If-None-Match → 304",
       .tag = "objects",
       .access = Access::kNamespaceViewer,
       .response_content_type = "application/octet-stream",
       .handler = [env](RequestContext& ctx) -> Result<ApiResponse> {
         ARGUS_ASSIGN_OR_RETURN(auto bucket, BucketOf(env, ctx));
         std::string key;
         ARGUS_RETURN_IF_ERROR(CheckKey(ctx.PathParam("key"), &key));
         ARGUS_ASSIGN_OR_RETURN(auto obj, env.deps->metadata->GetObject(bucket.id, key));
         ApiResponse resp;
         resp.headers.emplace_back("ETag", ETag(obj.sha256));
         resp.headers.emplace_back("Accept-Ranges", "bytes");
         resp.headers.emplace_back("Cache-Control", "private, no-cache");
         std::string_view inm = ctx.http.Header("if-none-match");
         if (!inm.empty() && (inm == "*" || EtagValue(inm) == obj.sha256)) {
           resp.status = 304;
           resp.raw = std::string();
           return resp;
         }
         ARGUS_ASSIGN_OR_RETURN(auto range, ParseRange(ctx.http.Header("range"), obj.size));
         // If-Range: a range only while the object is still the one the client has.
         std::string_view if_range = ctx.http.Header("if-range");
         if (range && !if_range.empty() && EtagValue(if_range) != obj.sha256) range.reset();
         ARGUS_ASSIGN_OR_RETURN(auto reader, env.deps->blobs->Open(obj.sha256));
         int64_t first = range ? range->first : 0;
         int64_t length = range ? range->second - range->first + 1 : obj.size;
         resp.status = range ? 206 : 200;
         if (range) {
           std::string cr = "bytes ";
           cr.append(std::to_string(range->first)).append("-");
           cr.append(std::to_string(range->second)).append("/").append(std::to_string(obj.size));
           resp.headers.emplace_back("Content-Range", std::move(cr));
         }
         resp.content_type = obj.media_type;
         resp.body_source = std::make_shared<BlobBody>(std::move(reader), first, length);
         return resp;
       }});
}

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
                auto blob = upload->writer()->Commit(expected);
                if (!blob.ok()) {
                  if (blob.status().code() == StatusCode::kInvalidArgument) {
                    return InvalidArgumentError("X-Argus-Sha256 does not match the part");
                  }
                  return blob.status();
                }
                store::UploadPart part{.number = number,
                                       .sha256 = blob->sha256,
                                       .size = blob->size,
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
       .response_schema = kObjectSchema,
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
