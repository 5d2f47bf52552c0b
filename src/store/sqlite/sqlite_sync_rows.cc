#include "store/sqlite/sqlite_sync_rows.h"

#include <fmt/format.h>

#include <cmath>
#include <optional>
#include <utility>

#include "store/sqlite/sqlite_object_rows.h"
#include "store/sqlite/store_file.h"

namespace argus::store::sqlite {
namespace {

// Column lists as macros so each statement below is one constexpr literal (the SQL text is the
// statement-cache key). The orders are the ones ReadSync and ReadSyncFile expect.
#define ARGUS_SYNC_COLUMNS                                                               \
  "id, namespace_id, bucket_id, source_type, source, key_prefix, metadata, interval_s, " \
  "paused, cursor, run_task_id, next_run_at, last_run_at, last_success_at, last_error, " \
  "created_at, updated_at"
#define ARGUS_SYNC_FILE_COLUMNS \
  "path, version, size, state, error, attempts, object_key, updated_at"

constexpr std::string_view kInsertSync =
    "INSERT INTO syncs(" ARGUS_SYNC_COLUMNS
    ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
// ?2 = '' matches any namespace. The id alone picks the row (primary key); the namespace filters.
constexpr std::string_view kSelectSync =
    "SELECT " ARGUS_SYNC_COLUMNS " FROM syncs WHERE id = ?1 AND (?2 = '' OR namespace_id = ?2)";
constexpr std::string_view kListAllSyncs =
    "SELECT " ARGUS_SYNC_COLUMNS " FROM syncs WHERE id > ? ORDER BY id LIMIT ?";
constexpr std::string_view kListBucketSyncs = "SELECT " ARGUS_SYNC_COLUMNS
                                              " FROM syncs WHERE bucket_id = ? AND id > ?"
                                              " ORDER BY id LIMIT ?";
// Unset fields are bound as NULL and keep their value.
constexpr std::string_view kUpdateSync =
    "UPDATE syncs SET paused = COALESCE(?1, paused), interval_s = COALESCE(?2, interval_s),"
    " cursor = COALESCE(?3, cursor), run_task_id = COALESCE(?4, run_task_id),"
    " next_run_at = COALESCE(?5, next_run_at), last_run_at = COALESCE(?6, last_run_at),"
    " last_success_at = COALESCE(?7, last_success_at), last_error = COALESCE(?8, last_error),"
    " updated_at = ?9 WHERE id = ?10 RETURNING " ARGUS_SYNC_COLUMNS;
constexpr std::string_view kDeleteSync =
    "DELETE FROM syncs WHERE id = ?1 AND (?2 = '' OR namespace_id = ?2)";
constexpr std::string_view kSyncExists = "SELECT 1 FROM syncs WHERE id = ?";

constexpr std::string_view kUpsertSyncFile =
    "INSERT INTO sync_files(sync_id, " ARGUS_SYNC_FILE_COLUMNS
    ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT(sync_id, path) DO UPDATE SET version = excluded.version,"
    " size = excluded.size, state = excluded.state, error = excluded.error,"
    " attempts = excluded.attempts, object_key = excluded.object_key,"
    " updated_at = excluded.updated_at";
constexpr std::string_view kListSyncFiles = "SELECT " ARGUS_SYNC_FILE_COLUMNS
                                            " FROM sync_files WHERE sync_id = ? AND path > ?"
                                            " ORDER BY path LIMIT ?";
constexpr std::string_view kListSyncFilesInState =
    "SELECT " ARGUS_SYNC_FILE_COLUMNS
    " FROM sync_files WHERE sync_id = ? AND state = ? AND path > ? ORDER BY path LIMIT ?";
constexpr std::string_view kCountSyncFiles =
    "SELECT state, count(*) FROM sync_files WHERE sync_id = ? GROUP BY state";
constexpr std::string_view kRetryAllSyncFiles =
    "UPDATE sync_files SET state = 'pending' WHERE sync_id = ? AND state = 'failed'";
// The heads of the statements that take a list of paths (see PathListSql).
constexpr std::string_view kSelectSyncFilesHead =
    "SELECT " ARGUS_SYNC_FILE_COLUMNS " FROM sync_files WHERE sync_id = ?1 AND path";
constexpr std::string_view kRetrySyncFilesHead =
    "UPDATE sync_files SET state = 'pending' WHERE sync_id = ?1 AND state = 'failed' AND path";

#undef ARGUS_SYNC_COLUMNS
#undef ARGUS_SYNC_FILE_COLUMNS

// Statements over a list of paths end in `path IN (?, ?, ...)` with one of these many parameters
// after ?1, the smallest that holds the paths (the rest bound to NULL, which matches no row): each
// statement is cached in at most two sizes, and a path is bound as it is, so any bytes are found
// (json_each would need valid UTF-8).
constexpr int kPathListSizes[] = {16, kMaxSyncFilePaths};

// `head` followed by an IN list of `size` parameters.
std::string PathListSql(std::string_view head, int size) {
  std::string sql(head);
  sql.append(" IN (?");
  for (int i = 1; i < size; ++i) sql.append(", ?");
  sql.append(")");
  return sql;
}

int PathListSize(size_t paths) {
  for (int size : kPathListSizes) {
    if (paths <= static_cast<size_t>(size)) return size;
  }
  return kMaxSyncFilePaths;
}

// Binds paths[begin, begin + size) from ?2 on, NULL past the end of `paths`.
void BindPathList(Statement& stmt, const std::vector<std::string>& paths, size_t begin, int size) {
  for (int i = 0; i < size; ++i) {
    if (begin + i < paths.size()) {
      stmt.BindText(i + 2, paths[begin + i]);
    } else {
      stmt.BindNull(i + 2);
    }
  }
}

bool IsSyncFileState(std::string_view state) {
  return state == "pending" || state == "ingested" || state == "failed";
}

Status CheckInterval(double interval_s, std::string_view what) {
  if (std::isfinite(interval_s) && interval_s >= 1) return OkStatus();
  return InvalidArgumentError(
      fmt::format("interval_s of {} must be at least 1 second, not {}", what, interval_s));
}

Status SyncNotFound(std::string_view id) {
  return NotFoundError(fmt::format("sync '{}' does not exist", id));
}

Result<Json> ParseColumnJson(const Statement& row, int column, std::string_view field,
                             std::string_view id, const std::string& path) {
  Json value = Json::parse(row.ColumnText(column), nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) {
    return InternalError(fmt::format("{} of sync '{}' in {} is corrupt JSON", field, id, path));
  }
  return value;
}

Result<Sync> ReadSync(const Statement& row, const std::string& path) {
  Sync sync;
  sync.id = row.ColumnText(0);
  sync.namespace_id = row.ColumnText(1);
  sync.bucket_id = row.ColumnText(2);
  sync.source_type = row.ColumnText(3);
  ARGUS_ASSIGN_OR_RETURN(sync.source, ParseColumnJson(row, 4, "source", sync.id, path));
  sync.key_prefix = row.ColumnText(5);
  ARGUS_ASSIGN_OR_RETURN(sync.metadata, ParseColumnJson(row, 6, "metadata", sync.id, path));
  sync.interval_s = row.ColumnDouble(7);
  sync.paused = row.ColumnInt64(8) != 0;
  sync.cursor = row.ColumnText(9);
  sync.run_task_id = row.ColumnText(10);
  sync.next_run_at = row.ColumnInt64(11);
  sync.last_run_at = row.ColumnInt64(12);
  sync.last_success_at = row.ColumnInt64(13);
  sync.last_error = row.ColumnText(14);
  sync.created_at = row.ColumnInt64(15);
  sync.updated_at = row.ColumnInt64(16);
  return sync;
}

SyncFile ReadSyncFile(const Statement& row) {
  SyncFile file;
  file.path = row.ColumnText(0);
  file.version = row.ColumnText(1);
  file.size = row.ColumnInt64(2);
  file.state = row.ColumnText(3);
  file.error = row.ColumnText(4);
  file.attempts = static_cast<int>(row.ColumnInt64(5));
  file.object_key = row.ColumnText(6);
  file.updated_at = row.ColumnInt64(7);
  return file;
}

}  // namespace

Result<SyncJson> PrepareSync(const Sync& sync) {
  ARGUS_RETURN_IF_ERROR(CheckInterval(sync.interval_s, fmt::format("sync '{}'", sync.id)));
  SyncJson json;
  ARGUS_ASSIGN_OR_RETURN(json.source,
                         DumpJson(sync.source, fmt::format("source of sync '{}'", sync.id)));
  ARGUS_ASSIGN_OR_RETURN(json.metadata,
                         DumpJson(sync.metadata, fmt::format("metadata of sync '{}'", sync.id)));
  return json;
}

Status CheckSyncUpdate(const SyncUpdate& update) {
  if (!update.interval_s) return OkStatus();
  return CheckInterval(*update.interval_s, "a sync");
}

Status CheckSyncFiles(const std::vector<SyncFile>& files) {
  for (const SyncFile& file : files) {
    if (file.path.empty()) return InvalidArgumentError("a sync file record needs a path");
    if (!IsSyncFileState(file.state)) {
      return InvalidArgumentError(
          fmt::format("state of sync file '{}' must be 'pending', 'ingested' or 'failed', not '{}'",
                      file.path, file.state));
    }
    if (file.size < 0 || file.attempts < 0) {
      return InvalidArgumentError(
          fmt::format("size and attempts of sync file '{}' must be >= 0, not {} and {}", file.path,
                      file.size, file.attempts));
    }
  }
  return OkStatus();
}

Result<Sync> InsertSyncRow(SqliteDatabase& db, const Sync& sync, const SyncJson& json) {
  Sync created = sync;
  // The bucket check and the insert share one transaction, so a concurrent DeleteBucket cannot
  // slip between them.
  ARGUS_ASSIGN_OR_RETURN(auto txn, Transaction::BeginImmediate(db, "create sync"));
  ARGUS_ASSIGN_OR_RETURN(std::optional<BucketRef> bucket,
                         FindBucketRefById(db, sync.bucket_id, "create sync (find bucket)"));
  if (!bucket) {
    return NotFoundError(fmt::format("bucket with id '{}' does not exist", sync.bucket_id));
  }
  if (sync.namespace_id.empty()) {
    created.namespace_id = bucket->namespace_id;
  } else if (sync.namespace_id != bucket->namespace_id) {
    return InvalidArgumentError(
        fmt::format("sync '{}' names namespace '{}' but bucket '{}' is in namespace '{}'", sync.id,
                    sync.namespace_id, bucket->name, bucket->namespace_id));
  }
  {
    ARGUS_ASSIGN_OR_RETURN(auto stmt, db.Prepare(kInsertSync, "create sync"));
    stmt->BindText(1, created.id);
    stmt->BindText(2, created.namespace_id);
    stmt->BindText(3, created.bucket_id);
    stmt->BindText(4, created.source_type);
    stmt->BindText(5, json.source);
    stmt->BindText(6, created.key_prefix);
    stmt->BindText(7, json.metadata);
    stmt->BindDouble(8, created.interval_s);
    stmt->BindInt64(9, created.paused ? 1 : 0);
    stmt->BindText(10, created.cursor);
    stmt->BindText(11, created.run_task_id);
    stmt->BindInt64(12, created.next_run_at);
    stmt->BindInt64(13, created.last_run_at);
    stmt->BindInt64(14, created.last_success_at);
    stmt->BindText(15, created.last_error);
    stmt->BindInt64(16, created.created_at);
    stmt->BindInt64(17, created.updated_at);
    Status status = stmt->Run();
    if (status.code() == StatusCode::kAlreadyExists) {
      return AlreadyExistsError(fmt::format("a sync with id '{}' already exists", created.id));
    }
    ARGUS_RETURN_IF_ERROR(status);
  }
  ARGUS_RETURN_IF_ERROR(txn.Commit());
  return created;
}

Result<Sync> FindSyncRow(SqliteDatabase& db, std::string_view namespace_id, std::string_view id) {
  ARGUS_ASSIGN_OR_RETURN(auto stmt, db.Prepare(kSelectSync, "get sync"));
  stmt->BindText(1, id);
  stmt->BindText(2, namespace_id);
  ARGUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
  if (!row) return SyncNotFound(id);
  return ReadSync(*stmt, db.path());
}

Result<Page<Sync>> ListSyncRows(SqliteDatabase& db, std::string_view bucket_id,
                                const PageRequest& page) {
  const bool all = bucket_id.empty();
  ARGUS_ASSIGN_OR_RETURN(auto stmt,
                         db.Prepare(all ? kListAllSyncs : kListBucketSyncs, "list syncs"));
  int index = 1;
  if (!all) stmt->BindText(index++, bucket_id);
  stmt->BindText(index++, page.after_id);
  stmt->BindInt64(index++, page.limit + 1);
  return ReadPage<Sync>(*stmt, page.limit,
                        [&db](const Statement& row) { return ReadSync(row, db.path()); });
}

Result<Sync> UpdateSyncRow(SqliteDatabase& db, std::string_view id, const SyncUpdate& update,
                           TimestampUs now) {
  ARGUS_ASSIGN_OR_RETURN(auto stmt, db.Prepare(kUpdateSync, "update sync"));
  if (update.paused) {
    stmt->BindInt64(1, *update.paused ? 1 : 0);
  } else {
    stmt->BindNull(1);
  }
  if (update.interval_s) {
    stmt->BindDouble(2, *update.interval_s);
  } else {
    stmt->BindNull(2);
  }
  stmt->BindOptionalText(3, update.cursor);
  stmt->BindOptionalText(4, update.run_task_id);
  stmt->BindOptionalInt64(5, update.next_run_at);
  stmt->BindOptionalInt64(6, update.last_run_at);
  stmt->BindOptionalInt64(7, update.last_success_at);
  stmt->BindOptionalText(8, update.last_error);
  stmt->BindInt64(9, now);
  stmt->BindText(10, id);
  ARGUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
  if (!row) return SyncNotFound(id);
  Result<Sync> sync = ReadSync(*stmt, db.path());
  // Step to the end so the statement completes before the caller releases the write lock.
  ARGUS_RETURN_IF_ERROR(stmt->Run());
  return sync;
}

Status DeleteSyncRow(SqliteDatabase& db, std::string_view namespace_id, std::string_view id) {
  ARGUS_ASSIGN_OR_RETURN(auto stmt, db.Prepare(kDeleteSync, "delete sync"));
  stmt->BindText(1, id);
  stmt->BindText(2, namespace_id);
  ARGUS_RETURN_IF_ERROR(stmt->Run());
  // Changes() counts the syncs row only, not the file records the cascade removed.
  if (stmt->Changes() == 0) return SyncNotFound(id);
  return OkStatus();
}

Result<std::vector<SyncFile>> FindSyncFileRows(SqliteDatabase& db, std::string_view sync_id,
                                               const std::vector<std::string>& paths) {
  if (paths.size() > static_cast<size_t>(kMaxSyncFilePaths)) {
    return InvalidArgumentError(fmt::format(
        "at most {} sync file paths can be read at once, not {}", kMaxSyncFilePaths, paths.size()));
  }
  std::vector<SyncFile> files;
  if (paths.empty()) return files;
  const int size = PathListSize(paths.size());
  ARGUS_ASSIGN_OR_RETURN(auto stmt,
                         db.Prepare(PathListSql(kSelectSyncFilesHead, size), "get sync files"));
  stmt->BindText(1, sync_id);
  BindPathList(*stmt, paths, 0, size);
  for (;;) {
    ARGUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    files.push_back(ReadSyncFile(*stmt));
  }
  return files;
}

Status PutSyncFileRows(SqliteDatabase& db, std::string_view sync_id,
                       const std::vector<SyncFile>& files) {
  // The sync check and the upserts share one transaction: all the records are written, or none.
  ARGUS_ASSIGN_OR_RETURN(auto txn, Transaction::BeginImmediate(db, "put sync files"));
  {
    ARGUS_ASSIGN_OR_RETURN(auto exists, db.Prepare(kSyncExists, "put sync files (find sync)"));
    exists->BindText(1, sync_id);
    ARGUS_ASSIGN_OR_RETURN(bool found, exists->Step());
    if (!found) return SyncNotFound(sync_id);
  }
  ARGUS_ASSIGN_OR_RETURN(auto stmt, db.Prepare(kUpsertSyncFile, "put sync files"));
  for (const SyncFile& file : files) {
    stmt->Reset();
    stmt->BindText(1, sync_id);
    stmt->BindText(2, file.path);
    stmt->BindText(3, file.version);
    stmt->BindInt64(4, file.size);
    stmt->BindText(5, file.state);
    stmt->BindText(6, file.error);
    stmt->BindInt64(7, file.attempts);
    stmt->BindText(8, file.object_key);
    stmt->BindInt64(9, file.updated_at);
    ARGUS_RETURN_IF_ERROR(stmt->Run());
  }
  return txn.Commit();
}

Result<Page<SyncFile>> ListSyncFileRows(SqliteDatabase& db, std::string_view sync_id,
                                        std::string_view state, std::string_view after_path,
                                        int limit) {
  if (limit < 1 || limit > 1000) {
    return InvalidArgumentError(
        fmt::format("sync file list limit must be between 1 and 1000, not {}", limit));
  }
  const bool any_state = state.empty();
  ARGUS_ASSIGN_OR_RETURN(
      auto stmt, db.Prepare(any_state ? kListSyncFiles : kListSyncFilesInState, "list sync files"));
  int index = 1;
  stmt->BindText(index++, sync_id);
  if (!any_state) stmt->BindText(index++, state);
  stmt->BindText(index++, after_path);
  stmt->BindInt64(index++, limit + 1);
  // As ReadPage, with the path as the cursor: the extra row only says that another page follows.
  Page<SyncFile> page;
  for (;;) {
    ARGUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    if (static_cast<int>(page.items.size()) == limit) {
      page.next_after_id = page.items.back().path;
      break;
    }
    page.items.push_back(ReadSyncFile(*stmt));
  }
  return page;
}

Result<SyncCounts> CountSyncFileRows(SqliteDatabase& db, std::string_view sync_id) {
  ARGUS_ASSIGN_OR_RETURN(auto stmt, db.Prepare(kCountSyncFiles, "count sync files"));
  stmt->BindText(1, sync_id);
  SyncCounts counts;
  for (;;) {
    ARGUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    const std::string state = stmt->ColumnText(0);
    const int64_t count = stmt->ColumnInt64(1);
    counts.discovered += count;
    if (state == "ingested") {
      counts.ingested = count;
    } else if (state == "failed") {
      counts.failed = count;
    } else if (state == "pending") {
      counts.pending = count;
    }
  }
  return counts;
}

Result<int64_t> RetrySyncFileRows(SqliteDatabase& db, std::string_view sync_id,
                                  const std::vector<std::string>& paths) {
  if (paths.empty()) {
    ARGUS_ASSIGN_OR_RETURN(auto stmt, db.Prepare(kRetryAllSyncFiles, "retry sync files"));
    stmt->BindText(1, sync_id);
    ARGUS_RETURN_IF_ERROR(stmt->Run());
    return stmt->Changes();
  }
  // Any number of paths, kMaxSyncFilePaths per statement, in one transaction.
  ARGUS_ASSIGN_OR_RETURN(auto txn, Transaction::BeginImmediate(db, "retry sync files"));
  const int size = PathListSize(paths.size());
  ARGUS_ASSIGN_OR_RETURN(auto stmt,
                         db.Prepare(PathListSql(kRetrySyncFilesHead, size), "retry sync files"));
  int64_t changed = 0;
  for (size_t begin = 0; begin < paths.size(); begin += size) {
    stmt->Reset();
    stmt->BindText(1, sync_id);
    BindPathList(*stmt, paths, begin, size);
    ARGUS_RETURN_IF_ERROR(stmt->Run());
    changed += stmt->Changes();
  }
  ARGUS_RETURN_IF_ERROR(txn.Commit());
  return changed;
}

}  // namespace argus::store::sqlite
