#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "core/result.h"
#include "store/metadata_store.h"
#include "store/sqlite/sqlite_database.h"

// Row-level access to metadata.db's `buckets` and `objects` tables for SqliteMetadataStore: how a
// Bucket and a StoredObject map onto rows, how ListObjects pages through the key range, and the
// checks that the store applies to buckets, objects and uploads before it writes them. Which
// lock or transaction a call runs under is the store's business (sqlite_metadata_store.cc): each
// function runs on the connection it is given, inside whatever transaction the caller holds.
// Messages name `db.path()` as the database file.

namespace argus::store::sqlite {

/// Whether a constraint error names `column` ("table.column"), to tell which UNIQUE failed.
bool MentionsColumn(const Status& status, std::string_view column);

/// `value` as JSON text. InvalidArgument naming `what` when it holds a string that is not valid
/// UTF-8.
Result<std::string> DumpJson(const Json& value, std::string_view what);

// ---- Checks ----------------------------------------------------------------------------------

/// InvalidArgument for a bad bucket name or a negative max_object_bytes.
Status CheckBucket(const Bucket& bucket);
/// InvalidArgument for a bad key, a sha256 that is not 64 lowercase hex digits or a negative size.
Status CheckObject(const StoredObject& object);
/// InvalidArgument for a key CheckObject would refuse or metadata that is not a JSON object.
Status CheckUpload(const Upload& upload);
/// InvalidArgument for a part number outside 1..10000, a non-canonical sha256 or a negative size.
Status CheckUploadPart(const UploadPart& part);
/// ConditionFailed when `current` (the object now under `key`) fails `precondition`.
Status CheckPrecondition(const ObjectPrecondition& precondition,
                         const std::optional<StoredObject>& current, std::string_view key,
                         std::string_view bucket_name);
/// NotFound naming the upload.
Status UploadNotFound(std::string_view id);

// ---- Buckets ---------------------------------------------------------------------------------

/// The bucket's JSON columns: allowed_media_types, then metadata_schema. InvalidArgument when
/// either is not valid UTF-8.
Result<std::pair<std::string, std::string>> DumpBucketJson(const Bucket& bucket);

/// Inserts `bucket` with `json` (from DumpBucketJson) as its JSON columns. AlreadyExists naming
/// the bucket's name or id, whichever is taken.
Status InsertBucketRow(SqliteDatabase& db, const Bucket& bucket,
                       const std::pair<std::string, std::string>& json);

/// The bucket named `name` in the namespace; NotFound naming it. Internal when the row is corrupt.
Result<Bucket> FindBucketRow(SqliteDatabase& db, std::string_view namespace_id,
                             std::string_view name);

/// A page of the namespace's buckets in id order. REQUIRES: CheckPageRequest(page) is ok.
Result<Page<Bucket>> ListBucketRows(SqliteDatabase& db, std::string_view namespace_id,
                                    const PageRequest& page);

/// Writes the bucket's mutable fields (with `json` from DumpBucketJson) to the row with its id.
Status UpdateBucketRow(SqliteDatabase& db, const Bucket& bucket,
                       const std::pair<std::string, std::string>& json);

/// Whether the bucket holds at least one object.
Result<bool> BucketHasObjects(SqliteDatabase& db, std::string_view bucket_id);

/// Deletes the bucket and (by cascade) its objects, uploads and syncs.
Status DeleteBucketRow(SqliteDatabase& db, std::string_view bucket_id);

/// The namespace and name of a bucket found by id.
struct BucketRef {
  std::string namespace_id;
  std::string name;
};

/// The bucket with `bucket_id`, or nullopt. `operation` names the lookup in error messages.
Result<std::optional<BucketRef>> FindBucketRefById(SqliteDatabase& db, std::string_view bucket_id,
                                                   std::string_view operation);

// ---- Objects ---------------------------------------------------------------------------------

/// The object under (bucket_id, key), or nullopt. Internal when the row is corrupt.
Result<std::optional<StoredObject>> FindObjectRow(SqliteDatabase& db, std::string_view bucket_id,
                                                  std::string_view key);

/// Inserts `object` with `metadata` as its metadata column. AlreadyExists naming object.id when
/// that id is taken.
Status InsertObjectRow(SqliteDatabase& db, const StoredObject& object, std::string_view metadata);

/// Whether a key of the bucket other than `key` holds the blob `sha256`.
Result<bool> OtherKeyHasBlob(SqliteDatabase& db, std::string_view bucket_id,
                             std::string_view sha256, std::string_view key);

/// Deletes the object row with `object_id` (PutObject's replaced version).
Status DeleteObjectRowById(SqliteDatabase& db, std::string_view object_id);

/// Sets the metadata column (JSON text) and updated_at of the object row with `object_id`.
Status UpdateObjectMetadataRow(SqliteDatabase& db, std::string_view object_id,
                               std::string_view metadata, TimestampUs now);

/// Deletes the object under (bucket_id, key) and returns it as it was, or nullopt when absent.
/// The statement has completed when this returns, even when the row is corrupt (Internal).
Result<std::optional<StoredObject>> DeleteObjectRow(SqliteDatabase& db, std::string_view bucket_id,
                                                    std::string_view key);

/// Whether an object or an upload part references the blob `sha256`, or it is the derived blob
/// of a source they reference, in one statement (so one snapshot).
Result<bool> BlobReferencedRow(SqliteDatabase& db, std::string_view sha256);

/// PutDerivedBlob's checks (no database).
Status CheckDerivedBlob(const DerivedBlob& blob);
/// PutDerivedBlob as one upsert; `details` is the dump of blob.details.
Status UpsertDerivedBlobRow(SqliteDatabase& db, const DerivedBlob& blob,
                            const std::string& details);
/// GetDerivedBlob: one read by primary key.
Result<DerivedBlob> FindDerivedBlobRow(SqliteDatabase& db, std::string_view source_sha256,
                                       std::string_view variant);
/// DeleteDerivedBlobs as one statement (rows with `source_sha256` as source or as derived blob);
/// returns the rows deleted.
Result<int64_t> DeleteDerivedBlobRows(SqliteDatabase& db, std::string_view source_sha256);

// ---- ListObjects -----------------------------------------------------------------------------

/// What ListObjectRows needs from a request, computed before a connection is taken.
struct ObjectListQuery {
  std::string filters;             ///< the SQL metadata filters, "" when SQL checks none
  std::optional<std::string> end;  ///< past the prefix's key range, nullopt when unbounded
};

/// InvalidArgument for a limit outside 1..1000 or a metadata filter that is not valid UTF-8.
Result<ObjectListQuery> PrepareObjectList(const ListObjectsRequest& request);

/// One ListObjects page of the bucket. Seeks past each common prefix on the (bucket_id, key)
/// index; metadata filters are checked in SQL first (a pre-filter that never drops a match), then
/// exactly in C++. `query` is PrepareObjectList(request).
Result<ListObjectsResult> ListObjectRows(SqliteDatabase& db, std::string_view bucket_id,
                                         const ListObjectsRequest& request,
                                         const ObjectListQuery& query);

}  // namespace argus::store::sqlite
