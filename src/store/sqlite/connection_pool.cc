#include "store/sqlite/connection_pool.h"

#include <utility>

namespace argus::store::sqlite {

ConnectionPool::Lease::Lease(Lease&& other) noexcept
    : pool_(std::exchange(other.pool_, nullptr)), db_(std::move(other.db_)) {}

ConnectionPool::Lease::~Lease() {
  if (pool_ != nullptr && db_ != nullptr) pool_->Release(std::move(db_));
}

ConnectionPool::ConnectionPool(std::string path, SqliteOptions options, int max_size)
    : path_(std::move(path)), options_(options), max_size_(max_size < 1 ? 1 : max_size) {}

Result<ConnectionPool::Lease> ConnectionPool::Acquire() {
  acquired_.fetch_add(1, std::memory_order_relaxed);
  {
    std::unique_lock lock(mu_);
    released_.wait(lock, [this] { return !idle_.empty() || open_ < max_size_; });
    if (!idle_.empty()) {
      std::unique_ptr<SqliteDatabase> db = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(db));
    }
    ++open_;  // reserve the slot, then open outside the lock: opening touches the disk
  }
  auto db = SqliteDatabase::Open(path_, options_);
  if (!db.ok()) {
    std::lock_guard lock(mu_);
    --open_;
    released_.notify_one();
    return db.status();
  }
  return Lease(this, std::move(db).value());
}

void ConnectionPool::Release(std::unique_ptr<SqliteDatabase> db) {
  {
    std::lock_guard lock(mu_);
    idle_.push_back(std::move(db));
  }
  released_.notify_one();
}

}  // namespace argus::store::sqlite
