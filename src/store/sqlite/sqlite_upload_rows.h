#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "store/metadata_store.h"
#include "store/sqlite/sqlite_database.h"

// Row-level access to metadata.db's `uploads` and `upload_parts` tables (schema v3) for
// SqliteMetadataStore: how an Upload and its parts map onto rows. No contract semantics live here
// (validation, which error a miss is): that is sqlite_metadata_store.cc. Each function runs on the
// connection it is given, as one statement (so atomically) unless the caller holds a transaction.
// An upload is addressed by (bucket id, upload id): a row of another bucket is absent.

namespace argus::store::sqlite {

/// Inserts `upload` as given, with `metadata_json` as its metadata column. AlreadyExists naming
/// upload.id when that id is taken.
Status InsertUploadRow(SqliteDatabase& db, const Upload& upload, std::string_view metadata_json);

/// The upload, or nullopt. Internal when its metadata is corrupt.
Result<std::optional<Upload>> FindUploadRow(SqliteDatabase& db, std::string_view bucket_id,
                                            std::string_view upload_id);

/// Inserts the part, or replaces the one with the same number. False (nothing written) when the
/// upload is absent.
Result<bool> UpsertUploadPartRow(SqliteDatabase& db, std::string_view bucket_id,
                                 std::string_view upload_id, const UploadPart& part);

/// The upload's parts in number order (empty when it has none), or nullopt when the upload is
/// absent; one read, so one snapshot.
Result<std::optional<std::vector<UploadPart>>> ListUploadPartRows(SqliteDatabase& db,
                                                                  std::string_view bucket_id,
                                                                  std::string_view upload_id);

/// Deletes the upload and (by cascade) its parts. False when it is absent.
Result<bool> DeleteUploadRow(SqliteDatabase& db, std::string_view bucket_id,
                             std::string_view upload_id);

/// Deletes up to `limit` uploads with expires_at < `now` (soonest expired first) and their parts;
/// returns how many uploads.
Result<int64_t> DeleteExpiredUploadRows(SqliteDatabase& db, TimestampUs now, int limit);

}  // namespace argus::store::sqlite
