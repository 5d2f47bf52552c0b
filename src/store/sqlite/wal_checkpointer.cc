#include "store/sqlite/wal_checkpointer.h"

#include "core/log.h"
#include "core/thread_name.h"

namespace argus::store::sqlite {

Result<std::unique_ptr<WalCheckpointer>> WalCheckpointer::Start(
    const std::string& path, const SqliteOptions& options, SqliteDatabase& writer,
    std::chrono::milliseconds interval) {
  // The writer still checkpoints, rarely (every 4000 pages) and cheaply: by then this thread has
  // copied nearly everything, and the writer's own checkpoint is what lets the WAL start over
  // (cut back to 64 MiB) under a steady stream of commits.
  ARGUS_RETURN_IF_ERROR(
      writer.Exec("PRAGMA wal_autocheckpoint=4000; PRAGMA journal_size_limit=67108864",
                  "hand WAL checkpoints to a background thread"));
  SqliteOptions own = options;
  own.query_only = false;
  ARGUS_ASSIGN_OR_RETURN(auto db, SqliteDatabase::Open(path, own));
  return std::unique_ptr<WalCheckpointer>(new WalCheckpointer(std::move(db), interval));
}

WalCheckpointer::WalCheckpointer(std::unique_ptr<SqliteDatabase> db,
                                 std::chrono::milliseconds interval)
    : db_(std::move(db)), interval_(interval) {
  thread_ = std::thread([this] {
    SetThreadName("argus-ckpt");
    Run();
  });
}

WalCheckpointer::~WalCheckpointer() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

WalCheckpointer::Progress WalCheckpointer::ProgressForTest() const {
  std::lock_guard lock(mu_);
  return progress_;
}

void WalCheckpointer::Run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, interval_, [this] { return stopping_; });
    lock.unlock();
    int wal_pages = 0, done = 0;
    Status s = db_->Checkpoint(/*passive=*/true, &wal_pages, &done);
    if (!s.ok() && s.code() != StatusCode::kUnavailable) {
      log::Warn("WAL checkpoint failed (will retry)", {{"error", s.ToString()}});
    }
    lock.lock();
    ++progress_.runs;
    if (s.ok()) progress_ = {progress_.runs, wal_pages, done};
  }
}

}  // namespace argus::store::sqlite
