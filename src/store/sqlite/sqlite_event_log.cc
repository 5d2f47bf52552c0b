#include "store/sqlite/sqlite_event_log.h"

#include <fmt/format.h>

#include "core/json.h"
#include "store/sqlite/sqlite_event_rows.h"

namespace argus::store::sqlite {

Result<std::unique_ptr<EventLog>> SqliteEventLog::Create(const StoreArgs& args) {
  ARGUS_ASSIGN_OR_RETURN(auto file, SqliteStoreFile::Open(args));
  return std::unique_ptr<EventLog>(new SqliteEventLog(std::move(file)));
}

Result<int64_t> SqliteEventLog::Append(const NewEvent& event) {
  if (event.type.empty() || event.type.find('.') == std::string::npos) {
    return InvalidArgumentError(
        fmt::format("event type '{}' is not of the form 'thing.change'", event.type));
  }
  static const JsonLimits kLimits{.max_depth = 1024, .max_string_bytes = SIZE_MAX};
  auto data = ParseJson(event.data_json, kLimits);
  if (!data.ok() || !data->is_object()) {
    return InvalidArgumentError(
        fmt::format("the data of a '{}' event must be a JSON object", event.type));
  }
  return RunWrite(file_->writer(), [&](SqliteDatabase& db) {
    return AppendEvent(db, event.type, event.namespace_id, event.subject_id, event.queue,
                       event.data_json, file_->clock().NowUs());
  });
}

Result<std::vector<Event>> SqliteEventLog::Read(int64_t after_seq, int limit) {
  if (limit < 1 || limit > kMaxReadLimit) {
    return InvalidArgumentError(
        fmt::format("event limit must be between 1 and {}, not {}", kMaxReadLimit, limit));
  }
  ARGUS_ASSIGN_OR_RETURN(auto db, file_->readers().Acquire());
  return ReadEventRows(*db, after_seq, limit);
}

Result<int64_t> SqliteEventLog::LastSeq() {
  ARGUS_ASSIGN_OR_RETURN(auto db, file_->readers().Acquire());
  return LastEventSeq(*db);
}

Result<int64_t> SqliteEventLog::Purge(TimestampUs before) {
  return RunWrite(file_->writer(), [&](SqliteDatabase& db) { return PurgeEventRows(db, before); });
}

}  // namespace argus::store::sqlite
