#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/json.h"
#include "core/result.h"
#include "store/blob_references.h"

namespace argus::store {

/// Roles of a namespace key (a global key is always an admin).
enum class Role { kViewer = 0, kEditor = 1, kAdmin = 2 };
std::string_view RoleName(Role role);
Result<Role> ParseRole(std::string_view name);

/// The isolation unit: every other resource lives in exactly one namespace.
struct Namespace {
  std::string id;    ///< UUIDv7
  std::string name;  ///< unique, [a-z0-9][a-z0-9-_]{0,62}
  Json settings = Json::object();
  TimestampUs created_at = 0;
  TimestampUs updated_at = 0;
};

/// A bearer credential. Only a hash of the secret is stored.
struct ApiKey {
  std::string id;            ///< UUIDv7
  std::string namespace_id;  ///< empty for a global (all-namespaces) admin key
  std::string name;
  Role role = Role::kViewer;
  std::string prefix;  ///< the first characters of the secret, unique: the lookup handle
  std::string hash;    ///< SHA-256 of the whole secret, 32 raw bytes
  TimestampUs created_at = 0;
  TimestampUs updated_at = 0;
  std::optional<TimestampUs> expires_at;
  std::optional<TimestampUs> revoked_at;
};

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

/// A sync: a source (a folder, an S3 prefix) whose files become objects of a bucket, each
/// exactly once. The engine runs it as tasks; the API creates, pauses and reports it.
struct Sync {
  std::string id;  ///< UUIDv7
  std::string namespace_id;
  std::string bucket_id;
  std::string source_type;         ///< "folder", "s3": the ObjectSource backend
  Json source = Json::object();    ///< the source's settings, secrets included (the API redacts)
  std::string key_prefix;          ///< put before each source path to make the object key
  Json metadata = Json::object();  ///< user metadata given to every object the sync creates
  double interval_s = 60;          ///< between the starts of two periodic runs
  bool paused = false;
  std::string cursor;           ///< where the current listing pass stands; "" at its start
  std::string run_task_id;      ///< the task of the latest run; "" before the first
  TimestampUs next_run_at = 0;  ///< the scheduler starts a run once this has passed
  TimestampUs last_run_at = 0;  ///< the end of the latest run (0: never)
  TimestampUs last_success_at = 0;
  std::string last_error;  ///< of the latest run; "" when it succeeded
  TimestampUs created_at = 0;
  TimestampUs updated_at = 0;
};

/// Fields a sync update may change; unset ones stay.
struct SyncUpdate {
  std::optional<bool> paused;
  std::optional<double> interval_s;
  std::optional<std::string> cursor;
  std::optional<std::string> run_task_id;
  std::optional<TimestampUs> next_run_at;
  std::optional<TimestampUs> last_run_at;
  std::optional<TimestampUs> last_success_at;
  std::optional<std::string> last_error;
};

/// What a sync knows about one source file: the version it last handled and the outcome.
struct SyncFile {
  std::string path;     ///< relative to the source root, '/'-separated
  std::string version;  ///< the source's version token (size and mtime, an ETag)
  int64_t size = 0;
  /// "pending": seen, not yet taken (still changing, or queued for a retry); "ingested": an
  /// object holds this version; "failed": it could not be ingested (see error).
  std::string state = "pending";
  std::string error;
  int attempts = 0;        ///< failed attempts so far
  std::string object_key;  ///< the object it became (or would have become)
  TimestampUs updated_at = 0;
};

/// The files of a sync by state.
struct SyncCounts {
  int64_t discovered = 0;  ///< all files ever seen
  int64_t ingested = 0;
  int64_t failed = 0;
  int64_t pending = 0;
};

/// Keyset pagination: items with an id greater than `after_id`, in id (= creation) order.
/// `after_id` need not name an existing item (it is a plain lower bound). A limit outside
/// 1..1000 is InvalidArgument.
struct PageRequest {
  std::string after_id;  ///< empty for the first page
  int limit = 50;        ///< 1..1000
};

template <typename T>
struct Page {
  std::vector<T> items;
  /// Id of the last item when more items follow; empty on the last page.
  std::string next_after_id;
};

/// Durable metadata: namespaces, API keys, buckets and objects (in later issues collections and
/// documents), and what refers to blobs (BlobReferences: the rows below that name a blob are
/// written under a pin, ADR 0007). Implementations are thread-safe: any method may be called from
/// any thread concurrently. Every method returns Unavailable when the backend cannot be reached
/// (retry), Internal on a bug or corrupt data.
class MetadataStore : public BlobReferences {
 public:
  virtual ~MetadataStore() = default;

  /// OK when the backend answers a trivial query.
  virtual Status Ping() = 0;

  /// Small durable key/value pairs owned by the server itself (e.g. "admin_key_created").
  /// GetSystemValue returns nullopt for a key never written.
  virtual Result<std::optional<std::string>> GetSystemValue(std::string_view key) = 0;
  virtual Status PutSystemValue(std::string_view key, std::string_view value) = 0;

  /// Stores `ns` as given (the caller fills id and times). AlreadyExists when the name is taken.
  virtual Result<Namespace> CreateNamespace(const Namespace& ns) = 0;
  /// NotFound when absent.
  virtual Result<Namespace> GetNamespace(std::string_view id) = 0;
  virtual Result<Namespace> GetNamespaceByName(std::string_view name) = 0;
  virtual Result<Page<Namespace>> ListNamespaces(const PageRequest& page) = 0;
  /// Deletes the namespace and everything in it (its keys, buckets and objects). NotFound when
  /// absent.
  virtual Status DeleteNamespace(std::string_view id) = 0;

  /// Stores `key` as given. AlreadyExists when its prefix is taken (the caller makes a new
  /// secret); NotFound when its namespace does not exist.
  virtual Result<ApiKey> CreateApiKey(const ApiKey& key) = 0;
  /// NotFound when absent. Revoked keys are still returned (with revoked_at set).
  virtual Result<ApiKey> GetApiKey(std::string_view id) = 0;
  virtual Result<ApiKey> GetApiKeyByPrefix(std::string_view prefix) = 0;
  /// Keys of one namespace (empty `namespace_id`: the global keys), oldest first. A namespace
  /// that does not exist has no keys (an empty page, not NotFound).
  virtual Result<Page<ApiKey>> ListApiKeys(std::string_view namespace_id, const PageRequest& page,
                                           bool include_revoked) = 0;
  /// Sets revoked_at (idempotent: a second call keeps the first time). NotFound when absent.
  virtual Result<ApiKey> RevokeApiKey(std::string_view id, TimestampUs at) = 0;

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

  // Syncs, addressed by id; NotFound names the sync.
  /// Stores `sync` as given (the caller fills id and times). NotFound when the bucket is gone;
  /// InvalidArgument for an interval_s below 1 or a namespace_id other than the bucket's. A
  /// bucket's syncs (and their file records) are deleted with it.
  // Creating, rescheduling (paused, interval_s or next_run_at given) and deleting a sync append
  // "sync.created" / "sync.updated" / "sync.deleted" to the EventLog in the same transaction
  // (data: id, bucket_id, paused, interval_s, next_run_at; never the source's credentials).
  virtual Result<Sync> CreateSync(const Sync& sync) = 0;
  /// NotFound when absent or in another namespace (empty `namespace_id`: any namespace).
  virtual Result<Sync> GetSync(std::string_view namespace_id, std::string_view id) = 0;
  /// The syncs of one bucket (empty `bucket_id`: of every bucket of every namespace, for the
  /// scheduler), oldest first.
  virtual Result<Page<Sync>> ListSyncs(std::string_view bucket_id, const PageRequest& page) = 0;
  /// Applies the set fields and sets updated_at to `now`; returns the sync. InvalidArgument for
  /// an interval_s below 1; NotFound when absent.
  virtual Result<Sync> UpdateSync(std::string_view id, const SyncUpdate& update,
                                  TimestampUs now) = 0;
  /// Deletes the sync and its file records (objects it made stay). NotFound when absent.
  virtual Status DeleteSync(std::string_view namespace_id, std::string_view id) = 0;
  /// The records of those of `paths` the sync has seen, in any order (unknown paths are left
  /// out). At most 1000 paths (InvalidArgument beyond).
  virtual Result<std::vector<SyncFile>> GetSyncFiles(std::string_view sync_id,
                                                     const std::vector<std::string>& paths) = 0;
  /// Creates or replaces the records in one transaction. NotFound when the sync is gone.
  virtual Status PutSyncFiles(std::string_view sync_id, const std::vector<SyncFile>& files) = 0;
  /// Records in path order after `after_path`, only those in `state` when it is not empty.
  /// next_after_id is the last path when more follow. InvalidArgument for a limit outside
  /// 1..1000.
  virtual Result<Page<SyncFile>> ListSyncFiles(std::string_view sync_id, std::string_view state,
                                               std::string_view after_path, int limit) = 0;
  virtual Result<SyncCounts> CountSyncFiles(std::string_view sync_id) = 0;
  /// Sets failed records back to pending (all of them when `paths` is empty) so that the next
  /// run tries them again; returns how many changed.
  virtual Result<int64_t> RetrySyncFiles(std::string_view sync_id,
                                         const std::vector<std::string>& paths) = 0;
};

}  // namespace argus::store
