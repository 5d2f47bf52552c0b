#include "store/sqlite/sqlite_event_rows.h"

#include <string>

#include "store/sqlite/multi_row_sql.h"

namespace argus::store::sqlite {
namespace {

// 6 parameters a row, far below SQLite's limit at the largest chunk.
const std::string& InsertEventsSql(size_t rows) {
  return SqlForChunk(rows, [](size_t n) {
    return "INSERT INTO events(type, namespace_id, subject_id, queue, data, created_at) VALUES " +
           ParameterRows(n, 6);
  });
}

}  // namespace

Result<int64_t> AppendEvent(SqliteDatabase& db, std::string_view type,
                            std::string_view namespace_id, std::string_view subject_id,
                            std::string_view queue, std::string_view data_json, TimestampUs at) {
  // seq is the rowid: read back with last_insert_rowid, as RETURNING costs a temporary table
  // and a statement journal per row.
  ARGUS_ASSIGN_OR_RETURN(auto stmt, db.Prepare("INSERT INTO events(type, namespace_id, subject_id, "
                                               "queue, data, created_at) VALUES (?, ?, ?, ?, ?, "
                                               "?)",
                                               "record event"));
  stmt->BindText(1, type);
  stmt->BindText(2, namespace_id);
  stmt->BindText(3, subject_id);
  stmt->BindText(4, queue);
  stmt->BindText(5, data_json);
  stmt->BindInt64(6, at);
  ARGUS_RETURN_IF_ERROR(stmt->Run());
  const int64_t seq = stmt->LastInsertRowid();
  db.uncommitted_events().push_back(Event{.seq = seq,
                                          .type = std::string(type),
                                          .namespace_id = std::string(namespace_id),
                                          .subject_id = std::string(subject_id),
                                          .queue = std::string(queue),
                                          .data_json = std::string(data_json),
                                          .created_at = at});
  return seq;
}

Status AppendEvents(SqliteDatabase& db, const std::vector<EventRow>& rows) {
  std::vector<Event>& published = db.uncommitted_events();
  published.reserve(published.size() + rows.size());
  size_t next = 0;
  while (next < rows.size()) {
    const size_t chunk = ChunkSize(rows.size() - next);
    ARGUS_ASSIGN_OR_RETURN(auto stmt, db.Prepare(InsertEventsSql(chunk), "record events"));
    for (size_t r = 0; r < chunk; ++r) {
      const EventRow& row = rows[next + r];
      const int base = static_cast<int>(r) * 6;
      stmt->BindText(base + 1, row.type);
      stmt->BindText(base + 2, row.namespace_id);
      stmt->BindText(base + 3, row.subject_id);
      stmt->BindText(base + 4, row.queue);
      stmt->BindText(base + 5, row.data_json);
      stmt->BindInt64(base + 6, row.at);
    }
    ARGUS_RETURN_IF_ERROR(stmt->Run());
    // One writer, AUTOINCREMENT: the rows of one INSERT take consecutive seqs in VALUES order.
    const int64_t first = stmt->LastInsertRowid() - static_cast<int64_t>(chunk) + 1;
    for (size_t r = 0; r < chunk; ++r) {
      const EventRow& row = rows[next + r];
      published.push_back(Event{.seq = first + static_cast<int64_t>(r),
                                .type = std::string(row.type),
                                .namespace_id = std::string(row.namespace_id),
                                .subject_id = std::string(row.subject_id),
                                .queue = std::string(row.queue),
                                .data_json = std::string(row.data_json),
                                .created_at = row.at});
    }
    next += chunk;
  }
  return OkStatus();
}

Result<std::vector<Event>> ReadEventRows(SqliteDatabase& db, int64_t after_seq, int limit) {
  ARGUS_ASSIGN_OR_RETURN(auto stmt, db.Prepare("SELECT seq, type, namespace_id, subject_id, queue, "
                                               "data, created_at FROM events WHERE seq > ? "
                                               "ORDER BY seq LIMIT ?",
                                               "read events"));
  stmt->BindInt64(1, after_seq);
  stmt->BindInt64(2, limit);
  std::vector<Event> events;
  for (;;) {
    ARGUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) return events;
    events.push_back(Event{.seq = stmt->ColumnInt64(0),
                           .type = stmt->ColumnText(1),
                           .namespace_id = stmt->ColumnText(2),
                           .subject_id = stmt->ColumnText(3),
                           .queue = stmt->ColumnText(4),
                           .data_json = stmt->ColumnText(5),
                           .created_at = stmt->ColumnInt64(6)});
  }
}

Result<int64_t> LastEventSeq(SqliteDatabase& db) {
  // sqlite_sequence keeps the highest AUTOINCREMENT value ever issued, which MAX(seq) would
  // forget once a purge deleted the newest events.
  ARGUS_ASSIGN_OR_RETURN(auto stmt, db.Prepare("SELECT COALESCE((SELECT seq FROM sqlite_sequence "
                                               "WHERE name = 'events'), 0)",
                                               "read last event seq"));
  ARGUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
  return row ? stmt->ColumnInt64(0) : 0;
}

Result<int64_t> PurgeEventRows(SqliteDatabase& db, TimestampUs before) {
  ARGUS_ASSIGN_OR_RETURN(auto stmt, db.Prepare("DELETE FROM events INDEXED BY events_by_time "
                                               "WHERE created_at < ?",
                                               "purge events"));
  stmt->BindInt64(1, before);
  ARGUS_RETURN_IF_ERROR(stmt->Run());
  return stmt->Changes();
}

}  // namespace argus::store::sqlite
