#pragma once

#include <memory>

#include "store/event_log.h"
#include "store/sqlite/store_file.h"

namespace argus::store::sqlite {

/// EventLog over the `events` table of metadata.db (SqliteStoreFile), which the other SQLite
/// stores append to in their own transactions. Append runs as one write of the file's group
/// commit; Read and LastSeq use its read-only pool. Thread-safe.
class SqliteEventLog final : public EventLog {
 public:
  static constexpr int kMaxReadLimit = 10000;

  /// Opens (or shares) `<args.data_dir>/metadata.db`; errors as SqliteStoreFile::Open.
  static Result<std::unique_ptr<EventLog>> Create(const StoreArgs& args);

  Result<int64_t> Append(const NewEvent& event) override;
  Result<std::vector<Event>> Read(int64_t after_seq, int limit) override;
  Result<int64_t> LastSeq() override;
  Result<int64_t> Purge(TimestampUs before) override;

 private:
  explicit SqliteEventLog(std::shared_ptr<SqliteStoreFile> file) : file_(std::move(file)) {}
  const std::shared_ptr<SqliteStoreFile> file_;
};

}  // namespace argus::store::sqlite
