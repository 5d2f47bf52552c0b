#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/result.h"
#include "store/sqlite/sqlite_database.h"

namespace argus::store::sqlite {

/// Moves the WAL into the database file on a thread and connection of its own, so the single
/// writer's commits never stall on SQLite's automatic checkpoint (which copies up to thousands of
/// pages inside a commit). Passive checkpoints block neither the writer nor readers; durability is
/// unchanged (committed data is in the WAL either way).
///
/// Owns its thread and connection; Start disables automatic checkpoints on `writer`, so the
/// writer connection must stay the store's only writer. Thread-safe; stops in the destructor.
class WalCheckpointer {
 public:
  /// Opens a connection to `path` and starts checkpointing every `interval`.
  static Result<std::unique_ptr<WalCheckpointer>> Start(
      const std::string& path, const SqliteOptions& options, SqliteDatabase& writer,
      std::chrono::milliseconds interval = std::chrono::milliseconds(50));
  ~WalCheckpointer();

  struct Progress {
    int64_t runs = 0;      ///< checkpoints attempted
    int wal_pages = 0;     ///< WAL size at the last one
    int copied_pages = 0;  ///< of which were in the database file after it
  };
  Progress ProgressForTest() const;

 private:
  WalCheckpointer(std::unique_ptr<SqliteDatabase> db, std::chrono::milliseconds interval);
  void Run();

  std::unique_ptr<SqliteDatabase> db_;
  const std::chrono::milliseconds interval_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // GUARDED_BY(mu_)
  Progress progress_;      // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace argus::store::sqlite
