#include "store/sqlite/sqlite_upload_rows.h"

#include <fmt/format.h>

#include <string>
#include <utility>

namespace argus::store::sqlite {
namespace {

// Column list as a macro so each statement below is one constexpr literal (the SQL text is the
// statement-cache key). The order is the one ReadUpload expects.
#define ARGUS_UPLOAD_COLUMNS "id, namespace_id, bucket_id, key, metadata, created_at, expires_at"

constexpr std::string_view kInsertUpload =
    "INSERT INTO uploads(" ARGUS_UPLOAD_COLUMNS ") VALUES (?, ?, ?, ?, ?, ?, ?)";
constexpr std::string_view kSelectUpload =
    "SELECT " ARGUS_UPLOAD_COLUMNS " FROM uploads WHERE id = ? AND bucket_id = ?";

#undef ARGUS_UPLOAD_COLUMNS

// Inserts nothing when the upload is absent (or in another bucket): the SELECT finds no row. Its
// WHERE clause also keeps SQLite from reading ON CONFLICT as a join's ON.
constexpr std::string_view kUpsertPart =
    "INSERT INTO upload_parts(upload_id, number, sha256, size, created_at)"
    " SELECT id, ?3, ?4, ?5, ?6 FROM uploads WHERE id = ?1 AND bucket_id = ?2"
    " ON CONFLICT(upload_id, number) DO UPDATE SET sha256 = excluded.sha256,"
    " size = excluded.size, created_at = excluded.created_at";
// One row with NULL part columns for an upload without parts; no row for an absent upload.
constexpr std::string_view kListParts =
    "SELECT p.number, p.sha256, p.size, p.created_at FROM uploads AS u"
    " LEFT JOIN upload_parts AS p ON p.upload_id = u.id"
    " WHERE u.id = ?1 AND u.bucket_id = ?2 ORDER BY p.number";
constexpr std::string_view kDeleteUpload = "DELETE FROM uploads WHERE id = ? AND bucket_id = ?";
constexpr std::string_view kDeleteExpired =
    "DELETE FROM uploads WHERE id IN (SELECT id FROM uploads WHERE expires_at < ?1"
    " ORDER BY expires_at LIMIT ?2)";

Result<Upload> ReadUpload(const Statement& row, const std::string& path) {
  Upload upload;
  upload.id = row.ColumnText(0);
  upload.namespace_id = row.ColumnText(1);
  upload.bucket_id = row.ColumnText(2);
  upload.key = row.ColumnText(3);
  upload.metadata = Json::parse(row.ColumnText(4), nullptr, /*allow_exceptions=*/false);
  if (upload.metadata.is_discarded()) {
    return InternalError(
        fmt::format("metadata of upload '{}' in {} is corrupt JSON", upload.id, path));
  }
  upload.created_at = row.ColumnInt64(5);
  upload.expires_at = row.ColumnInt64(6);
  return upload;
}

}  // namespace

Status InsertUploadRow(SqliteDatabase& db, const Upload& upload, std::string_view metadata_json) {
  ARGUS_ASSIGN_OR_RETURN(auto stmt, db.Prepare(kInsertUpload, "create upload"));
  stmt->BindText(1, upload.id);
  stmt->BindText(2, upload.namespace_id);
  stmt->BindText(3, upload.bucket_id);
  stmt->BindText(4, upload.key);
  stmt->BindText(5, metadata_json);
  stmt->BindInt64(6, upload.created_at);
  stmt->BindInt64(7, upload.expires_at);
  Status status = stmt->Run();
  if (status.code() == StatusCode::kAlreadyExists) {
    return AlreadyExistsError(fmt::format("an upload with id '{}' already exists", upload.id));
  }
  return status;
}

Result<std::optional<Upload>> FindUploadRow(SqliteDatabase& db, std::string_view bucket_id,
                                            std::string_view upload_id) {
  ARGUS_ASSIGN_OR_RETURN(auto stmt, db.Prepare(kSelectUpload, "get upload"));
  stmt->BindText(1, upload_id);
  stmt->BindText(2, bucket_id);
  ARGUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
  if (!row) return std::optional<Upload>();
  ARGUS_ASSIGN_OR_RETURN(Upload upload, ReadUpload(*stmt, db.path()));
  return std::optional<Upload>(std::move(upload));
}

Result<bool> UpsertUploadPartRow(SqliteDatabase& db, std::string_view bucket_id,
                                 std::string_view upload_id, const UploadPart& part) {
  ARGUS_ASSIGN_OR_RETURN(auto stmt, db.Prepare(kUpsertPart, "put upload part"));
  stmt->BindText(1, upload_id);
  stmt->BindText(2, bucket_id);
  stmt->BindInt64(3, part.number);
  stmt->BindText(4, part.sha256);
  stmt->BindInt64(5, part.size);
  stmt->BindInt64(6, part.created_at);
  ARGUS_RETURN_IF_ERROR(stmt->Run());
  return stmt->Changes() > 0;
}

Result<std::optional<std::vector<UploadPart>>> ListUploadPartRows(SqliteDatabase& db,
                                                                  std::string_view bucket_id,
                                                                  std::string_view upload_id) {
  ARGUS_ASSIGN_OR_RETURN(auto stmt, db.Prepare(kListParts, "list upload parts"));
  stmt->BindText(1, upload_id);
  stmt->BindText(2, bucket_id);
  bool found = false;
  std::vector<UploadPart> parts;
  for (;;) {
    ARGUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    found = true;
    if (stmt->ColumnIsNull(0)) continue;  // the upload has no parts
    UploadPart part;
    part.number = static_cast<int>(stmt->ColumnInt64(0));
    part.sha256 = stmt->ColumnText(1);
    part.size = stmt->ColumnInt64(2);
    part.created_at = stmt->ColumnInt64(3);
    parts.push_back(std::move(part));
  }
  if (!found) return std::optional<std::vector<UploadPart>>();
  return std::optional<std::vector<UploadPart>>(std::move(parts));
}

Result<bool> DeleteUploadRow(SqliteDatabase& db, std::string_view bucket_id,
                             std::string_view upload_id) {
  ARGUS_ASSIGN_OR_RETURN(auto stmt, db.Prepare(kDeleteUpload, "delete upload"));
  stmt->BindText(1, upload_id);
  stmt->BindText(2, bucket_id);
  ARGUS_RETURN_IF_ERROR(stmt->Run());
  // Changes() counts the uploads row only, not the parts the cascade removed.
  return stmt->Changes() > 0;
}

Result<int64_t> DeleteExpiredUploadRows(SqliteDatabase& db, TimestampUs now, int limit) {
  ARGUS_ASSIGN_OR_RETURN(auto stmt, db.Prepare(kDeleteExpired, "delete expired uploads"));
  stmt->BindInt64(1, now);
  stmt->BindInt64(2, limit);
  ARGUS_RETURN_IF_ERROR(stmt->Run());
  return stmt->Changes();
}

}  // namespace argus::store::sqlite
