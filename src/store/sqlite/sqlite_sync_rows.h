#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "store/metadata_store.h"
#include "store/sqlite/sqlite_database.h"

// The Syncs section of SqliteMetadataStore on metadata.db's `syncs` and `sync_files` tables
// (schema v4): how a Sync and its SyncFiles map onto rows, with the contract's checks and errors
// (src/store/metadata_store.h), so that the store's own methods only pick the connection. Reads
// run on the connection given; a write runs on the write connection, under the store's write lock,
// as one statement or in a transaction of its own (never inside the caller's). The Check and
// Prepare functions touch no database: the store calls them before it takes the write lock.

namespace argus::store::sqlite {

/// The most paths GetSyncFiles takes in one call.
inline constexpr int kMaxSyncFilePaths = 1000;

/// A sync's JSON columns, from PrepareSync.
struct SyncJson {
  std::string source;
  std::string metadata;
};

/// The JSON columns of `sync`. InvalidArgument for an interval_s below 1 (or not finite), or JSON
/// that is not valid UTF-8.
Result<SyncJson> PrepareSync(const Sync& sync);
/// InvalidArgument for an interval_s below 1 (or not finite).
Status CheckSyncUpdate(const SyncUpdate& update);
/// InvalidArgument for an empty path, a state other than "pending", "ingested" and "failed", or a
/// negative size or attempts count.
Status CheckSyncFiles(const std::vector<SyncFile>& files);

/// CreateSync with `json` from PrepareSync: checks the bucket and inserts the row in one write
/// transaction. An empty namespace_id is filled in from the bucket (as PutObject does).
/// AlreadyExists when sync.id is taken.
Result<Sync> InsertSyncRow(SqliteDatabase& db, const Sync& sync, const SyncJson& json);

/// GetSync: one read by primary key.
Result<Sync> FindSyncRow(SqliteDatabase& db, std::string_view namespace_id, std::string_view id);

/// ListSyncs, keyset by id on syncs_by_bucket (or on the primary key for every bucket).
/// REQUIRES: CheckPageRequest(page) is ok.
Result<Page<Sync>> ListSyncRows(SqliteDatabase& db, std::string_view bucket_id,
                                const PageRequest& page);

/// UpdateSync, as one statement. REQUIRES: CheckSyncUpdate(update) is ok.
Result<Sync> UpdateSyncRow(SqliteDatabase& db, std::string_view id, const SyncUpdate& update,
                           TimestampUs now);

/// DeleteSync, as one statement (its file records go by cascade). An empty namespace_id matches
/// any namespace, as for GetSync.
Status DeleteSyncRow(SqliteDatabase& db, std::string_view namespace_id, std::string_view id);

/// GetSyncFiles, as one statement (so one snapshot). Paths are bound as parameters, so any bytes
/// are found. A sync that does not exist has no records (an empty result, not NotFound).
Result<std::vector<SyncFile>> FindSyncFileRows(SqliteDatabase& db, std::string_view sync_id,
                                               const std::vector<std::string>& paths);

/// PutSyncFiles: checks the sync and upserts every record in one write transaction (a path given
/// twice keeps its last record). REQUIRES: CheckSyncFiles(files) is ok.
Status PutSyncFileRows(SqliteDatabase& db, std::string_view sync_id,
                       const std::vector<SyncFile>& files);

/// ListSyncFiles on the primary key (no state) or on sync_files_by_state. A sync that does not
/// exist, or a state no record has, lists nothing.
Result<Page<SyncFile>> ListSyncFileRows(SqliteDatabase& db, std::string_view sync_id,
                                        std::string_view state, std::string_view after_path,
                                        int limit);

/// CountSyncFiles, from sync_files_by_state alone. Zeros for a sync that does not exist.
Result<SyncCounts> CountSyncFileRows(SqliteDatabase& db, std::string_view sync_id);

/// RetrySyncFiles: one statement for all failed records, else one write transaction over the
/// paths. Only the state changes (error, attempts and updated_at stay). 0 for a sync that does
/// not exist.
Result<int64_t> RetrySyncFileRows(SqliteDatabase& db, std::string_view sync_id,
                                  const std::vector<std::string>& paths);

}  // namespace argus::store::sqlite
