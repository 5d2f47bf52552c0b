#pragma once

#include <string>

#include "core/clock.h"
#include "core/result.h"
#include "store/sqlite/sqlite_database.h"

namespace argus::store::sqlite {

/// Brings the data of older argus versions into metadata.db: before metadata.db version 6 the
/// task queue and its events lived in `<data_dir>/tasks.db`, before version 7 the webhooks in
/// `<data_dir>/webhooks.db`. Each file found is first brought to its own last schema version,
/// then copied in one transaction of `db` (event seqs, task ids, delivery ids and the dispatch
/// cursor unchanged, so clients' resume cursors stay valid) together with a marker in
/// system_values, and finally renamed to `<name>.imported`. A crash before the rename is
/// harmless: the marker makes the next start only rename the file.
///
/// REQUIRES: `db` is migrated to the current schema and no transaction is open on it.
/// Errors: those of SQLite (the message names the file); nothing is half-imported.
Status ImportLegacyFiles(SqliteDatabase& db, const std::string& data_dir,
                         const SqliteOptions& options, TimestampUs now);

}  // namespace argus::store::sqlite
