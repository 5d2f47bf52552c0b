// Shared by the bucket, object and upload handlers (api/handlers/buckets.cc, objects.cc,
// uploads.cc): object JSON, key and metadata checks, and the streaming upload path.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "api/handlers/handlers.h"
#include "domain/object_ingest.h"

namespace argus::api {

inline constexpr size_t kMaxKeyBytes = domain::kMaxObjectKeyBytes;

/// The JSON schema of an object record.
const Json& ObjectSchema();
using store::ObjectJson;
inline std::string ETag(const std::string& sha256) { return store::ObjectETag(sha256); }
inline Status CheckKey(std::string_view raw, std::string* key) {
  return domain::CheckObjectKey(raw, key);
}
/// The JSON object in X-Argus-Metadata: plain JSON, or percent-encoded JSON (for non-ASCII).
Result<Json> MetadataHeader(const HttpRequest& req, size_t max_bytes);
inline Status CheckMetadata(const store::Bucket& bucket, const Json& metadata, size_t max_bytes) {
  return domain::CheckObjectMetadata(bucket, metadata, max_bytes);
}
/// "\"<sha256>\"" or a weak or bare form → the sha256; empty when it is not one.
std::string EtagValue(std::string_view header);
/// The object size limit in `bucket` (its own, or the server's, whichever is lower).
inline int64_t LimitFor(const store::Bucket& bucket, const ApiDeps& deps) {
  return domain::ObjectSizeLimit(bucket, deps.max_object_bytes);
}
/// What the object write path needs, from the handler's dependencies.
domain::IngestContext IngestContextOf(const ApiDeps& deps);
/// The bucket named in the path, in the request's namespace.
Result<store::Bucket> BucketOf(const HandlerEnv& env, const RequestContext& ctx);

// An upload in progress: the body streams into an IncomingObject (a blob writer that keeps the
// first bytes for sniffing). Lives from the request head to the handler's answer.
class UploadBody final : public BodyConsumer {
 public:
  UploadBody(store::Bucket bucket, int64_t limit) : incoming_(std::move(bucket), limit) {}

  /// Set up from the request head; a failure here refuses the body before it is read.
  void Fail(Status s) {
    if (error_.ok()) error_ = std::move(s);
    incoming_.Abort();
  }
  void SetWriter(std::unique_ptr<store::BlobWriter> w) { incoming_.SetWriter(std::move(w)); }

  bool Wanted() const override { return error_.ok(); }
  bool OnData(std::string_view bytes) override {
    if (!error_.ok()) return false;
    Status s = incoming_.Append(bytes);
    if (!s.ok()) {
      Fail(std::move(s));
      return false;
    }
    return true;
  }
  void OnEnd(bool complete) override {
    complete_ = complete;
    if (!complete) incoming_.Abort();  // the client went away: nothing is kept
  }

  const Status& error() const { return error_; }
  bool complete() const { return complete_; }
  const store::Bucket& bucket() const { return incoming_.bucket(); }
  domain::IncomingObject& incoming() { return incoming_; }

 private:
  domain::IncomingObject incoming_;
  Status error_;
  bool complete_ = false;
};

/// The upload state for a request head: the bucket, its limit, a blob writer. Problems found
/// here (no bucket, a declared length over the limit) refuse the body before it is read.
std::shared_ptr<UploadBody> StartUpload(const HandlerEnv& env, const RequestContext& ctx);

/// After the whole body arrived: checks (metadata, media type, checksum against `expected`
/// when given), then the blob is committed and the object row written.
Result<ApiResponse> FinishUpload(const HandlerEnv& env, const RequestContext& ctx,
                                 UploadBody& upload, const std::string& key, Json metadata,
                                 std::string expected);

}  // namespace argus::api
