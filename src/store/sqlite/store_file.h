#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "core/result.h"
#include "store/metadata_store.h"
#include "store/sqlite/blob_pin_table.h"
#include "store/sqlite/connection_pool.h"
#include "store/sqlite/group_commit_writer.h"
#include "store/sqlite/migrations.h"
#include "store/sqlite/sqlite_database.h"
#include "store/sqlite/wal_checkpointer.h"
#include "store/store_registry.h"

namespace argus::store::sqlite {

/// `<data_dir>/metadata.db`: the one SQLite database of a data directory. Every SQLite store
/// (metadata, task queue, event log, webhooks) keeps its rows here, so a change and the event
/// that reports it commit in one transaction (ADR 0006).
///
/// One write connection behind a GroupCommitWriter, which every store's writes share (a task
/// completion, an object row and a webhook delivery may ride in the same commit), a pool of up
/// to kMaxReaders read-only connections (WAL: reads never wait for the writer), and a
/// WalCheckpointer. Committed events go to StoreArgs::event_bus. Durable once a write returns,
/// with the "metadata.sqlite.synchronous" / "metadata.sqlite.busy_timeout_ms" settings.
///
/// Stores opened in one process for the same directory share one instance: Open returns the
/// live one while any store holds it (the first opener's options and clock apply). One argus
/// process per directory. Thread-safe.
class SqliteStoreFile {
 public:
  static constexpr int kMaxReaders = 4;

  /// Opens or creates metadata.db, migrates it and imports the files of older versions
  /// (tasks.db, webhooks.db; see legacy_import.h). InvalidArgument for a bad "metadata.sqlite.*"
  /// setting or no data_dir; FailedPrecondition when data_dir is not a directory or the database
  /// was written by a newer argus; Unavailable when another process holds the write lock past the
  /// busy timeout; Internal when SQLite fails otherwise.
  static Result<std::shared_ptr<SqliteStoreFile>> Open(const StoreArgs& args);
  ~SqliteStoreFile();
  SqliteStoreFile(const SqliteStoreFile&) = delete;
  SqliteStoreFile& operator=(const SqliteStoreFile&) = delete;

  const std::string& path() const { return path_; }
  const Clock& clock() const { return *clock_; }
  GroupCommitWriter& writer() { return *writer_; }
  ConnectionPool& readers() { return readers_; }
  /// The blob pins and delete claims of this database (in memory: ADR 0007), shared by every
  /// store of the file; a pin holds the table, so it may outlive the file.
  const std::shared_ptr<BlobPinTable>& blob_pins() const { return blob_pins_; }

  /// Runs `hook` on the writer thread after every group transaction in which something rolled
  /// back: stores drop caches derived from the database there. Returns an id for
  /// RemoveRollbackHook, which its owner calls before it goes (the file may outlive it).
  int AddRollbackHook(std::function<void()> hook);
  /// Once it returns, the hook is not running and will not run again.
  void RemoveRollbackHook(int id);

 private:
  SqliteStoreFile(std::string path, const Clock* clock, SqliteOptions reader_options,
                  EventBus* bus);
  void RunRollbackHooks();

  const std::string path_;
  const Clock* const clock_;
  EventBus* const bus_;
  ConnectionPool readers_;
  const std::shared_ptr<BlobPinTable> blob_pins_ = std::make_shared<BlobPinTable>();
  std::mutex hooks_mu_;
  std::map<int, std::function<void()>> rollback_hooks_;  // GUARDED_BY(hooks_mu_)
  int next_hook_ = 0;                                    // GUARDED_BY(hooks_mu_)
  std::unique_ptr<WalCheckpointer> checkpointer_;
  std::unique_ptr<GroupCommitWriter> writer_;  // last: its thread stops before the rest goes
};

/// Runs `op` (SqliteDatabase& → Result<T>) as one write of the group commit and returns its
/// value: its changes are committed when the result is OK.
template <typename Op>
auto RunWrite(GroupCommitWriter& writer, Op&& op) -> std::invoke_result_t<Op&, SqliteDatabase&> {
  std::optional<std::invoke_result_t<Op&, SqliteDatabase&>> result;
  Status status = writer.Run([&](SqliteDatabase& db) -> Status {
    result.emplace(op(db));
    return result->ok() ? OkStatus() : result->status();
  });
  if (!status.ok()) return status;
  return std::move(*result);
}

/// InvalidArgument unless 1 <= page.limit <= 1000.
Status CheckPageRequest(const PageRequest& page);

/// Runs a keyset query whose LIMIT is bound to limit + 1: the extra row only says that another
/// page follows (next_after_id = the last kept item's id), and is dropped.
template <typename T, typename ReadRow>
Result<Page<T>> ReadPage(Statement& stmt, int limit, ReadRow read_row) {
  Page<T> page;
  for (;;) {
    ARGUS_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    if (static_cast<int>(page.items.size()) == limit) {
      page.next_after_id = page.items.back().id;
      break;
    }
    ARGUS_ASSIGN_OR_RETURN(T item, read_row(stmt));
    page.items.push_back(std::move(item));
  }
  return page;
}

}  // namespace argus::store::sqlite
