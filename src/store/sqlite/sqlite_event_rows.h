#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "store/event_log.h"
#include "store/sqlite/sqlite_database.h"

// Row-level access to the `events` table (the outbox every SQLite store appends to in its own
// transactions). Each function runs on the connection it is given, inside whatever transaction
// the caller holds.

namespace argus::store::sqlite {

/// Appends an event row and returns its seq. On the writer connection the event is also kept in
/// db.uncommitted_events(), so the EventBus hears of it once the transaction commits.
Result<int64_t> AppendEvent(SqliteDatabase& db, std::string_view type,
                            std::string_view namespace_id, std::string_view subject_id,
                            std::string_view queue, std::string_view data_json, TimestampUs at);

/// One event row for AppendEvents; the views must stay valid for the call.
struct EventRow {
  std::string_view type;
  std::string_view namespace_id;
  std::string_view subject_id;
  std::string_view queue;
  std::string_view data_json;
  TimestampUs at = 0;
};

/// Appends the rows in order (their seqs increase in that order), as AppendEvent does one by
/// one, but with multi-row INSERTs: the per-statement costs (AUTOINCREMENT bookkeeping, the
/// statement's start and end) are paid once per chunk instead of once per event.
Status AppendEvents(SqliteDatabase& db, const std::vector<EventRow>& rows);

/// Events with seq > after_seq, oldest first, at most `limit`.
Result<std::vector<Event>> ReadEventRows(SqliteDatabase& db, int64_t after_seq, int limit);
/// The highest seq ever issued (0 when none): events are never renumbered, even after a purge.
Result<int64_t> LastEventSeq(SqliteDatabase& db);
/// Deletes events created before `before`; returns how many.
Result<int64_t> PurgeEventRows(SqliteDatabase& db, TimestampUs before);

}  // namespace argus::store::sqlite
