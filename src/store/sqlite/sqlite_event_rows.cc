#include "store/sqlite/sqlite_event_rows.h"

namespace argus::store::sqlite {

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
