#include "domain/object_ingest.h"

#include <algorithm>

#include "core/id.h"
#include "core/json_schema.h"
#include "core/log.h"
#include "core/media_type.h"
#include "core/unicode.h"

namespace argus::domain {

using store::BlobInfo;
using store::Bucket;
using store::StoredObject;

Status CheckObjectKey(std::string_view raw, std::string* key) {
  if (raw.empty()) return InvalidArgumentError("the object key is empty");
  if (raw.size() > kMaxObjectKeyBytes) {
    return InvalidArgumentError("object keys are at most 1024 bytes");
  }
  for (unsigned char c : raw) {
    if (c < 0x20 || c == 0x7f) {
      return InvalidArgumentError("object keys may not contain NUL or control characters");
    }
  }
  if (raw.front() == '/') return InvalidArgumentError("object keys may not start with '/'");
  ARGUS_RETURN_IF_ERROR(NormalizeNfc(raw, key));
  if (key->size() > kMaxObjectKeyBytes) {
    return InvalidArgumentError("object keys are at most 1024 bytes");
  }
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

Status CheckObjectMetadata(const Bucket& bucket, const Json& metadata, size_t max_bytes) {
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

int64_t ObjectSizeLimit(const Bucket& bucket, int64_t server_limit) {
  if (bucket.max_object_bytes > 0 &&
      (server_limit <= 0 || bucket.max_object_bytes < server_limit)) {
    return bucket.max_object_bytes;
  }
  return server_limit;
}

Result<std::unique_ptr<IncomingObject>> IncomingObject::Start(
    const IngestContext& ctx, Bucket bucket, std::optional<int64_t> declared_length) {
  const int64_t limit = ObjectSizeLimit(bucket, ctx.max_object_bytes);
  if (limit > 0 && declared_length && *declared_length > limit) {
    return PayloadTooLargeError("objects in bucket '" + bucket.name + "' are at most " +
                                std::to_string(limit) + " bytes");
  }
  auto incoming = std::make_unique<IncomingObject>(std::move(bucket), limit);
  ARGUS_ASSIGN_OR_RETURN(auto writer, ctx.blobs->NewWriter());
  incoming->SetWriter(std::move(writer));
  return incoming;
}

Status IncomingObject::Append(std::string_view bytes) {
  if (writer_ == nullptr) return InternalError("no blob writer for the incoming object");
  if (limit_ > 0 && writer_->size() + static_cast<int64_t>(bytes.size()) > limit_) {
    writer_->Abort();
    return PayloadTooLargeError("objects in bucket '" + bucket_.name + "' are at most " +
                                std::to_string(limit_) + " bytes");
  }
  if (head_.size() < kSniffBytes) head_.append(bytes.substr(0, kSniffBytes - head_.size()));
  Status s = writer_->Write(bytes);
  if (!s.ok()) writer_->Abort();
  return s;
}

Result<IngestResult> CommitObject(const IngestContext& ctx, IncomingObject& incoming,
                                  IngestRequest request) {
  const Bucket& bucket = incoming.bucket();
  Status meta_ok = CheckObjectMetadata(bucket, request.metadata, ctx.max_metadata_bytes);
  if (!meta_ok.ok()) {
    incoming.Abort();
    return meta_ok;
  }
  std::string media_type = SniffMediaType(incoming.head(), ctx.sniff);
  if (!bucket.allowed_media_types.empty() &&
      std::none_of(bucket.allowed_media_types.begin(), bucket.allowed_media_types.end(),
                   [&](const std::string& p) { return MediaTypeMatches(p, media_type); })) {
    incoming.Abort();
    return UnsupportedMediaTypeError("bucket '" + bucket.name + "' does not accept " + media_type);
  }
  std::string& expected = request.expected_sha256;
  std::transform(expected.begin(), expected.end(), expected.begin(), ::tolower);
  // The pin keeps the collector off the blob until the row below names it (ADR 0007).
  auto pinned = CommitPinned(*incoming.writer(), *ctx.references, expected);
  if (!pinned.ok()) {
    if (pinned.status().code() == StatusCode::kInvalidArgument) {
      return InvalidArgumentError("the expected SHA-256 does not match the bytes: " +
                                  std::string(pinned.status().message()));
    }
    return pinned.status();
  }
  const BlobInfo& blob = pinned->info;
  if (request.keep_if_unchanged) {
    auto current = ctx.buckets->GetObject(bucket.id, request.key);
    if (current.ok() && current->sha256 == blob.sha256) {
      IngestResult same;
      same.put.object = std::move(current).value();
      same.unchanged = true;
      return same;
    }
    if (!current.ok() && current.status().code() != StatusCode::kNotFound) {
      return current.status();
    }
  }
  StoredObject obj;
  obj.id = NewId();
  obj.namespace_id = bucket.namespace_id;
  obj.bucket_id = bucket.id;
  obj.key = std::move(request.key);
  obj.size = blob.size;
  obj.sha256 = blob.sha256;
  obj.media_type = std::move(media_type);
  obj.metadata = std::move(request.metadata);
  obj.created_at = obj.updated_at = ctx.clock->NowUs();
  IngestResult result;
  ARGUS_ASSIGN_OR_RETURN(result.put, ctx.buckets->PutObject(obj, request.precondition));
  return result;
}

}  // namespace argus::domain
