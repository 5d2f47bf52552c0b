#pragma once

#include <span>
#include <string_view>

#include "core/result.h"
#include "store/sqlite/sqlite_database.h"

namespace argus::store::sqlite {

/// One schema step. Versions start at 1 and increase by one; a released migration never changes
/// (a fix is a new migration).
struct Migration {
  int version;
  std::string_view description;
  std::string_view sql;  ///< one or more statements, run inside the migration's transaction
};

/// The schema history of metadata.db (every SQLite store of a data directory), oldest first.
std::span<const Migration> MetadataMigrations();

/// The schema history of `tasks.db`, the task queue's own file before metadata.db version 6
/// took its tables in: a legacy file is brought up to its last version before it is imported.
std::span<const Migration> LegacyTaskQueueMigrations();

/// The same for `webhooks.db`, merged into metadata.db by version 7.
std::span<const Migration> LegacyWebhookMigrations();

/// The highest migration applied to `db`: 0 for a new (empty) database. The history lives in the
/// `schema_migrations` table (version, description, applied_at_us).
Result<int> SchemaVersion(SqliteDatabase& db);

/// Brings `db` up to the last of `migrations`, applying each missing one in order, each in its
/// own transaction together with its row in `schema_migrations`, so a failure leaves the database
/// at the previous version. Re-running on an up-to-date database changes nothing. Safe against a
/// second process migrating concurrently (each step re-reads the version under the write lock).
/// `now_us` is recorded as applied_at_us.
///
/// FailedPrecondition when the database is newer than the last of `migrations` (written by a
/// newer argus); Internal when `migrations` is not numbered 1, 2, 3, ... or a migration fails
/// (the message names its version); Unavailable when the write lock cannot be taken.
Status ApplyMigrations(SqliteDatabase& db, std::span<const Migration> migrations, int64_t now_us);

}  // namespace argus::store::sqlite
