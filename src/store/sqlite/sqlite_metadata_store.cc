#include "store/sqlite/sqlite_metadata_store.h"

#include <fmt/format.h>

#include <climits>
#include <filesystem>
#include <utility>

#include "store/event_payloads.h"
#include "store/sqlite/migrations.h"
#include "store/sqlite/sqlite_collection_rows.h"
#include "store/sqlite/sqlite_event_rows.h"
#include "store/sqlite/sqlite_object_rows.h"
#include "store/sqlite/sqlite_payload_values.h"
#include "store/sqlite/sqlite_sync_rows.h"
#include "store/sqlite/sqlite_upload_rows.h"
#include "store/sqlite/store_file.h"

namespace argus::store::sqlite {
namespace {

// Column lists as macros so each statement below is one constexpr literal (the SQL text is the
// statement-cache key), without non-trivially-destructible globals.
#define ARGUS_NAMESPACE_COLUMNS "id, name, settings, created_at, updated_at"
#define ARGUS_API_KEY_COLUMNS \
  "id, namespace_id, name, role, prefix, hash, created_at, updated_at, expires_at, revoked_at"

constexpr std::string_view kSelectNamespaceById =
    "SELECT " ARGUS_NAMESPACE_COLUMNS " FROM namespaces WHERE id = ?";
constexpr std::string_view kSelectNamespaceByName =
    "SELECT " ARGUS_NAMESPACE_COLUMNS " FROM namespaces WHERE name = ?";
constexpr std::string_view kListNamespaces =
    "SELECT " ARGUS_NAMESPACE_COLUMNS " FROM namespaces WHERE id > ? ORDER BY id LIMIT ?";
constexpr std::string_view kSelectApiKeyById =
    "SELECT " ARGUS_API_KEY_COLUMNS " FROM api_keys WHERE id = ?";
constexpr std::string_view kSelectApiKeyByPrefix =
    "SELECT " ARGUS_API_KEY_COLUMNS " FROM api_keys WHERE prefix = ?";
constexpr std::string_view kInsertApiKey =
    "INSERT INTO api_keys(" ARGUS_API_KEY_COLUMNS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
// Two spellings rather than `namespace_id IS ?`, so each plainly uses api_keys_by_namespace.
constexpr std::string_view kListNamespaceKeys =
    "SELECT " ARGUS_API_KEY_COLUMNS
    " FROM api_keys WHERE namespace_id = ? AND id > ? AND (? OR revoked_at IS NULL)"
    " ORDER BY id LIMIT ?";
constexpr std::string_view kListGlobalKeys =
    "SELECT " ARGUS_API_KEY_COLUMNS
    " FROM api_keys WHERE namespace_id IS NULL AND id > ? AND (? OR revoked_at IS NULL)"
    " ORDER BY id LIMIT ?";
// The first revocation wins: a repeated call must not move revoked_at (nor updated_at).
constexpr std::string_view kRevokeApiKey =
    "UPDATE api_keys SET updated_at = CASE WHEN revoked_at IS NULL THEN ?1 ELSE updated_at END,"
    " revoked_at = COALESCE(revoked_at, ?1) WHERE id = ?2 RETURNING " ARGUS_API_KEY_COLUMNS;

#undef ARGUS_NAMESPACE_COLUMNS
#undef ARGUS_API_KEY_COLUMNS

}  // namespace

namespace {

using T = ConfigType;

// The settings of the SQLite backend, declared beside the code that reads them.
constexpr ConfigKey kSqliteKeys[] = {
    {"metadata.sqlite.synchronous", T::kString, "\"normal\"",
     "the one SQLite database of every sqlite store (metadata.db: metadata, events, tasks, "
     "webhooks): normal (survives kill -9) or full (also survives power loss)"},
    {"metadata.sqlite.busy_timeout_ms", T::kInt, "5000",
     "how long a writer of metadata.db waits for a lock another process holds"},
};
const ConfigKeyGroup kSqliteKeyGroup("store/sqlite", kSqliteKeys);

}  // namespace

Result<SqliteOptions> SqliteOptionsFromConfig(const Config& config) {
  SqliteOptions options;
  const std::string& synchronous = config.GetString("metadata.sqlite.synchronous");
  if (synchronous == "full") {
    options.synchronous_full = true;
  } else if (synchronous != "normal") {
    return InvalidArgumentError("metadata.sqlite.synchronous must be 'normal' or 'full', not '" +
                                synchronous + "'");
  }
  int64_t busy = config.GetInt("metadata.sqlite.busy_timeout_ms");
  if (busy < 0 || busy > INT_MAX) {
    return InvalidArgumentError("metadata.sqlite.busy_timeout_ms must be between 0 and " +
                                std::to_string(INT_MAX) + ", not " + std::to_string(busy));
  }
  options.busy_timeout_ms = static_cast<int>(busy);
  return options;
}

namespace {

Result<Namespace> ReadNamespace(const Statement& row, const std::string& path) {
  Namespace ns;
  ns.id = row.ColumnText(0);
  ns.name = row.ColumnText(1);
  ns.settings = Json::parse(row.ColumnText(2), nullptr, /*allow_exceptions=*/false);
  if (ns.settings.is_discarded()) {
    return InternalError("namespace '" + ns.id + "' in " + path + " has corrupt settings JSON");
  }
  ns.created_at = row.ColumnInt64(3);
  ns.updated_at = row.ColumnInt64(4);
  return ns;
}

Result<ApiKey> ReadApiKey(const Statement& row, const std::string& path) {
  ApiKey key;
  key.id = row.ColumnText(0);
  key.namespace_id = row.ColumnText(1);  // NULL (a global key) reads as ""
  key.name = row.ColumnText(2);
  auto role = ParseRole(row.ColumnText(3));
  if (!role.ok()) {
    return InternalError("API key '" + key.id + "' in " + path +
                         " has a corrupt role: " + std::string(role.status().message()));
  }
  key.role = *role;
  key.prefix = row.ColumnText(4);
  key.hash = row.ColumnBlob(5);
  key.created_at = row.ColumnInt64(6);
  key.updated_at = row.ColumnInt64(7);
  key.expires_at = row.ColumnOptionalInt64(8);
  key.revoked_at = row.ColumnOptionalInt64(9);
  return key;
}

Result<std::string> DumpSettings(const Namespace& ns) {
  try {
    return ns.settings.dump();
  } catch (const Json::exception& e) {
    // nlohmann throws on strings that are not valid UTF-8.
    return InvalidArgumentError("settings of namespace '" + ns.name +
                                "' are not valid: " + e.what());
  }
}

Result<bool> NamespaceExists(SqliteDatabase& db, std::string_view id, std::string_view operation) {
  ARGUS_ASSIGN_OR_RETURN(auto stmt, db.Prepare("SELECT 1 FROM namespaces WHERE id = ?", operation));
  stmt->BindText(1, id);
  return stmt->Step();
}

}  // namespace

SqliteMetadataStore::SqliteMetadataStore(std::shared_ptr<SqliteStoreFile> file)
    : file_(std::move(file)), path_(file_->path()), readers_(file_->readers()) {}

Result<std::unique_ptr<MetadataStore>> SqliteMetadataStore::Create(const StoreArgs& args) {
  ARGUS_ASSIGN_OR_RETURN(auto file, SqliteStoreFile::Open(args));
  ARGUS_RETURN_IF_ERROR(file->writer().Run(CatchUpPayloadValues));
  return std::unique_ptr<MetadataStore>(new SqliteMetadataStore(std::move(file)));
}

Status SqliteMetadataStore::Ping() {
  ARGUS_ASSIGN_OR_RETURN(auto db, readers_.Acquire());
  return db->QueryText("SELECT 1", "ping").status();
}

Result<std::optional<std::string>> SqliteMetadataStore::GetSystemValue(std::string_view key) {
  ARGUS_ASSIGN_OR_RETURN(auto db, readers_.Acquire());
  ARGUS_ASSIGN_OR_RETURN(
      auto stmt, db->Prepare("SELECT value FROM system_values WHERE key = ?", "get system value"));
  stmt->BindText(1, key);
  ARGUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
  if (!row) return std::optional<std::string>();
  return std::optional<std::string>(stmt->ColumnText(0));
}

Status SqliteMetadataStore::PutSystemValue(std::string_view key, std::string_view value) {
  return file_->writer().Run([&](SqliteDatabase& w) -> Status {
    ARGUS_ASSIGN_OR_RETURN(auto stmt, w.Prepare("INSERT INTO system_values(key, value) "
                                                "VALUES (?, ?) ON CONFLICT(key) DO UPDATE "
                                                "SET value = excluded.value",
                                                "put system value"));
    stmt->BindText(1, key);
    stmt->BindText(2, value);
    return stmt->Run();
  });
}

Result<Namespace> SqliteMetadataStore::CreateNamespace(const Namespace& ns) {
  ARGUS_ASSIGN_OR_RETURN(std::string settings, DumpSettings(ns));
  return RunWrite(file_->writer(), [&](SqliteDatabase& w) -> Result<Namespace> {
    ARGUS_ASSIGN_OR_RETURN(auto stmt, w.Prepare("INSERT INTO namespaces(id, name, settings, "
                                                "created_at, updated_at) VALUES "
                                                "(?, ?, ?, ?, ?)",
                                                "create namespace"));
    stmt->BindText(1, ns.id);
    stmt->BindText(2, ns.name);
    stmt->BindText(3, settings);
    stmt->BindInt64(4, ns.created_at);
    stmt->BindInt64(5, ns.updated_at);
    Status status = stmt->Run();
    if (status.code() == StatusCode::kAlreadyExists) {
      if (MentionsColumn(status, "namespaces.name")) {
        return AlreadyExistsError("namespace '" + ns.name + "' already exists");
      }
      return AlreadyExistsError("a namespace with id '" + ns.id + "' already exists");
    }
    ARGUS_RETURN_IF_ERROR(status);
    return ns;
  });
}

Result<Namespace> SqliteMetadataStore::FindNamespace(std::string_view sql, std::string_view value,
                                                     std::string_view what) {
  ARGUS_ASSIGN_OR_RETURN(auto db, readers_.Acquire());
  ARGUS_ASSIGN_OR_RETURN(auto stmt, db->Prepare(sql, "get namespace"));
  stmt->BindText(1, value);
  ARGUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
  if (!row) {
    return NotFoundError("namespace " + std::string(what) + " '" + std::string(value) +
                         "' does not exist");
  }
  return ReadNamespace(*stmt, path_);
}

Result<Namespace> SqliteMetadataStore::GetNamespace(std::string_view id) {
  return FindNamespace(kSelectNamespaceById, id, "with id");
}

Result<Namespace> SqliteMetadataStore::GetNamespaceByName(std::string_view name) {
  return FindNamespace(kSelectNamespaceByName, name, "named");
}

Result<Page<Namespace>> SqliteMetadataStore::ListNamespaces(const PageRequest& page) {
  ARGUS_RETURN_IF_ERROR(CheckPageRequest(page));
  ARGUS_ASSIGN_OR_RETURN(auto db, readers_.Acquire());
  ARGUS_ASSIGN_OR_RETURN(auto stmt, db->Prepare(kListNamespaces, "list namespaces"));
  stmt->BindText(1, page.after_id);
  stmt->BindInt64(2, page.limit + 1);
  return ReadPage<Namespace>(*stmt, page.limit,
                             [this](const Statement& row) { return ReadNamespace(row, path_); });
}

Status SqliteMetadataStore::DeleteNamespace(std::string_view id) {
  return file_->writer().Run([&](SqliteDatabase& w) -> Status {
    // Its api_keys and buckets rows go with it through ON DELETE CASCADE (foreign_keys is on for
    // every connection), and the buckets' objects, uploads (with their parts) and syncs (with their
    // file records) with them, in the same implicit transaction.
    ARGUS_ASSIGN_OR_RETURN(auto stmt,
                           w.Prepare("DELETE FROM namespaces WHERE id = ?", "delete namespace"));
    stmt->BindText(1, id);
    ARGUS_RETURN_IF_ERROR(stmt->Run());
    if (stmt->Changes() == 0) {
      return NotFoundError("namespace with id '" + std::string(id) + "' does not exist");
    }
    return OkStatus();
  });
}

Result<ApiKey> SqliteMetadataStore::CreateApiKey(const ApiKey& key) {
  return RunWrite(file_->writer(), [&](SqliteDatabase& w) -> Result<ApiKey> {
    // The namespace check and the insert share one transaction, so a concurrent DeleteNamespace
    // cannot slip between them.
    ARGUS_ASSIGN_OR_RETURN(auto txn, Transaction::BeginImmediate(w, "create API key"));
    if (!key.namespace_id.empty()) {
      ARGUS_ASSIGN_OR_RETURN(
          bool exists, NamespaceExists(w, key.namespace_id, "create API key (find namespace)"));
      if (!exists) {
        return NotFoundError("namespace with id '" + key.namespace_id + "' does not exist");
      }
    }
    ARGUS_ASSIGN_OR_RETURN(ApiKey created, InsertApiKey(w, key));
    ARGUS_RETURN_IF_ERROR(txn.Commit());
    return created;
  });
}

Result<ApiKey> SqliteMetadataStore::InsertApiKey(SqliteDatabase& db, const ApiKey& key) {
  ARGUS_ASSIGN_OR_RETURN(auto stmt, db.Prepare(kInsertApiKey, "create API key"));
  stmt->BindText(1, key.id);
  stmt->BindTextOrNull(2, key.namespace_id);
  stmt->BindText(3, key.name);
  stmt->BindText(4, RoleName(key.role));
  stmt->BindText(5, key.prefix);
  stmt->BindBlob(6, key.hash);
  stmt->BindInt64(7, key.created_at);
  stmt->BindInt64(8, key.updated_at);
  stmt->BindOptionalInt64(9, key.expires_at);
  stmt->BindOptionalInt64(10, key.revoked_at);
  Status status = stmt->Run();
  if (status.code() == StatusCode::kAlreadyExists) {
    // The prefix is part of the secret: the message must not repeat it.
    if (MentionsColumn(status, "api_keys.prefix")) {
      return AlreadyExistsError("another API key already has this key's prefix");
    }
    return AlreadyExistsError("an API key with id '" + key.id + "' already exists");
  }
  ARGUS_RETURN_IF_ERROR(status);
  return key;
}

Result<ApiKey> SqliteMetadataStore::FindApiKey(std::string_view sql, std::string_view value,
                                               std::string_view what) {
  ARGUS_ASSIGN_OR_RETURN(auto db, readers_.Acquire());
  ARGUS_ASSIGN_OR_RETURN(auto stmt, db->Prepare(sql, "get API key"));
  stmt->BindText(1, value);
  ARGUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
  if (!row) return NotFoundError(std::string(what) + " does not exist");
  return ReadApiKey(*stmt, path_);
}

Result<ApiKey> SqliteMetadataStore::GetApiKey(std::string_view id) {
  return FindApiKey(kSelectApiKeyById, id, "API key with id '" + std::string(id) + "'");
}

Result<ApiKey> SqliteMetadataStore::GetApiKeyByPrefix(std::string_view prefix) {
  return FindApiKey(kSelectApiKeyByPrefix, prefix, "an API key with the given prefix");
}

Result<Page<ApiKey>> SqliteMetadataStore::ListApiKeys(std::string_view namespace_id,
                                                      const PageRequest& page,
                                                      bool include_revoked) {
  ARGUS_RETURN_IF_ERROR(CheckPageRequest(page));
  ARGUS_ASSIGN_OR_RETURN(auto db, readers_.Acquire());
  const bool global = namespace_id.empty();
  ARGUS_ASSIGN_OR_RETURN(
      auto stmt, db->Prepare(global ? kListGlobalKeys : kListNamespaceKeys, "list API keys"));
  int index = 1;
  if (!global) stmt->BindText(index++, namespace_id);
  stmt->BindText(index++, page.after_id);
  stmt->BindInt64(index++, include_revoked ? 1 : 0);
  stmt->BindInt64(index++, page.limit + 1);
  return ReadPage<ApiKey>(*stmt, page.limit,
                          [this](const Statement& row) { return ReadApiKey(row, path_); });
}

Result<ApiKey> SqliteMetadataStore::RevokeApiKey(std::string_view id, TimestampUs at) {
  return RunWrite(file_->writer(), [&](SqliteDatabase& w) -> Result<ApiKey> {
    ARGUS_ASSIGN_OR_RETURN(auto stmt, w.Prepare(kRevokeApiKey, "revoke API key"));
    stmt->BindInt64(1, at);
    stmt->BindText(2, id);
    ARGUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) return NotFoundError("API key with id '" + std::string(id) + "' does not exist");
    ARGUS_ASSIGN_OR_RETURN(ApiKey key, ReadApiKey(*stmt, path_));
    // Step to the end so the statement completes before the lock is released.
    ARGUS_RETURN_IF_ERROR(stmt->Run());
    return key;
  });
}

Result<Bucket> SqliteMetadataStore::CreateBucket(const Bucket& bucket) {
  ARGUS_RETURN_IF_ERROR(CheckBucket(bucket));
  ARGUS_ASSIGN_OR_RETURN(auto json, DumpBucketJson(bucket));
  return RunWrite(file_->writer(), [&](SqliteDatabase& w) -> Result<Bucket> {
    // As for API keys: the namespace check and the insert share one transaction.
    ARGUS_ASSIGN_OR_RETURN(auto txn, Transaction::BeginImmediate(w, "create bucket"));
    ARGUS_ASSIGN_OR_RETURN(
        bool exists, NamespaceExists(w, bucket.namespace_id, "create bucket (find namespace)"));
    if (!exists) {
      return NotFoundError(
          fmt::format("namespace with id '{}' does not exist", bucket.namespace_id));
    }
    ARGUS_RETURN_IF_ERROR(InsertBucketRow(w, bucket, json));
    ARGUS_RETURN_IF_ERROR(txn.Commit());
    return bucket;
  });
}

Result<Bucket> SqliteMetadataStore::FindBucket(SqliteDatabase& db, std::string_view namespace_id,
                                               std::string_view name) {
  return FindBucketRow(db, namespace_id, name);
}

Result<Bucket> SqliteMetadataStore::GetBucket(std::string_view namespace_id,
                                              std::string_view name) {
  ARGUS_ASSIGN_OR_RETURN(auto db, readers_.Acquire());
  return FindBucket(*db, namespace_id, name);
}

Result<Page<Bucket>> SqliteMetadataStore::ListBuckets(std::string_view namespace_id,
                                                      const PageRequest& page) {
  ARGUS_RETURN_IF_ERROR(CheckPageRequest(page));
  ARGUS_ASSIGN_OR_RETURN(auto db, readers_.Acquire());
  return ListBucketRows(*db, namespace_id, page);
}

Result<Bucket> SqliteMetadataStore::UpdateBucket(std::string_view namespace_id,
                                                 std::string_view name, const BucketUpdate& update,
                                                 TimestampUs now) {
  return RunWrite(file_->writer(), [&](SqliteDatabase& w) -> Result<Bucket> {
    ARGUS_ASSIGN_OR_RETURN(auto txn, Transaction::BeginImmediate(w, "update bucket"));
    ARGUS_ASSIGN_OR_RETURN(Bucket bucket, FindBucket(w, namespace_id, name));
    if (update.description) bucket.description = *update.description;
    if (update.max_object_bytes) bucket.max_object_bytes = *update.max_object_bytes;
    if (update.allowed_media_types) bucket.allowed_media_types = *update.allowed_media_types;
    if (update.metadata_schema) bucket.metadata_schema = *update.metadata_schema;
    bucket.updated_at = now;
    ARGUS_RETURN_IF_ERROR(CheckBucket(bucket));
    ARGUS_ASSIGN_OR_RETURN(auto json, DumpBucketJson(bucket));
    ARGUS_RETURN_IF_ERROR(UpdateBucketRow(w, bucket, json));
    ARGUS_RETURN_IF_ERROR(txn.Commit());
    return bucket;
  });
}

Status SqliteMetadataStore::DeleteBucket(std::string_view namespace_id, std::string_view name,
                                         bool force) {
  return file_->writer().Run([&](SqliteDatabase& w) -> Status {
    ARGUS_ASSIGN_OR_RETURN(auto txn, Transaction::BeginImmediate(w, "delete bucket"));
    ARGUS_ASSIGN_OR_RETURN(Bucket bucket, FindBucket(w, namespace_id, name));
    ARGUS_ASSIGN_OR_RETURN(auto collections, CollectionNamesOfSource(w, bucket.id, false));
    if (!collections.empty()) {
      return FailedPreconditionError(
          fmt::format("bucket '{}' is the source of collection(s) {}: delete them first", name,
                      QuotedList(collections)));
    }
    if (!force) {
      ARGUS_ASSIGN_OR_RETURN(bool has_objects, BucketHasObjects(w, bucket.id));
      if (has_objects) {
        return FailedPreconditionError(fmt::format(
            "bucket '{}' is not empty: delete its objects first, or force the deletion", name));
      }
    }
    // Its objects, uploads (with their parts) and syncs (with their file records) go with it
    // through ON DELETE CASCADE, inside this transaction. Uploads in progress and syncs do not make
    // a bucket non-empty.
    ARGUS_RETURN_IF_ERROR(DeleteBucketRow(w, bucket.id));
    return txn.Commit();
  });
}

Result<std::optional<StoredObject>> SqliteMetadataStore::FindObject(SqliteDatabase& db,
                                                                    std::string_view bucket_id,
                                                                    std::string_view key) {
  return FindObjectRow(db, bucket_id, key);
}

Status SqliteMetadataStore::ObjectNotFound(SqliteDatabase& db, std::string_view bucket_id,
                                           std::string_view key) {
  // Only on the miss path: one more lookup buys a message that names the bucket.
  ARGUS_ASSIGN_OR_RETURN(std::optional<BucketRef> bucket,
                         FindBucketRefById(db, bucket_id, "get object (find bucket)"));
  if (!bucket) return NotFoundError(fmt::format("bucket with id '{}' does not exist", bucket_id));
  return NotFoundError(fmt::format("object '{}' does not exist in bucket '{}'", key, bucket->name));
}

Result<PutObjectResult> SqliteMetadataStore::PutObject(const StoredObject& object,
                                                       const ObjectPrecondition& precondition) {
  ARGUS_RETURN_IF_ERROR(CheckObject(object));
  ARGUS_ASSIGN_OR_RETURN(
      std::string metadata,
      DumpJson(object.metadata, fmt::format("metadata of object '{}'", object.key)));
  PutObjectResult result{.object = object};
  return RunWrite(file_->writer(), [&](SqliteDatabase& w) -> Result<PutObjectResult> {
    ARGUS_ASSIGN_OR_RETURN(auto txn, Transaction::BeginImmediate(w, "put object"));
    ARGUS_ASSIGN_OR_RETURN(std::optional<BucketRef> bucket,
                           FindBucketRefById(w, object.bucket_id, "put object (find bucket)"));
    if (!bucket) {
      return NotFoundError(fmt::format("bucket with id '{}' does not exist", object.bucket_id));
    }
    if (object.namespace_id.empty()) {
      result.object.namespace_id = bucket->namespace_id;
    } else if (object.namespace_id != bucket->namespace_id) {
      return InvalidArgumentError(
          fmt::format("object '{}' names namespace '{}' but bucket '{}' is in namespace '{}'",
                      object.key, object.namespace_id, bucket->name, bucket->namespace_id));
    }
    ARGUS_ASSIGN_OR_RETURN(result.replaced, FindObject(w, object.bucket_id, object.key));
    ARGUS_RETURN_IF_ERROR(
        CheckPrecondition(precondition, result.replaced, object.key, bucket->name));
    // Only other keys count: rewriting a key with its own bytes stores nothing new for the bucket
    // but is not a second copy of them either.
    ARGUS_ASSIGN_OR_RETURN(result.deduplicated,
                           OtherKeyHasBlob(w, object.bucket_id, object.sha256, object.key));
    if (result.replaced) {
      ARGUS_RETURN_IF_ERROR(DeleteObjectRowById(w, result.replaced->id));
    }
    ARGUS_RETURN_IF_ERROR(InsertObject(w, result.object, metadata));
    ARGUS_RETURN_IF_ERROR(
        AppendEvent(w, "object.created", result.object.namespace_id, result.object.id, "",
                    ObjectJsonText(result.object, bucket->name), file_->clock().NowUs())
            .status());
    ARGUS_RETURN_IF_ERROR(txn.Commit());
    return result;
  });
}

Status SqliteMetadataStore::InsertObject(SqliteDatabase& db, const StoredObject& object,
                                         std::string_view metadata) {
  return InsertObjectRow(db, object, metadata);
}

Result<StoredObject> SqliteMetadataStore::GetObject(std::string_view bucket_id,
                                                    std::string_view key) {
  ARGUS_ASSIGN_OR_RETURN(auto db, readers_.Acquire());
  ARGUS_ASSIGN_OR_RETURN(std::optional<StoredObject> object, FindObject(*db, bucket_id, key));
  if (!object) return ObjectNotFound(*db, bucket_id, key);
  return std::move(*object);
}

Result<ListObjectsResult> SqliteMetadataStore::ListObjects(std::string_view bucket_id,
                                                           const ListObjectsRequest& request) {
  ARGUS_ASSIGN_OR_RETURN(ObjectListQuery query, PrepareObjectList(request));
  ARGUS_ASSIGN_OR_RETURN(auto db, readers_.Acquire());
  return ListObjectRows(*db, bucket_id, request, query);
}

Result<StoredObject> SqliteMetadataStore::UpdateObjectMetadata(std::string_view bucket_id,
                                                               std::string_view key,
                                                               const Json& metadata,
                                                               std::string_view sha256_must_match,
                                                               TimestampUs now) {
  ARGUS_ASSIGN_OR_RETURN(std::string text,
                         DumpJson(metadata, fmt::format("metadata of object '{}'", key)));
  return RunWrite(file_->writer(), [&](SqliteDatabase& w) -> Result<StoredObject> {
    ARGUS_ASSIGN_OR_RETURN(auto txn, Transaction::BeginImmediate(w, "update object metadata"));
    ARGUS_ASSIGN_OR_RETURN(std::optional<StoredObject> object, FindObject(w, bucket_id, key));
    if (!object) return ObjectNotFound(w, bucket_id, key);
    if (!sha256_must_match.empty() && object->sha256 != sha256_must_match) {
      return ConditionFailedError(
          fmt::format("object '{}' has sha256 {}, not {}", key, object->sha256, sha256_must_match));
    }
    ARGUS_RETURN_IF_ERROR(UpdateObjectMetadataRow(w, object->id, text, now));
    ARGUS_RETURN_IF_ERROR(txn.Commit());
    object->metadata = metadata;
    object->updated_at = now;
    return std::move(*object);
  });
}

Result<StoredObject> SqliteMetadataStore::DeleteObject(std::string_view bucket_id,
                                                       std::string_view key) {
  return RunWrite(file_->writer(), [&](SqliteDatabase& w) -> Result<StoredObject> {
    ARGUS_ASSIGN_OR_RETURN(std::optional<BucketRef> bucket,
                           FindBucketRefById(w, bucket_id, "delete object (find bucket)"));
    ARGUS_ASSIGN_OR_RETURN(std::optional<StoredObject> object, DeleteObjectRow(w, bucket_id, key));
    if (!object || !bucket) return ObjectNotFound(w, bucket_id, key);
    ARGUS_RETURN_IF_ERROR(AppendEvent(w, "object.deleted", object->namespace_id, object->id, "",
                                      ObjectJsonText(*object, bucket->name), file_->clock().NowUs())
                              .status());
    return std::move(*object);
  });
}

Result<bool> SqliteMetadataStore::BlobReferenced(std::string_view sha256) {
  ARGUS_ASSIGN_OR_RETURN(auto db, readers_.Acquire());
  return BlobReferencedRow(*db, sha256);
}

namespace {

class SqliteBlobPin final : public BlobPin {
 public:
  SqliteBlobPin(std::shared_ptr<BlobPinTable> table, std::string sha256)
      : table_(std::move(table)), sha256_(std::move(sha256)) {}
  ~SqliteBlobPin() override { table_->Unpin(sha256_); }

 private:
  std::shared_ptr<BlobPinTable> table_;
  std::string sha256_;
};

// Ends a claim on every way out of DeleteBlobIfUnreferenced: pins of the blob wait for it.
class ClaimRelease {
 public:
  ClaimRelease(BlobPinTable& table, const std::string& sha256) : table_(table), sha256_(sha256) {}
  ~ClaimRelease() { table_.Release(sha256_); }
  ClaimRelease(const ClaimRelease&) = delete;
  ClaimRelease& operator=(const ClaimRelease&) = delete;

 private:
  BlobPinTable& table_;
  const std::string& sha256_;
};

}  // namespace

Result<std::unique_ptr<BlobPin>> SqliteMetadataStore::PinBlob(std::string_view sha256) {
  if (!IsBlobSha256(sha256)) return BadBlobSha256(sha256);
  std::string sha(sha256);
  ARGUS_RETURN_IF_ERROR(file_->blob_pins()->Pin(sha));
  return std::unique_ptr<BlobPin>(new SqliteBlobPin(file_->blob_pins(), std::move(sha)));
}

Result<bool> SqliteMetadataStore::DeleteBlobIfUnreferenced(std::string_view sha256,
                                                           const std::function<Status()>& remove) {
  if (!IsBlobSha256(sha256)) return BadBlobSha256(sha256);
  const std::string sha(sha256);
  BlobPinTable& pins = *file_->blob_pins();
  if (!pins.TryClaim(sha)) return false;
  ClaimRelease release(pins, sha);
  {
    // This read starts after the claim, so it sees every reference whose writer unpinned before
    // the claim (the row commits before the unpin); writers still pinned made the claim fail.
    ARGUS_ASSIGN_OR_RETURN(auto db, readers_.Acquire());
    ARGUS_ASSIGN_OR_RETURN(bool referenced, BlobReferencedRow(*db, sha));
    if (referenced) return false;
  }
  ARGUS_ASSIGN_OR_RETURN(
      bool unreferenced, RunWrite(file_->writer(), [&](SqliteDatabase& w) -> Result<bool> {
        // Checked again with the delete: an object written since the read may hold the source
        // of this (derived) blob without pinning it. The records go in the same transaction as
        // the check, so no record is left naming bytes that are about to go.
        ARGUS_ASSIGN_OR_RETURN(auto txn, Transaction::BeginImmediate(w, "delete blob records"));
        ARGUS_ASSIGN_OR_RETURN(bool referenced, BlobReferencedRow(w, sha));
        if (referenced) return false;
        ARGUS_RETURN_IF_ERROR(DeleteDerivedBlobRows(w, sha).status());
        ARGUS_RETURN_IF_ERROR(txn.Commit());
        return true;
      }));
  if (!unreferenced) return false;
  ARGUS_RETURN_IF_ERROR(remove());
  return true;
}

Status SqliteMetadataStore::PutDerivedBlob(const DerivedBlob& blob) {
  ARGUS_RETURN_IF_ERROR(CheckDerivedBlob(blob));
  ARGUS_ASSIGN_OR_RETURN(std::string details, DumpJson(blob.details, "derived blob details"));
  return file_->writer().Run(
      [&](SqliteDatabase& w) -> Status { return UpsertDerivedBlobRow(w, blob, details); });
}

Result<DerivedBlob> SqliteMetadataStore::GetDerivedBlob(std::string_view source_sha256,
                                                        std::string_view variant) {
  ARGUS_ASSIGN_OR_RETURN(auto db, readers_.Acquire());
  return FindDerivedBlobRow(*db, source_sha256, variant);
}

Result<int64_t> SqliteMetadataStore::DeleteDerivedBlobs(std::string_view source_sha256) {
  return RunWrite(file_->writer(), [&](SqliteDatabase& w) -> Result<int64_t> {
    return DeleteDerivedBlobRows(w, source_sha256);
  });
}

Result<Upload> SqliteMetadataStore::CreateUpload(const Upload& upload) {
  ARGUS_RETURN_IF_ERROR(CheckUpload(upload));
  ARGUS_ASSIGN_OR_RETURN(
      std::string metadata,
      DumpJson(upload.metadata, fmt::format("metadata of upload '{}'", upload.id)));
  Upload created = upload;
  return RunWrite(file_->writer(), [&](SqliteDatabase& w) -> Result<Upload> {
    // The bucket check and the insert share one transaction, so a concurrent DeleteBucket cannot
    // slip between them.
    ARGUS_ASSIGN_OR_RETURN(auto txn, Transaction::BeginImmediate(w, "create upload"));
    ARGUS_ASSIGN_OR_RETURN(std::optional<BucketRef> bucket,
                           FindBucketRefById(w, upload.bucket_id, "create upload (find bucket)"));
    if (!bucket) {
      return NotFoundError(fmt::format("bucket with id '{}' does not exist", upload.bucket_id));
    }
    if (upload.namespace_id.empty()) {
      created.namespace_id = bucket->namespace_id;
    } else if (upload.namespace_id != bucket->namespace_id) {
      return InvalidArgumentError(
          fmt::format("upload '{}' names namespace '{}' but bucket '{}' is in namespace '{}'",
                      upload.id, upload.namespace_id, bucket->name, bucket->namespace_id));
    }
    ARGUS_RETURN_IF_ERROR(InsertUploadRow(w, created, metadata));
    ARGUS_RETURN_IF_ERROR(txn.Commit());
    return created;
  });
}
Result<Upload> SqliteMetadataStore::GetUpload(std::string_view bucket_id, std::string_view id) {
  ARGUS_ASSIGN_OR_RETURN(auto db, readers_.Acquire());
  ARGUS_ASSIGN_OR_RETURN(std::optional<Upload> upload, FindUploadRow(*db, bucket_id, id));
  if (!upload) return UploadNotFound(id);
  return std::move(*upload);
}

Status SqliteMetadataStore::PutUploadPart(std::string_view bucket_id, std::string_view upload_id,
                                          const UploadPart& part) {
  ARGUS_RETURN_IF_ERROR(CheckUploadPart(part));
  return file_->writer().Run([&](SqliteDatabase& w) -> Status {
    // One statement: the upload's check and the upsert are atomic without a transaction.
    ARGUS_ASSIGN_OR_RETURN(bool written, UpsertUploadPartRow(w, bucket_id, upload_id, part));
    if (!written) return UploadNotFound(upload_id);
    return OkStatus();
  });
}

Result<std::vector<UploadPart>> SqliteMetadataStore::ListUploadParts(std::string_view bucket_id,
                                                                     std::string_view upload_id) {
  ARGUS_ASSIGN_OR_RETURN(auto db, readers_.Acquire());
  ARGUS_ASSIGN_OR_RETURN(std::optional<std::vector<UploadPart>> parts,
                         ListUploadPartRows(*db, bucket_id, upload_id));
  if (!parts) return UploadNotFound(upload_id);
  return std::move(*parts);
}

Status SqliteMetadataStore::DeleteUpload(std::string_view bucket_id, std::string_view id) {
  return file_->writer().Run([&](SqliteDatabase& w) -> Status {
    // Its parts go with it through ON DELETE CASCADE, in the same implicit transaction.
    ARGUS_ASSIGN_OR_RETURN(bool deleted, DeleteUploadRow(w, bucket_id, id));
    if (!deleted) return UploadNotFound(id);
    return OkStatus();
  });
}

Result<int64_t> SqliteMetadataStore::DeleteExpiredUploads(TimestampUs now) {
  int64_t total = 0;
  for (;;) {
    // One write per batch, so other writers get in between batches.
    ARGUS_ASSIGN_OR_RETURN(int64_t deleted, RunWrite(file_->writer(), [&](SqliteDatabase& w) {
                             return DeleteExpiredUploadRows(w, now, kExpiredUploadBatch);
                           }));
    total += deleted;
    if (deleted < kExpiredUploadBatch) return total;
  }
}

namespace {

// What a sync.* event carries: the schedule, never the source's credentials.
std::string SyncEventJson(const Sync& sync) {
  return Json{{"id", sync.id},
              {"bucket_id", sync.bucket_id},
              {"paused", sync.paused},
              {"interval_s", sync.interval_s},
              {"next_run_at", FormatRfc3339(sync.next_run_at)}}
      .dump(-1, ' ', false, Json::error_handler_t::replace);
}

Status AppendSyncEvent(SqliteDatabase& w, std::string_view type, const Sync& sync, TimestampUs at) {
  return AppendEvent(w, type, sync.namespace_id, sync.id, "", SyncEventJson(sync), at).status();
}

}  // namespace

Result<Sync> SqliteMetadataStore::CreateSync(const Sync& sync) {
  ARGUS_ASSIGN_OR_RETURN(SyncJson json, PrepareSync(sync));
  return RunWrite(file_->writer(), [&](SqliteDatabase& w) -> Result<Sync> {
    ARGUS_ASSIGN_OR_RETURN(Sync created, InsertSyncRow(w, sync, json));
    ARGUS_RETURN_IF_ERROR(AppendSyncEvent(w, "sync.created", created, file_->clock().NowUs()));
    return created;
  });
}

Result<Sync> SqliteMetadataStore::GetSync(std::string_view namespace_id, std::string_view id) {
  ARGUS_ASSIGN_OR_RETURN(auto db, readers_.Acquire());
  return FindSyncRow(*db, namespace_id, id);
}

Result<Page<Sync>> SqliteMetadataStore::ListSyncs(std::string_view bucket_id,
                                                  const PageRequest& page) {
  ARGUS_RETURN_IF_ERROR(CheckPageRequest(page));
  ARGUS_ASSIGN_OR_RETURN(auto db, readers_.Acquire());
  return ListSyncRows(*db, bucket_id, page);
}

Result<Sync> SqliteMetadataStore::UpdateSync(std::string_view id, const SyncUpdate& update,
                                             TimestampUs now) {
  ARGUS_RETURN_IF_ERROR(CheckSyncUpdate(update));
  // The schedule's changes are events (they wake the scheduler); a run's bookkeeping is not.
  const bool schedule = update.paused || update.interval_s || update.next_run_at;
  return RunWrite(file_->writer(), [&](SqliteDatabase& w) -> Result<Sync> {
    ARGUS_ASSIGN_OR_RETURN(Sync updated, UpdateSyncRow(w, id, update, now));
    if (schedule) ARGUS_RETURN_IF_ERROR(AppendSyncEvent(w, "sync.updated", updated, now));
    return updated;
  });
}

Status SqliteMetadataStore::DeleteSync(std::string_view namespace_id, std::string_view id) {
  return file_->writer().Run([&](SqliteDatabase& w) -> Status {
    ARGUS_ASSIGN_OR_RETURN(Sync sync, FindSyncRow(w, namespace_id, id));
    ARGUS_RETURN_IF_ERROR(DeleteSyncRow(w, namespace_id, id));
    return AppendSyncEvent(w, "sync.deleted", sync, file_->clock().NowUs());
  });
}

Result<std::vector<SyncFile>> SqliteMetadataStore::GetSyncFiles(
    std::string_view sync_id, const std::vector<std::string>& paths) {
  ARGUS_ASSIGN_OR_RETURN(auto db, readers_.Acquire());
  return FindSyncFileRows(*db, sync_id, paths);
}

Status SqliteMetadataStore::PutSyncFiles(std::string_view sync_id,
                                         const std::vector<SyncFile>& files) {
  ARGUS_RETURN_IF_ERROR(CheckSyncFiles(files));
  return file_->writer().Run(
      [&](SqliteDatabase& w) -> Status { return PutSyncFileRows(w, sync_id, files); });
}

Result<Page<SyncFile>> SqliteMetadataStore::ListSyncFiles(std::string_view sync_id,
                                                          std::string_view state,
                                                          std::string_view after_path, int limit) {
  ARGUS_ASSIGN_OR_RETURN(auto db, readers_.Acquire());
  return ListSyncFileRows(*db, sync_id, state, after_path, limit);
}

Result<SyncCounts> SqliteMetadataStore::CountSyncFiles(std::string_view sync_id) {
  ARGUS_ASSIGN_OR_RETURN(auto db, readers_.Acquire());
  return CountSyncFileRows(*db, sync_id);
}

Result<int64_t> SqliteMetadataStore::RetrySyncFiles(std::string_view sync_id,
                                                    const std::vector<std::string>& paths) {
  return RunWrite(file_->writer(), [&](SqliteDatabase& w) -> Result<int64_t> {
    return RetrySyncFileRows(w, sync_id, paths);
  });
}

}  // namespace argus::store::sqlite
