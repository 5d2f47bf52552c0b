// /v1/buckets/{bucket}/objects and /content: raw and multipart uploads (streamed into the blob
// store), records, listing, metadata updates, deletes, and downloads with Range and ETag.
#include <algorithm>
#include <charconv>

#include "api/handlers/handlers.h"
#include "api/handlers/object_common.h"
#include "api/http/multipart.h"
#include "core/crypto.h"
#include "core/id.h"
#include "core/json_schema.h"
#include "core/log.h"
#include "core/media_type.h"
#include "core/unicode.h"

namespace argus::api {

namespace {

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

void AddObjectRoutes(Router& router, HandlerEnv env) {
  router.Add(
      {.method = "PUT",
       .pattern = "/v1/buckets/{bucket}/objects/{key+}",
       .operation_id = "putObject",
       .summary = "Upload an object: the raw body, streamed (X-Argus-Metadata, X-Argus-Sha256, "
                  "If-None-Match: *, If-Match)",
       .tag = "objects",
       .access = Access::kNamespaceEditor,
       .response_schema = ObjectSchema(),
       .success_status = 201,
       .body_stream = [env](RequestContext& ctx) -> std::shared_ptr<BodyConsumer> {
         auto upload = StartUpload(env, ctx);
         std::string key;
         if (Status key_ok = domain::CheckObjectKey(ctx.PathParam("key"), &key); !key_ok.ok()) {
           upload->Fail(key_ok);
         }
         return upload;
       },
       .handler = [env](RequestContext& ctx) -> Result<ApiResponse> {
         auto* upload = ctx.StreamedBody<UploadBody>();
         if (upload == nullptr) return InternalError("upload body missing");
         ARGUS_RETURN_IF_ERROR(upload->error());
         std::string key;
         ARGUS_RETURN_IF_ERROR(domain::CheckObjectKey(ctx.PathParam("key"), &key));
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
              .response_schema = ObjectSchema(),
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
                auto* form = ctx.StreamedBody<FormUpload>();
                if (form == nullptr) return InternalError("upload body missing");
                ARGUS_RETURN_IF_ERROR(form->error());
                std::string key;
                ARGUS_RETURN_IF_ERROR(domain::CheckObjectKey(
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
              .response_schema = ObjectSchema(),
              .handler = [env](RequestContext& ctx) -> Result<ApiResponse> {
                ARGUS_ASSIGN_OR_RETURN(auto bucket, BucketOf(env, ctx));
                std::string key;
                ARGUS_RETURN_IF_ERROR(domain::CheckObjectKey(ctx.PathParam("key"), &key));
                ARGUS_ASSIGN_OR_RETURN(auto obj, env.deps->buckets->GetObject(bucket.id, key));
                auto resp = ApiResponse::Of(200, ObjectJson(obj, bucket.name));
                resp.headers.emplace_back("ETag", store::ObjectETag(obj.sha256));
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
              .response_schema = ObjectSchema(),
              .handler = [env](RequestContext& ctx) -> Result<ApiResponse> {
                ARGUS_ASSIGN_OR_RETURN(auto bucket, BucketOf(env, ctx));
                std::string key;
                ARGUS_RETURN_IF_ERROR(domain::CheckObjectKey(ctx.PathParam("key"), &key));
                ARGUS_RETURN_IF_ERROR(domain::CheckObjectMetadata(bucket, ctx.body["metadata"],
                                                                  env.deps->max_metadata_bytes));
                ARGUS_ASSIGN_OR_RETURN(auto obj, env.deps->buckets->UpdateObjectMetadata(
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
                ARGUS_RETURN_IF_ERROR(domain::CheckObjectKey(ctx.PathParam("key"), &key));
                // The store records object.deleted with the deletion.
                ARGUS_RETURN_IF_ERROR(env.deps->buckets->DeleteObject(bucket.id, key).status());
                return ApiResponse::NoContent();
              }});
  router.Add(
      {.method = "GET",
       .pattern = "/v1/buckets/{bucket}/objects",
       .operation_id = "listObjects",
       .summary = "List objects by key (prefix, delimiter=/ for folders, metadata.<field>=value)",
       .tag = "objects",
       .access = Access::kNamespaceViewer,
       .response_schema = ListSchema(ObjectSchema()),
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
         // Object keys make longer cursors than ids: up to 2 KiB.
         ARGUS_ASSIGN_OR_RETURN(auto params, ParseListParams(ctx, 2 * domain::kMaxObjectKeyBytes));
         req.limit = params.page.limit;
         req.after_key = std::move(params.page.after_id);
         ARGUS_ASSIGN_OR_RETURN(auto listed, env.deps->buckets->ListObjects(bucket.id, req));
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
         ARGUS_RETURN_IF_ERROR(domain::CheckObjectKey(ctx.PathParam("key"), &key));
         ARGUS_ASSIGN_OR_RETURN(auto obj, env.deps->buckets->GetObject(bucket.id, key));
         ApiResponse resp;
         resp.headers.emplace_back("ETag", store::ObjectETag(obj.sha256));
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

}  // namespace argus::api
