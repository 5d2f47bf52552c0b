#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/json.h"
#include "core/result.h"
#include "store/page.h"

namespace argus::store {

/// A container of objects (uploaded files), unique by name within its namespace.
struct Bucket {
  std::string id;  ///< UUIDv7
  std::string namespace_id;
  std::string name;  ///< [a-z0-9][a-z0-9._-]{0,62}
  std::string description;
  int64_t max_object_bytes = 0;  ///< 0: the server's limit
  /// Media types accepted ("image/jpeg", or a family "image/*"); empty: any.
  std::vector<std::string> allowed_media_types;
  Json metadata_schema;  ///< JSON Schema for objects' user metadata; null: any object
  TimestampUs created_at = 0;
  TimestampUs updated_at = 0;
};

/// Fields a bucket update may change; unset ones stay.
struct BucketUpdate {
  std::optional<std::string> description;
  std::optional<int64_t> max_object_bytes;
  std::optional<std::vector<std::string>> allowed_media_types;
  std::optional<Json> metadata_schema;
};

/// One uploaded file: a key in a bucket naming a content-addressed blob, plus user metadata.
struct StoredObject {
  std::string id;  ///< UUIDv7, new for every version written under the key
  std::string namespace_id;
  std::string bucket_id;
  std::string key;  ///< NFC, may contain '/', 1..1024 bytes
  int64_t size = 0;
  std::string sha256;      ///< of the bytes (lowercase hex): the blob, and the ETag
  std::string media_type;  ///< sniffed from the bytes
  Json metadata = Json::object();
  std::string status = "ready";
  TimestampUs created_at = 0;
  TimestampUs updated_at = 0;
};

/// The condition a write puts on the key's current object (HTTP If-None-Match / If-Match).
struct ObjectPrecondition {
  bool must_not_exist = false;    ///< If-None-Match: *
  std::string sha256_must_match;  ///< If-Match: the current object's sha256; empty: no condition
};

struct PutObjectResult {
  StoredObject object;
  std::optional<StoredObject> replaced;  ///< the object previously under the key
  /// An object under another key of the bucket already had these bytes (before this write). The
  /// key's own previous version does not count: rewriting a key with the same bytes is false.
  bool deduplicated = false;
};

struct ListObjectsRequest {
  std::string prefix;
  /// "/" (or any string): keys with it after the prefix are rolled up into common_prefixes.
  std::string delimiter;
  /// Only objects whose top-level metadata fields equal these values.
  std::vector<std::pair<std::string, Json>> metadata_equals;
  std::string after_key;  ///< keyset cursor: keys (or prefixes) greater than this
  int limit = 50;         ///< 1..1000, objects + common prefixes together
};

struct ListObjectsResult {
  std::vector<StoredObject> objects;  ///< in key order
  std::vector<std::string> common_prefixes;
  std::string next_after_key;  ///< empty on the last page
};

/// A resumable upload in progress: numbered parts (each a blob) that Complete joins into one
/// object.
struct Upload {
  std::string id;  ///< UUIDv7
  std::string namespace_id;
  std::string bucket_id;
  std::string key;  ///< the object key it will create (checked by the API)
  Json metadata = Json::object();
  TimestampUs created_at = 0;
  TimestampUs expires_at = 0;  ///< unfinished after this: deleted with its parts
};

struct UploadPart {
  int number = 0;  ///< 1..10000
  std::string sha256;
  int64_t size = 0;
  TimestampUs created_at = 0;
};

/// Buckets, their objects and resumable uploads (a role of MetadataStore). The rows that name a
/// blob are written under a pin (BlobReferences, ADR 0007). Thread-safe: any method may be called
/// from any thread concurrently. Every method returns Unavailable when the backend cannot be
/// reached (retry), Internal on a bug or corrupt data.
class BucketStore {
 public:
  virtual ~BucketStore() = default;

  // Buckets. Lookups are by (namespace, name); NotFound names the bucket (an invalid name is
  // simply not found).
  /// Stores `bucket` as given (the caller fills id and times). InvalidArgument for a name outside
  /// [a-z0-9][a-z0-9._-]{0,62} or a negative max_object_bytes; NotFound when the namespace does
  /// not exist; AlreadyExists when the name is taken in the namespace.
  virtual Result<Bucket> CreateBucket(const Bucket& bucket) = 0;
  virtual Result<Bucket> GetBucket(std::string_view namespace_id, std::string_view name) = 0;
  /// Oldest first. A namespace that does not exist has no buckets (an empty page).
  virtual Result<Page<Bucket>> ListBuckets(std::string_view namespace_id,
                                           const PageRequest& page) = 0;
  /// Applies the set fields and sets updated_at to `now` (even when no field is set); returns
  /// the updated bucket. InvalidArgument for a negative max_object_bytes.
  virtual Result<Bucket> UpdateBucket(std::string_view namespace_id, std::string_view name,
                                      const BucketUpdate& update, TimestampUs now) = 0;
  /// FailedPrecondition when the bucket holds objects and `force` is false; with `force` its
  /// objects go too, in the same transaction (their blobs become unreferenced: the collector
  /// frees them).
  virtual Status DeleteBucket(std::string_view namespace_id, std::string_view name, bool force) = 0;

  // Objects, addressed by (bucket id, key); keys compare and sort bytewise. NotFound names the
  // bucket and the key.
  /// Creates or replaces the object under object.key in one transaction, storing `object` as
  /// given (a replacement keeps nothing of the old row; the caller gives it a new id and times).
  /// An empty namespace_id is filled in from the bucket. ConditionFailed (HTTP 412) when
  /// `precondition` does not hold (If-Match on an absent key fails too); NotFound when the bucket
  /// is gone; InvalidArgument for a key that is empty, longer than 1024 bytes or holds a NUL, a
  /// sha256 that is not 64 lowercase hex digits, a negative size, metadata that is not valid
  /// UTF-8, or a namespace_id other than the bucket's; AlreadyExists when object.id is taken.
  /// Appends "object.created" (data: ObjectJson) to the EventLog in the same transaction. The
  /// caller holds a pin on object.sha256 (BlobReferences) from before its blob was committed.
  virtual Result<PutObjectResult> PutObject(const StoredObject& object,
                                            const ObjectPrecondition& precondition) = 0;
  virtual Result<StoredObject> GetObject(std::string_view bucket_id, std::string_view key) = 0;
  /// One page of the keys greater than `after_key` that start with `prefix`, in key order. With
  /// a delimiter, each key holding it after the prefix is listed once as its common prefix
  /// (prefix + the rest up to and including the first delimiter) instead; a common prefix not
  /// greater than `after_key` was listed before and is skipped with all its keys. With
  /// metadata_equals (top-level fields equal by JSON value: 1 == 1.0, true != 1, an absent field
  /// matches nothing), only matching objects are listed, and a common prefix only when a
  /// matching object lies under it. next_after_key is the last item listed (key or common prefix)
  /// when another item follows. An unknown bucket lists nothing. InvalidArgument for a limit
  /// outside 1..1000 or a filter that is not valid UTF-8.
  virtual Result<ListObjectsResult> ListObjects(std::string_view bucket_id,
                                                const ListObjectsRequest& request) = 0;
  /// Replaces the user metadata (no new bytes) and sets updated_at to `now`; returns the object.
  /// ConditionFailed when `sha256_must_match` is set and differs; NotFound when absent.
  virtual Result<StoredObject> UpdateObjectMetadata(std::string_view bucket_id,
                                                    std::string_view key, const Json& metadata,
                                                    std::string_view sha256_must_match,
                                                    TimestampUs now) = 0;
  /// Deletes and returns the object, appending "object.deleted" (data: ObjectJson) to the
  /// EventLog in the same transaction; NotFound when absent.
  virtual Result<StoredObject> DeleteObject(std::string_view bucket_id, std::string_view key) = 0;
  // Resumable uploads, addressed by (bucket id, upload id); NotFound names the upload.
  /// NotFound when the bucket is gone.
  virtual Result<Upload> CreateUpload(const Upload& upload) = 0;
  virtual Result<Upload> GetUpload(std::string_view bucket_id, std::string_view id) = 0;
  /// Records part `number` (1..10000, else InvalidArgument), replacing an earlier part with the
  /// same number (a retried part). NotFound when the upload is gone. The caller holds a pin on
  /// part.sha256, as for PutObject.
  virtual Status PutUploadPart(std::string_view bucket_id, std::string_view upload_id,
                               const UploadPart& part) = 0;
  /// The parts in number order.
  virtual Result<std::vector<UploadPart>> ListUploadParts(std::string_view bucket_id,
                                                          std::string_view upload_id) = 0;
  /// Deletes the upload and its part rows (their blobs become unreferenced). NotFound when absent.
  virtual Status DeleteUpload(std::string_view bucket_id, std::string_view id) = 0;
  /// Deletes uploads that expired before `now`; returns how many.
  virtual Result<int64_t> DeleteExpiredUploads(TimestampUs now) = 0;
};

}  // namespace argus::store
