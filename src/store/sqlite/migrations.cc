#include "store/sqlite/migrations.h"

#include <string>

namespace argus::store::sqlite {
namespace {

// STRICT tables make SQLite reject a value of the wrong type instead of storing it silently.
// api_keys_by_namespace serves ListApiKeys' keyset scan for one namespace, and for the global keys
// (namespace_id IS NULL) as well.
constexpr std::string_view kSchemaV1 = R"sql(
CREATE TABLE namespaces (
  id TEXT PRIMARY KEY NOT NULL,
  name TEXT NOT NULL UNIQUE,
  settings TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE api_keys (
  id TEXT PRIMARY KEY NOT NULL,
  namespace_id TEXT NULL REFERENCES namespaces(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
  prefix TEXT NOT NULL UNIQUE,
  hash BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  expires_at INTEGER NULL,
  revoked_at INTEGER NULL
) STRICT;

CREATE INDEX api_keys_by_namespace ON api_keys(namespace_id, id);

CREATE TABLE system_values (
  key TEXT PRIMARY KEY NOT NULL,
  value TEXT NOT NULL
) STRICT;
)sql";

constexpr Migration kMetadataMigrations[] = {
    {1, "namespaces, api_keys, system_values", kSchemaV1},
};

constexpr std::string_view kCreateHistory = R"sql(
CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY NOT NULL,
  description TEXT NOT NULL,
  applied_at_us INTEGER NOT NULL
) STRICT;
)sql";

Status CheckNumbering(std::span<const Migration> migrations) {
  for (size_t i = 0; i < migrations.size(); ++i) {
    if (migrations[i].version != static_cast<int>(i) + 1) {
      return InternalError("sqlite migrations are misnumbered: entry " + std::to_string(i) +
                           " has version " + std::to_string(migrations[i].version) + ", expected " +
                           std::to_string(i + 1));
    }
  }
  return OkStatus();
}

Status CheckNotNewer(const SqliteDatabase& db, int version, int known) {
  if (version <= known) return OkStatus();
  return FailedPreconditionError("database " + db.path() + " has schema version " +
                                 std::to_string(version) + " but this argus knows up to " +
                                 std::to_string(known) + "; upgrade argus");
}

// Applies `m` unless another connection got there first; the version is re-read under the write
// lock so two processes starting together cannot both apply the same step.
Status ApplyOne(SqliteDatabase& db, const Migration& m, int known, int64_t now_us) {
  std::string operation = "apply schema migration " + std::to_string(m.version) + " (" +
                          std::string(m.description) + ")";
  ARGUS_ASSIGN_OR_RETURN(auto txn, Transaction::BeginImmediate(db, operation));
  ARGUS_ASSIGN_OR_RETURN(int current, SchemaVersion(db));
  ARGUS_RETURN_IF_ERROR(CheckNotNewer(db, current, known));
  if (current >= m.version) return OkStatus();  // the destructor ends the empty transaction
  ARGUS_RETURN_IF_ERROR(db.Exec(kCreateHistory, operation));
  ARGUS_RETURN_IF_ERROR(db.Exec(m.sql, operation));
  {
    ARGUS_ASSIGN_OR_RETURN(auto record, db.Prepare("INSERT INTO schema_migrations(version, "
                                                   "description, applied_at_us) VALUES (?, ?, ?)",
                                                   operation));
    record->BindInt64(1, m.version);
    record->BindText(2, m.description);
    record->BindInt64(3, now_us);
    ARGUS_RETURN_IF_ERROR(record->Run());
  }
  return txn.Commit();
}

}  // namespace

std::span<const Migration> MetadataMigrations() { return kMetadataMigrations; }

Result<int> SchemaVersion(SqliteDatabase& db) {
  ARGUS_ASSIGN_OR_RETURN(std::string exists,
                         db.QueryText("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND "
                                      "name = 'schema_migrations'",
                                      "read schema version"));
  if (exists == "0") return 0;
  ARGUS_ASSIGN_OR_RETURN(auto stmt, db.Prepare("SELECT COALESCE(MAX(version), 0) FROM "
                                               "schema_migrations",
                                               "read schema version"));
  ARGUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
  return row ? static_cast<int>(stmt->ColumnInt64(0)) : 0;
}

Status ApplyMigrations(SqliteDatabase& db, std::span<const Migration> migrations, int64_t now_us) {
  ARGUS_RETURN_IF_ERROR(CheckNumbering(migrations));
  const int known = static_cast<int>(migrations.size());
  ARGUS_ASSIGN_OR_RETURN(int current, SchemaVersion(db));
  ARGUS_RETURN_IF_ERROR(CheckNotNewer(db, current, known));
  for (const Migration& m : migrations) {
    if (m.version <= current) continue;
    ARGUS_RETURN_IF_ERROR(ApplyOne(db, m, known, now_us));
  }
  return OkStatus();
}

}  // namespace argus::store::sqlite
