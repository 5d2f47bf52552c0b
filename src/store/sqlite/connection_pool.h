#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/result.h"
#include "store/sqlite/sqlite_database.h"

namespace argus::store::sqlite {

/// A bounded set of connections to one database file, opened lazily and reused (each keeps its
/// statement cache). Acquire() blocks while all `max_size` connections are leased.
/// Thread-safe. REQUIRES: the pool outlives every Lease it hands out.
class ConnectionPool {
 public:
  /// A connection held exclusively until the lease ends; then it returns to the pool. Move-only.
  class Lease {
   public:
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    SqliteDatabase& operator*() const { return *db_; }
    SqliteDatabase* operator->() const { return db_.get(); }

   private:
    friend class ConnectionPool;
    Lease(ConnectionPool* pool, std::unique_ptr<SqliteDatabase> db)
        : pool_(pool), db_(std::move(db)) {}
    ConnectionPool* pool_;
    std::unique_ptr<SqliteDatabase> db_;
  };

  /// REQUIRES: max_size >= 1.
  ConnectionPool(std::string path, SqliteOptions options, int max_size);

  /// An idle connection, a newly opened one while fewer than max_size exist, or else the next one
  /// released. Errors are those of SqliteDatabase::Open.
  Result<Lease> Acquire();
  /// Acquire calls so far: the reads made through this pool.
  int64_t Acquired() const { return acquired_.load(std::memory_order_relaxed); }

 private:
  void Release(std::unique_ptr<SqliteDatabase> db);

  const std::string path_;
  const SqliteOptions options_;
  const int max_size_;
  std::mutex mu_;
  std::condition_variable released_;
  std::vector<std::unique_ptr<SqliteDatabase>> idle_;  // guarded by mu_
  int open_ = 0;                                       // guarded by mu_: idle + leased
  std::atomic<int64_t> acquired_{0};
};

}  // namespace argus::store::sqlite
