// Shared by the bucket, object and upload handlers (api/handlers/buckets.cc, objects.cc,
// uploads.cc): object JSON, key and metadata checks, and the streaming upload path.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "api/handlers/handlers.h"
#include "core/media_type.h"

namespace argus::api {

inline constexpr size_t kMaxKeyBytes = 1024;

/// The JSON schema of an object record.
const Json& ObjectSchema();
/// The quoted SHA-256: an object's ETag.
std::string ETag(const std::string& sha256);
Json ObjectJson(const store::StoredObject& o, std::string_view bucket);
/// Keys arrive percent-decoded from the path. They are checked, then stored in NFC so that the
/// same visible name typed on two systems is one key.
Status CheckKey(std::string_view raw, std::string* key);
/// The JSON object in X-Argus-Metadata: plain JSON, or percent-encoded JSON (for non-ASCII).
Result<Json> MetadataHeader(const HttpRequest& req, size_t max_bytes);
/// Size, and the bucket's metadata_schema.
Status CheckMetadata(const store::Bucket& bucket, const Json& metadata, size_t max_bytes);
/// "\"<sha256>\"" or a weak or bare form → the sha256; empty when it is not one.
std::string EtagValue(std::string_view header);
/// The object size limit in `bucket` (its own, or the server's, whichever is lower).
int64_t LimitFor(const store::Bucket& bucket, const ApiDeps& deps);
/// The bucket named in the path, in the request's namespace.
Result<store::Bucket> BucketOf(const HandlerEnv& env, const RequestContext& ctx);
/// object.created / object.deleted on the event bus (SSE, WebSocket, webhooks). The object row
/// is already committed in another database: an event lost to a crash right here is not retried.
void Publish(const HandlerEnv& env, std::string_view type, const store::StoredObject& o,
             const std::string& bucket);

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

/// The upload state for a request head: the bucket, its limit, a blob writer. Problems found
/// here (no bucket, a declared length over the limit) refuse the body before it is read.
std::shared_ptr<UploadBody> StartUpload(const HandlerEnv& env, const RequestContext& ctx);

/// After the whole body arrived: checks (metadata, media type, checksum against `expected`
/// when given), then the blob is committed and the object row written.
Result<ApiResponse> FinishUpload(const HandlerEnv& env, const RequestContext& ctx,
                                 UploadBody& upload, const std::string& key, Json metadata,
                                 std::string expected);

}  // namespace argus::api
