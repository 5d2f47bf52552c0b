// The one way bytes become an object, shared by the API's uploads and the engine's syncs: key
// and metadata checks, the size limit, media type sniffing, the blob commit, the object row and
// its event. Built on the store contracts only.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/json.h"
#include "core/media_type.h"
#include "core/result.h"
#include "store/blob_references.h"
#include "store/blob_store.h"
#include "store/bucket_store.h"
#include "store/event_payloads.h"
#include "store/task_queue.h"

namespace argus::domain {

inline constexpr size_t kMaxObjectKeyBytes = 1024;

/// Checks a key (as received, percent-decoded) and stores it in NFC in `*key`, so that the same
/// visible name typed on two systems is one key. InvalidArgument for an empty key, one over 1024
/// bytes, NUL or control bytes, a leading '/', "." or ".." segments or "//".
Status CheckObjectKey(std::string_view raw, std::string* key);
/// The metadata's size, and the bucket's metadata_schema. InvalidArgument otherwise.
Status CheckObjectMetadata(const store::Bucket& bucket, const Json& metadata, size_t max_bytes);
/// The object size limit in `bucket`: its own, or the server's, whichever is lower (0: none).
int64_t ObjectSizeLimit(const store::Bucket& bucket, int64_t server_limit);
/// What committing an object needs. Pointers are borrowed.
struct IngestContext {
  store::BucketStore* buckets = nullptr;        ///< buckets, objects, uploads
  store::BlobReferences* references = nullptr;  ///< pins while a blob is committed
  store::BlobStore* blobs = nullptr;
  const Clock* clock = &SystemClock::Get();
  int64_t max_object_bytes = 0;  ///< the server's limit (0: none)
  size_t max_metadata_bytes = 16384;
  SniffOptions sniff;  ///< how media types are sniffed
};

/// The bytes of one object on their way in: a blob writer, the size limit, and the first bytes
/// kept for sniffing the media type (core::kSniffBytes). Not thread-safe; owns its writer (aborted
/// unless committed).
class IncomingObject {
 public:
  IncomingObject(store::Bucket bucket, int64_t limit) : bucket_(std::move(bucket)), limit_(limit) {}
  /// A writer from the context's blob store, the limit from the bucket and the server's.
  /// PayloadTooLarge, before any writer is made, when the length the client declared is over
  /// the limit.
  static Result<std::unique_ptr<IncomingObject>> Start(
      const IngestContext& ctx, store::Bucket bucket,
      std::optional<int64_t> declared_length = std::nullopt);

  void SetWriter(std::unique_ptr<store::BlobWriter> writer) { writer_ = std::move(writer); }
  /// Appends bytes. PayloadTooLarge past the limit; the writer's error otherwise. After an error
  /// the bytes so far are dropped.
  Status Append(std::string_view bytes);
  void Abort() {
    if (writer_) writer_->Abort();
  }

  const store::Bucket& bucket() const { return bucket_; }
  int64_t limit() const { return limit_; }
  int64_t size() const { return writer_ ? writer_->size() : 0; }
  const std::string& head() const { return head_; }
  store::BlobWriter* writer() { return writer_.get(); }

 private:
  store::Bucket bucket_;
  int64_t limit_;
  std::unique_ptr<store::BlobWriter> writer_;
  std::string head_;
};

struct IngestRequest {
  std::string key;  ///< already checked (CheckObjectKey)
  Json metadata = Json::object();
  /// The client's SHA-256 of the bytes (any case); a mismatch stores nothing (InvalidArgument).
  std::string expected_sha256;
  store::ObjectPrecondition precondition;
  /// When the key already holds exactly these bytes, keep that object as it is (no new row, no
  /// event): what makes a repeated sync of one file idempotent.
  bool keep_if_unchanged = false;
};

struct IngestResult {
  store::PutObjectResult put;
  bool unchanged = false;  ///< keep_if_unchanged applied: put.object is the existing object
};

/// After all bytes arrived: checks the metadata and the media type (sniffed from the bytes;
/// UnsupportedMediaType when the bucket does not accept it), commits the blob, writes the
/// object row and publishes object.created. The blob is pinned from before its commit until the
/// row that names it is written (CommitPinned), so the collector cannot take it in between, and
/// it is durable before that row: a crash in between leaves an unreferenced blob for the
/// collector, never a row without bytes. On any error nothing is stored.
Result<IngestResult> CommitObject(const IngestContext& ctx, IncomingObject& incoming,
                                  IngestRequest request);

}  // namespace argus::domain
