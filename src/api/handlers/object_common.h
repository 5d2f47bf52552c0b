// Shared by the bucket, object and upload handlers (api/handlers/buckets.cc, objects.cc,
// uploads.cc): object JSON, key and metadata checks, and the streaming upload path.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "api/handlers/handlers.h"
#include "domain/object_ingest.h"

namespace argus::api {

/// The JSON schema of an object record.
const Json& ObjectSchema();
using store::ObjectJson;
/// The JSON object in X-Argus-Metadata: plain JSON, or percent-encoded JSON (for non-ASCII).
Result<Json> MetadataHeader(const HttpRequest& req, size_t max_bytes);
/// "\"<sha256>\"" or a weak or bare form → the sha256; empty when it is not one.
std::string EtagValue(std::string_view header);
/// What the object write path needs, from the handler's dependencies.
domain::IngestContext IngestContextOf(const ApiDeps& deps);
/// The bucket named in the path, in the request's namespace.
Result<store::Bucket> BucketOf(const HandlerEnv& env, const RequestContext& ctx);

// An upload in progress: the body streams into the domain's IncomingObject (a blob writer that
// keeps the first bytes for sniffing). Lives from the request head to the handler's answer.
class UploadBody final : public BodyConsumer {
 public:
  /// Accepted from the head: the body goes into `incoming`.
  explicit UploadBody(std::unique_ptr<domain::IncomingObject> incoming)
      : incoming_(std::move(incoming)) {}
  /// Refused from the head (no bucket, a declared length over the limit): the body is not read.
  explicit UploadBody(Status refused) : error_(std::move(refused)) {}

  bool Wanted() const override { return error_.ok(); }
  bool OnData(std::string_view bytes) override {
    if (!error_.ok()) return false;
    Status s = incoming_->Append(bytes);
    if (!s.ok()) {
      Fail(std::move(s));
      return false;
    }
    return true;
  }
  void OnEnd(bool complete) override {
    complete_ = complete;
    if (!complete && incoming_) incoming_->Abort();  // the client went away: nothing is kept
  }

  /// Not OK when refused or failed; the accessors below need OK.
  const Status& error() const { return error_; }
  bool complete() const { return complete_; }
  const store::Bucket& bucket() const { return incoming_->bucket(); }
  domain::IncomingObject& incoming() { return *incoming_; }

  /// Stops the upload: what was written is dropped and the handler answers with `s`.
  void Fail(Status s) {
    if (error_.ok()) error_ = std::move(s);
    if (incoming_) incoming_->Abort();
  }

 private:
  std::unique_ptr<domain::IncomingObject> incoming_;
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
