#include "store/sqlite/sqlite_object_rows.h"

#include <fmt/format.h>

#include <utility>
#include <vector>

#include "store/blob_store.h"
#include "store/sqlite/store_file.h"

namespace argus::store::sqlite {
namespace {

// Column lists as macros so each statement below is one constexpr literal (the SQL text is the
// statement-cache key), without non-trivially-destructible globals.
#define ARGUS_BUCKET_COLUMNS                                                     \
  "id, namespace_id, name, description, max_object_bytes, allowed_media_types, " \
  "metadata_schema, created_at, updated_at"
#define ARGUS_OBJECT_COLUMNS                                                                   \
  "id, namespace_id, bucket_id, key, size, sha256, media_type, metadata, status, created_at, " \
  "updated_at"

constexpr std::string_view kInsertBucket =
    "INSERT INTO buckets(" ARGUS_BUCKET_COLUMNS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";
constexpr std::string_view kSelectBucket =
    "SELECT " ARGUS_BUCKET_COLUMNS " FROM buckets WHERE namespace_id = ? AND name = ?";
constexpr std::string_view kListBuckets = "SELECT " ARGUS_BUCKET_COLUMNS
                                          " FROM buckets WHERE namespace_id = ? AND id > ?"
                                          " ORDER BY id LIMIT ?";
constexpr std::string_view kUpdateBucket =
    "UPDATE buckets SET description = ?, max_object_bytes = ?, allowed_media_types = ?,"
    " metadata_schema = ?, updated_at = ? WHERE id = ?";
constexpr std::string_view kSelectBucketById =
    "SELECT namespace_id, name FROM buckets WHERE id = ?";
constexpr std::string_view kSelectObject =
    "SELECT " ARGUS_OBJECT_COLUMNS " FROM objects WHERE bucket_id = ? AND key = ?";
constexpr std::string_view kInsertObject =
    "INSERT INTO objects(" ARGUS_OBJECT_COLUMNS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
constexpr std::string_view kOtherKeyHasBlob =
    "SELECT 1 FROM objects WHERE bucket_id = ? AND sha256 = ? AND key <> ? LIMIT 1";
constexpr std::string_view kDeleteObject =
    "DELETE FROM objects WHERE bucket_id = ? AND key = ?"
    " RETURNING " ARGUS_OBJECT_COLUMNS;

// ListObjects: ?1 bucket, ?2 the lower bound on the key, ?3 whether it is inclusive, ?4 the end of
// the prefix's key range (absent when no key lies past it), ?5 the SQL metadata filters (see
// SqlMetadataFilters), ?6 the batch size. Parameters are numbered so every variant binds alike.
// The key range runs on the (bucket_id, key) index in key order, so stepping is lazy: stopping
// early reads no further rows. The one lower bound is what lets a read seek past a common prefix:
// with two (key > ? AND key >= ?) SQLite seeks on one of them and filters on the other.
//
// A filter {"p": path, "t": type, "v": value} holds when the field at path has the type (integer
// and real are both "number") and, for text and numbers, the value. Numbers compare as doubles,
// as nlohmann does, so this drops no row that the exact check in C++ would keep. json_each's own
// columns (key, id, ...) shadow the outer table's inside the subquery: use o.metadata only.
#define ARGUS_LIST_OBJECTS       \
  "SELECT " ARGUS_OBJECT_COLUMNS \
  " FROM objects AS o WHERE bucket_id = ?1 AND key >= ?2 AND (?3 OR key > ?2)"
#define ARGUS_LIST_OBJECTS_END " AND key < ?4"
#define ARGUS_LIST_OBJECTS_FILTER                                                 \
  " AND NOT EXISTS (SELECT 1 FROM json_each(?5) AS f WHERE"                       \
  " (CASE json_type(o.metadata, f.value ->> '$.p') WHEN 'integer' THEN 'number'"  \
  " WHEN 'real' THEN 'number' ELSE json_type(o.metadata, f.value ->> '$.p') END)" \
  " IS NOT f.value ->> '$.t'"                                                     \
  " OR (f.value ->> '$.t' = 'text'"                                               \
  " AND json_extract(o.metadata, f.value ->> '$.p') IS NOT f.value ->> '$.v')"    \
  " OR (f.value ->> '$.t' = 'number'"                                             \
  " AND CAST(json_extract(o.metadata, f.value ->> '$.p') AS REAL)"                \
  " IS NOT CAST(f.value ->> '$.v' AS REAL)))"
#define ARGUS_LIST_OBJECTS_ORDER " ORDER BY key LIMIT ?6"

// Indexed by [has an end][has SQL filters].
constexpr std::string_view kListObjects[2][2] = {
    {ARGUS_LIST_OBJECTS ARGUS_LIST_OBJECTS_ORDER,
     ARGUS_LIST_OBJECTS ARGUS_LIST_OBJECTS_FILTER ARGUS_LIST_OBJECTS_ORDER},
    {ARGUS_LIST_OBJECTS ARGUS_LIST_OBJECTS_END ARGUS_LIST_OBJECTS_ORDER,
     ARGUS_LIST_OBJECTS ARGUS_LIST_OBJECTS_END ARGUS_LIST_OBJECTS_FILTER ARGUS_LIST_OBJECTS_ORDER},
};

#undef ARGUS_BUCKET_COLUMNS
#undef ARGUS_OBJECT_COLUMNS
#undef ARGUS_LIST_OBJECTS
#undef ARGUS_LIST_OBJECTS_END
#undef ARGUS_LIST_OBJECTS_FILTER
#undef ARGUS_LIST_OBJECTS_ORDER

// `field` of the row with `id` (say "metadata of object"), for the message only.
Result<Json> ParseStoredJson(const Statement& row, int column, std::string_view field,
                             std::string_view id, const std::string& path) {
  Json value = Json::parse(row.ColumnText(column), nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) {
    return InternalError(fmt::format("{} '{}' in {} is corrupt JSON", field, id, path));
  }
  return value;
}

Result<Bucket> ReadBucket(const Statement& row, const std::string& path) {
  Bucket bucket;
  bucket.id = row.ColumnText(0);
  bucket.namespace_id = row.ColumnText(1);
  bucket.name = row.ColumnText(2);
  bucket.description = row.ColumnText(3);
  bucket.max_object_bytes = row.ColumnInt64(4);
  ARGUS_ASSIGN_OR_RETURN(Json types,
                         ParseStoredJson(row, 5, "allowed_media_types of bucket", bucket.id, path));
  if (types.is_array()) {
    for (const Json& type : types) {
      if (!type.is_string()) break;
      bucket.allowed_media_types.push_back(type.get<std::string>());
    }
  }
  if (!types.is_array() || bucket.allowed_media_types.size() != types.size()) {
    return InternalError(fmt::format(
        "allowed_media_types of bucket '{}' in {} is not an array of strings", bucket.id, path));
  }
  ARGUS_ASSIGN_OR_RETURN(bucket.metadata_schema,
                         ParseStoredJson(row, 6, "metadata_schema of bucket", bucket.id, path));
  bucket.created_at = row.ColumnInt64(7);
  bucket.updated_at = row.ColumnInt64(8);
  return bucket;
}

Result<StoredObject> ReadObject(const Statement& row, const std::string& path) {
  StoredObject object;
  object.id = row.ColumnText(0);
  object.namespace_id = row.ColumnText(1);
  object.bucket_id = row.ColumnText(2);
  object.key = row.ColumnText(3);
  object.size = row.ColumnInt64(4);
  object.sha256 = row.ColumnText(5);
  object.media_type = row.ColumnText(6);
  ARGUS_ASSIGN_OR_RETURN(object.metadata,
                         ParseStoredJson(row, 7, "metadata of object", object.id, path));
  object.status = row.ColumnText(8);
  object.created_at = row.ColumnInt64(9);
  object.updated_at = row.ColumnInt64(10);
  return object;
}

bool IsLowerOrDigit(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

Status CheckObjectKey(std::string_view key) {
  if (key.empty() || key.size() > 1024) {
    return InvalidArgumentError(
        fmt::format("an object key must be 1 to 1024 bytes long, not {}", key.size()));
  }
  if (key.find('\0') != std::string_view::npos) {
    return InvalidArgumentError("an object key must not contain a NUL byte");
  }
  return OkStatus();
}

// The sha256 is how the blob collector finds references (BlobReferenced): a differently spelled
// digest would let it free a blob still in use, so only the canonical form is stored.
bool IsCanonicalSha256(std::string_view sha256) {
  bool hex = sha256.size() == 64;
  for (size_t i = 0; hex && i < sha256.size(); ++i) {
    char c = sha256[i];
    hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  }
  return hex;
}

// The smallest string greater than every string that starts with `prefix`, bytewise; nullopt
// when there is none (`prefix` is empty or all 0xff bytes). It need not be valid UTF-8: SQLite
// compares TEXT with the BINARY collation as bytes, as std::string does.
std::optional<std::string> PrefixEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty() && static_cast<unsigned char>(end.back()) == 0xff) end.pop_back();
  if (end.empty()) return std::nullopt;
  end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
  return end;
}

using MetadataEquals = std::vector<std::pair<std::string, Json>>;

// The type name the SQL filter compares with json_type() (integer and real as "number"); nullopt
// for values the SQL filter leaves to the C++ check.
std::optional<std::string_view> SqlJsonType(const Json& value) {
  switch (value.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::boolean:
      return value.get<bool>() ? "true" : "false";
    case Json::value_t::string:
      return "text";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float:
      return "number";
    case Json::value_t::object:
      return "object";
    case Json::value_t::array:
      return "array";
    default:
      return std::nullopt;
  }
}

// SQLite's JSON path reads a quoted label up to the next '"' and matches it against the stored,
// still escaped, key text: fields holding '"', '\\' or control characters cannot be named in a
// path, so only the C++ check sees them.
bool SqlCanNameField(std::string_view field) {
  for (char c : field) {
    if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) return false;
  }
  return true;
}

// The metadata filters as ListObjects' SQL takes them (a JSON array of {"p", "t", "v"}), or ""
// when SQL can check none of them. InvalidArgument when a field or value is not valid UTF-8.
Result<std::string> SqlMetadataFilters(const MetadataEquals& equals) {
  Json filters = Json::array();
  for (const auto& [field, value] : equals) {
    // Validates the UTF-8 of every filter, including those left to C++.
    ARGUS_RETURN_IF_ERROR(DumpJson(Json::array({field, value}), "a metadata filter").status());
    std::optional<std::string_view> type = SqlJsonType(value);
    if (!type || !SqlCanNameField(field)) continue;
    std::string path = "$.\"";
    path.append(field).append("\"");
    Json filter = {{"p", std::move(path)}, {"t", *type}};
    if (value.is_string() || value.is_number()) filter["v"] = value;
    filters.push_back(std::move(filter));
  }
  if (filters.empty()) return std::string();
  return DumpJson(filters, "metadata filters");
}

// Top-level fields equal by JSON value (1 == 1.0, true != 1); an absent field matches nothing,
// not even null.
bool MetadataMatches(const Json& metadata, const MetadataEquals& equals) {
  for (const auto& [field, value] : equals) {
    if (!metadata.is_object()) return false;
    auto it = metadata.find(field);
    if (it == metadata.end() || *it != value) return false;
  }
  return true;
}

// One ListObjects page, built from the rows of the listed key range in key order.
class ObjectListing {
 public:
  /// Rows per read, more than a page holds: a read that ends short has reached the range's end.
  static constexpr int kBatch = 1001;

  ObjectListing(const ListObjectsRequest& request, const std::string& path)
      : request_(request), path_(path) {
    // Keys greater than after_key that start with the prefix (the end is bound in SQL).
    if (request.prefix > request.after_key) {
      lower_ = request.prefix;
      inclusive_ = true;
    } else {
      lower_ = request.after_key;
    }
  }

  /// The lower bound of the next read: keys from lower(), or past it unless inclusive().
  const std::string& lower() const { return lower_; }
  bool inclusive() const { return inclusive_; }

  /// Lists the rows `stmt` returns. False when the page is complete; true when it needs another
  /// read from the new bounds (the batch ran out, or a common prefix was skipped).
  Result<bool> Read(Statement& stmt) {
    int rows = 0;
    for (;;) {
      ARGUS_ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) return rows == kBatch;
      ++rows;
      lower_ = stmt.ColumnText(3);
      inclusive_ = false;
      std::optional<StoredObject> object;
      if (!request_.metadata_equals.empty()) {
        ARGUS_ASSIGN_OR_RETURN(object, ReadObject(stmt, path_));
        if (!MetadataMatches(object->metadata, request_.metadata_equals)) continue;
      }
      size_t at = request_.delimiter.empty()
                      ? std::string::npos
                      : lower_.find(request_.delimiter, request_.prefix.size());
      if (at != std::string::npos) {
        return AddCommonPrefix(lower_.substr(0, at + request_.delimiter.size()));
      }
      if (Full()) return false;
      if (!object) {
        ARGUS_ASSIGN_OR_RETURN(object, ReadObject(stmt, path_));
      }
      last_ = lower_;
      result_.objects.push_back(std::move(*object));
    }
  }

  ListObjectsResult TakeResult() { return std::move(result_); }

 private:
  // A key with the delimiter after the prefix is listed as its common prefix, once: the next read
  // starts past every key under it. A prefix not past the request's cursor was listed on an
  // earlier page.
  bool AddCommonPrefix(std::string common) {
    std::optional<std::string> past = PrefixEnd(common);
    if (common > request_.after_key) {
      if (Full()) return false;
      last_ = common;
      result_.common_prefixes.push_back(std::move(common));
    }
    if (!past) return false;  // no key sorts after this prefix
    lower_ = std::move(*past);
    inclusive_ = true;
    return true;
  }

  // Called with one more item in hand: whether the page is already full, and if so it ends here
  // with a cursor (the item in hand goes on the next page).
  bool Full() {
    if (result_.objects.size() + result_.common_prefixes.size() <
        static_cast<size_t>(request_.limit)) {
      return false;
    }
    result_.next_after_key = last_;
    return true;
  }

  const ListObjectsRequest& request_;
  const std::string& path_;
  std::string lower_;
  bool inclusive_ = false;
  std::string last_;  // the last item listed
  ListObjectsResult result_;
};

}  // namespace

bool MentionsColumn(const Status& status, std::string_view column) {
  return status.message().find(column) != std::string_view::npos;
}

// nlohmann throws on strings that are not valid UTF-8; `what` names the value for the caller.
Result<std::string> DumpJson(const Json& value, std::string_view what) {
  try {
    return value.dump();
  } catch (const Json::exception& e) {
    return InvalidArgumentError(fmt::format("{} is not valid: {}", what, e.what()));
  }
}

Status CheckBucket(const Bucket& bucket) {
  const std::string& name = bucket.name;
  bool valid = !name.empty() && name.size() <= 63 && IsLowerOrDigit(name[0]);
  for (size_t i = 1; valid && i < name.size(); ++i) {
    char c = name[i];
    valid = IsLowerOrDigit(c) || c == '.' || c == '_' || c == '-';
  }
  if (!valid) {
    return InvalidArgumentError(fmt::format(
        "bucket name '{}' is invalid: use 1 to 63 characters from a-z, 0-9, '.', '_' and '-', "
        "starting with a letter or digit",
        name));
  }
  if (bucket.max_object_bytes < 0) {
    return InvalidArgumentError(fmt::format("max_object_bytes of bucket '{}' must be >= 0, not {}",
                                            name, bucket.max_object_bytes));
  }
  return OkStatus();
}

// The bucket's JSON columns: allowed_media_types, then metadata_schema.
Result<std::pair<std::string, std::string>> DumpBucketJson(const Bucket& bucket) {
  std::string what = fmt::format("allowed_media_types of bucket '{}'", bucket.name);
  ARGUS_ASSIGN_OR_RETURN(std::string types, DumpJson(Json(bucket.allowed_media_types), what));
  what = fmt::format("metadata_schema of bucket '{}'", bucket.name);
  ARGUS_ASSIGN_OR_RETURN(std::string schema, DumpJson(bucket.metadata_schema, what));
  return std::make_pair(std::move(types), std::move(schema));
}

Status CheckObject(const StoredObject& object) {
  ARGUS_RETURN_IF_ERROR(CheckObjectKey(object.key));
  if (!IsCanonicalSha256(object.sha256)) {
    return InvalidArgumentError(
        fmt::format("sha256 of object '{}' must be 64 lowercase hex digits, not '{}'", object.key,
                    object.sha256));
  }
  if (object.size < 0) {
    return InvalidArgumentError(
        fmt::format("size of object '{}' must be >= 0, not {}", object.key, object.size));
  }
  return OkStatus();
}

// An upload's key is the object key Complete will write: refused now rather than at the end.
Status CheckUpload(const Upload& upload) {
  ARGUS_RETURN_IF_ERROR(CheckObjectKey(upload.key));
  if (!upload.metadata.is_object()) {
    return InvalidArgumentError(fmt::format("metadata of upload '{}' must be a JSON object, not {}",
                                            upload.id, upload.metadata.type_name()));
  }
  return OkStatus();
}

Status CheckUploadPart(const UploadPart& part) {
  if (part.number < 1 || part.number > 10000) {
    return InvalidArgumentError(
        fmt::format("an upload part number must be between 1 and 10000, not {}", part.number));
  }
  if (!IsCanonicalSha256(part.sha256)) {
    return InvalidArgumentError(
        fmt::format("sha256 of upload part {} must be 64 lowercase hex digits, not '{}'",
                    part.number, part.sha256));
  }
  if (part.size < 0) {
    return InvalidArgumentError(
        fmt::format("size of upload part {} must be >= 0, not {}", part.number, part.size));
  }
  return OkStatus();
}

Status UploadNotFound(std::string_view id) {
  return NotFoundError(fmt::format("upload '{}' does not exist", id));
}

Status CheckPrecondition(const ObjectPrecondition& precondition,
                         const std::optional<StoredObject>& current, std::string_view key,
                         std::string_view bucket_name) {
  if (precondition.must_not_exist && current) {
    return ConditionFailedError(
        fmt::format("object '{}' already exists in bucket '{}'", key, bucket_name));
  }
  if (precondition.sha256_must_match.empty()) return OkStatus();
  if (!current) {
    return ConditionFailedError(
        fmt::format("object '{}' does not exist in bucket '{}' (expected sha256 {})", key,
                    bucket_name, precondition.sha256_must_match));
  }
  if (current->sha256 != precondition.sha256_must_match) {
    return ConditionFailedError(fmt::format("object '{}' in bucket '{}' has sha256 {}, not {}", key,
                                            bucket_name, current->sha256,
                                            precondition.sha256_must_match));
  }
  return OkStatus();
}

Status InsertBucketRow(SqliteDatabase& db, const Bucket& bucket,
                       const std::pair<std::string, std::string>& json) {
  ARGUS_ASSIGN_OR_RETURN(auto stmt, db.Prepare(kInsertBucket, "create bucket"));
  stmt->BindText(1, bucket.id);
  stmt->BindText(2, bucket.namespace_id);
  stmt->BindText(3, bucket.name);
  stmt->BindText(4, bucket.description);
  stmt->BindInt64(5, bucket.max_object_bytes);
  stmt->BindText(6, json.first);
  stmt->BindText(7, json.second);
  stmt->BindInt64(8, bucket.created_at);
  stmt->BindInt64(9, bucket.updated_at);
  Status status = stmt->Run();
  if (status.code() == StatusCode::kAlreadyExists) {
    if (MentionsColumn(status, "buckets.name")) {
      return AlreadyExistsError(fmt::format("bucket '{}' already exists", bucket.name));
    }
    return AlreadyExistsError(fmt::format("a bucket with id '{}' already exists", bucket.id));
  }
  return status;
}

Result<Bucket> FindBucketRow(SqliteDatabase& db, std::string_view namespace_id,
                             std::string_view name) {
  ARGUS_ASSIGN_OR_RETURN(auto stmt, db.Prepare(kSelectBucket, "get bucket"));
  stmt->BindText(1, namespace_id);
  stmt->BindText(2, name);
  ARGUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
  if (!row) return NotFoundError(fmt::format("bucket '{}' does not exist", name));
  return ReadBucket(*stmt, db.path());
}

Result<Page<Bucket>> ListBucketRows(SqliteDatabase& db, std::string_view namespace_id,
                                    const PageRequest& page) {
  ARGUS_ASSIGN_OR_RETURN(auto stmt, db.Prepare(kListBuckets, "list buckets"));
  stmt->BindText(1, namespace_id);
  stmt->BindText(2, page.after_id);
  stmt->BindInt64(3, page.limit + 1);
  return ReadPage<Bucket>(*stmt, page.limit,
                          [&db](const Statement& row) { return ReadBucket(row, db.path()); });
}

Status UpdateBucketRow(SqliteDatabase& db, const Bucket& bucket,
                       const std::pair<std::string, std::string>& json) {
  ARGUS_ASSIGN_OR_RETURN(auto stmt, db.Prepare(kUpdateBucket, "update bucket"));
  stmt->BindText(1, bucket.description);
  stmt->BindInt64(2, bucket.max_object_bytes);
  stmt->BindText(3, json.first);
  stmt->BindText(4, json.second);
  stmt->BindInt64(5, bucket.updated_at);
  stmt->BindText(6, bucket.id);
  return stmt->Run();
}

Result<bool> BucketHasObjects(SqliteDatabase& db, std::string_view bucket_id) {
  ARGUS_ASSIGN_OR_RETURN(auto any, db.Prepare("SELECT 1 FROM objects WHERE bucket_id = ?"
                                              " LIMIT 1",
                                              "delete bucket (find objects)"));
  any->BindText(1, bucket_id);
  return any->Step();
}

Status DeleteBucketRow(SqliteDatabase& db, std::string_view bucket_id) {
  ARGUS_ASSIGN_OR_RETURN(auto stmt,
                         db.Prepare("DELETE FROM buckets WHERE id = ?", "delete bucket"));
  stmt->BindText(1, bucket_id);
  return stmt->Run();
}

Result<std::optional<BucketRef>> FindBucketRefById(SqliteDatabase& db, std::string_view bucket_id,
                                                   std::string_view operation) {
  ARGUS_ASSIGN_OR_RETURN(auto stmt, db.Prepare(kSelectBucketById, operation));
  stmt->BindText(1, bucket_id);
  ARGUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
  if (!row) return std::optional<BucketRef>();
  return std::optional<BucketRef>(
      BucketRef{.namespace_id = stmt->ColumnText(0), .name = stmt->ColumnText(1)});
}

Result<std::optional<StoredObject>> FindObjectRow(SqliteDatabase& db, std::string_view bucket_id,
                                                  std::string_view key) {
  ARGUS_ASSIGN_OR_RETURN(auto stmt, db.Prepare(kSelectObject, "get object"));
  stmt->BindText(1, bucket_id);
  stmt->BindText(2, key);
  ARGUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
  if (!row) return std::optional<StoredObject>();
  ARGUS_ASSIGN_OR_RETURN(StoredObject object, ReadObject(*stmt, db.path()));
  return std::optional<StoredObject>(std::move(object));
}

Status InsertObjectRow(SqliteDatabase& db, const StoredObject& object, std::string_view metadata) {
  ARGUS_ASSIGN_OR_RETURN(auto stmt, db.Prepare(kInsertObject, "put object"));
  stmt->BindText(1, object.id);
  stmt->BindText(2, object.namespace_id);
  stmt->BindText(3, object.bucket_id);
  stmt->BindText(4, object.key);
  stmt->BindInt64(5, object.size);
  stmt->BindText(6, object.sha256);
  stmt->BindText(7, object.media_type);
  stmt->BindText(8, metadata);
  stmt->BindText(9, object.status);
  stmt->BindInt64(10, object.created_at);
  stmt->BindInt64(11, object.updated_at);
  Status status = stmt->Run();
  if (status.code() == StatusCode::kAlreadyExists) {
    return AlreadyExistsError(fmt::format("an object with id '{}' already exists", object.id));
  }
  return status;
}

Result<bool> OtherKeyHasBlob(SqliteDatabase& db, std::string_view bucket_id,
                             std::string_view sha256, std::string_view key) {
  ARGUS_ASSIGN_OR_RETURN(auto same, db.Prepare(kOtherKeyHasBlob, "put object (dedupe)"));
  same->BindText(1, bucket_id);
  same->BindText(2, sha256);
  same->BindText(3, key);
  return same->Step();
}

Status DeleteObjectRowById(SqliteDatabase& db, std::string_view object_id) {
  ARGUS_ASSIGN_OR_RETURN(
      auto drop, db.Prepare("DELETE FROM objects WHERE id = ?", "put object (drop old version)"));
  drop->BindText(1, object_id);
  return drop->Run();
}

Status UpdateObjectMetadataRow(SqliteDatabase& db, std::string_view object_id,
                               std::string_view metadata, TimestampUs now) {
  ARGUS_ASSIGN_OR_RETURN(auto stmt, db.Prepare("UPDATE objects SET metadata = ?, updated_at = ?"
                                               " WHERE id = ?",
                                               "update object metadata"));
  stmt->BindText(1, metadata);
  stmt->BindInt64(2, now);
  stmt->BindText(3, object_id);
  return stmt->Run();
}

Result<std::optional<StoredObject>> DeleteObjectRow(SqliteDatabase& db, std::string_view bucket_id,
                                                    std::string_view key) {
  ARGUS_ASSIGN_OR_RETURN(auto stmt, db.Prepare(kDeleteObject, "delete object"));
  stmt->BindText(1, bucket_id);
  stmt->BindText(2, key);
  ARGUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
  if (!row) return std::optional<StoredObject>();
  Result<StoredObject> object = ReadObject(*stmt, db.path());
  // Step to the end so the statement completes before the caller releases the write lock.
  ARGUS_RETURN_IF_ERROR(stmt->Run());
  if (!object.ok()) return object.status();
  return std::optional<StoredObject>(std::move(*object));
}

Result<bool> BlobReferencedRow(SqliteDatabase& db, std::string_view sha256) {
  // One statement, so one snapshot: a blob whose part becomes an object (PutObject, then
  // DeleteUpload) is referenced by one or the other whenever this runs. Two reads could miss both.
  ARGUS_ASSIGN_OR_RETURN(auto stmt,
                         db.Prepare("SELECT EXISTS (SELECT 1 FROM objects WHERE sha256 = ?1)"
                                    " OR EXISTS (SELECT 1 FROM upload_parts WHERE sha256 = ?1)"
                                    " OR EXISTS (SELECT 1 FROM derived_blobs d WHERE d.sha256 = ?1"
                                    "   AND (EXISTS (SELECT 1 FROM objects o"
                                    "                WHERE o.sha256 = d.source_sha256)"
                                    "     OR EXISTS (SELECT 1 FROM upload_parts u"
                                    "                WHERE u.sha256 = d.source_sha256)))",
                                    "blob referenced"));
  stmt->BindText(1, sha256);
  ARGUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
  if (!row) return InternalError("blob referenced: the EXISTS query returned no row");
  return stmt->ColumnInt64(0) != 0;
}

Status CheckDerivedBlob(const DerivedBlob& blob) {
  if (!IsBlobSha256(blob.source_sha256) || !IsBlobSha256(blob.sha256)) {
    return InvalidArgumentError("a derived blob's sha256 and source_sha256 are 64 hex digits");
  }
  if (blob.variant.empty() || blob.variant.size() > 128 || blob.media_type.empty() ||
      blob.media_type.size() > 128) {
    return InvalidArgumentError("a derived blob's variant and media type are 1 to 128 bytes");
  }
  if (blob.size < 0) return InvalidArgumentError("a derived blob's size is not negative");
  if (!blob.details.is_object()) {
    return InvalidArgumentError("a derived blob's details are a JSON object");
  }
  return OkStatus();
}

Status UpsertDerivedBlobRow(SqliteDatabase& db, const DerivedBlob& blob,
                            const std::string& details) {
  ARGUS_ASSIGN_OR_RETURN(
      auto stmt,
      db.Prepare("INSERT INTO derived_blobs (source_sha256, variant, sha256, media_type, size,"
                 " details, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
                 " ON CONFLICT (source_sha256, variant) DO UPDATE SET sha256 = excluded.sha256,"
                 " media_type = excluded.media_type, size = excluded.size,"
                 " details = excluded.details, created_at = excluded.created_at",
                 "put derived blob"));
  stmt->BindText(1, blob.source_sha256);
  stmt->BindText(2, blob.variant);
  stmt->BindText(3, blob.sha256);
  stmt->BindText(4, blob.media_type);
  stmt->BindInt64(5, blob.size);
  stmt->BindText(6, details);
  stmt->BindInt64(7, blob.created_at);
  return stmt->Run();
}

Result<DerivedBlob> FindDerivedBlobRow(SqliteDatabase& db, std::string_view source_sha256,
                                       std::string_view variant) {
  ARGUS_ASSIGN_OR_RETURN(auto stmt,
                         db.Prepare("SELECT sha256, media_type, size, details, created_at"
                                    " FROM derived_blobs WHERE source_sha256 = ?1 AND variant = ?2",
                                    "get derived blob"));
  stmt->BindText(1, source_sha256);
  stmt->BindText(2, variant);
  ARGUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
  if (!row) {
    return NotFoundError(fmt::format("no derived blob '{}' of {}", variant, source_sha256));
  }
  DerivedBlob blob{.source_sha256 = std::string(source_sha256),
                   .variant = std::string(variant),
                   .sha256 = stmt->ColumnText(0),
                   .media_type = stmt->ColumnText(1),
                   .size = stmt->ColumnInt64(2),
                   .created_at = stmt->ColumnInt64(4)};
  auto details = ParseJson(stmt->ColumnText(3));
  if (details.ok() && details->is_object()) blob.details = std::move(*details);
  return blob;
}

Result<int64_t> DeleteDerivedBlobRows(SqliteDatabase& db, std::string_view source_sha256) {
  ARGUS_ASSIGN_OR_RETURN(
      auto stmt, db.Prepare("DELETE FROM derived_blobs WHERE source_sha256 = ?1 OR sha256 = ?1",
                            "delete derived blobs"));
  stmt->BindText(1, source_sha256);
  ARGUS_RETURN_IF_ERROR(stmt->Run());
  return stmt->Changes();
}

Result<ObjectListQuery> PrepareObjectList(const ListObjectsRequest& request) {
  if (request.limit < 1 || request.limit > 1000) {
    return InvalidArgumentError(
        fmt::format("object list limit must be between 1 and 1000, not {}", request.limit));
  }
  ObjectListQuery query;
  ARGUS_ASSIGN_OR_RETURN(query.filters, SqlMetadataFilters(request.metadata_equals));
  query.end = PrefixEnd(request.prefix);
  return query;
}

Result<ListObjectsResult> ListObjectRows(SqliteDatabase& db, std::string_view bucket_id,
                                         const ListObjectsRequest& request,
                                         const ObjectListQuery& query) {
  const std::string& filters = query.filters;
  const std::optional<std::string>& end = query.end;
  ARGUS_ASSIGN_OR_RETURN(
      auto stmt, db.Prepare(kListObjects[end.has_value()][!filters.empty()], "list objects"));
  ObjectListing listing(request, db.path());
  // Each read continues past the last row seen or past the last common prefix met. The reads
  // are separate snapshots: like any keyset page, this one may or may not see a concurrent write.
  for (;;) {
    stmt->Reset();
    stmt->BindText(1, bucket_id);
    stmt->BindText(2, listing.lower());
    stmt->BindInt64(3, listing.inclusive() ? 1 : 0);
    if (end) stmt->BindText(4, *end);
    if (!filters.empty()) stmt->BindText(5, filters);
    stmt->BindInt64(6, ObjectListing::kBatch);
    ARGUS_ASSIGN_OR_RETURN(bool more, listing.Read(*stmt));
    if (!more) return listing.TakeResult();
  }
}

}  // namespace argus::store::sqlite
