#include "store/sqlite/group_commit_writer.h"

#include <exception>
#include <future>
#include <utility>

#include "core/thread_name.h"

namespace argus::store::sqlite {

struct GroupCommitWriter::Pending {
  Operation op;
  std::promise<Status> done;
};

GroupCommitWriter::GroupCommitWriter(std::unique_ptr<SqliteDatabase> db, RollbackHook on_rollback,
                                     CommitHook on_commit, std::string thread_name)
    : db_(std::move(db)),
      on_rollback_(std::move(on_rollback)),
      on_commit_(std::move(on_commit)),
      thread_([this, name = std::move(thread_name)] {
        SetThreadName(name);
        Loop();
      }) {}

GroupCommitWriter::~GroupCommitWriter() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  work_.notify_one();
  thread_.join();
}

Status GroupCommitWriter::Run(Operation op) {
  Pending pending{std::move(op), {}};
  std::future<Status> done = pending.done.get_future();
  {
    std::lock_guard lock(mu_);
    queue_.push_back(&pending);
    // Notified under the lock: once the writer can see the operation, this call touches no
    // member any more, so the destructor may drain the queue and go while we wait below.
    work_.notify_one();
  }
  // `pending` stays alive until the writer has set the promise, which is its last use of it.
  return done.get();
}

size_t GroupCommitWriter::QueueLengthForTest() {
  std::lock_guard lock(mu_);
  return queue_.size();
}

void GroupCommitWriter::Loop() {
  std::vector<Pending*> batch;
  for (;;) {
    batch.clear();
    {
      std::unique_lock lock(mu_);
      work_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      // Stopping still drains the queue: every caller waiting in Run() gets its answer.
      if (queue_.empty()) return;
      while (!queue_.empty() && batch.size() < kMaxBatch) {
        batch.push_back(queue_.front());
        queue_.pop_front();
      }
    }
    RunBatch(batch);
  }
}

void GroupCommitWriter::RunBatch(const std::vector<Pending*>& batch) {
  std::vector<Status> results(batch.size());
  Status txn_status = RunInTransaction(batch, results);
  bool any_failed = !txn_status.ok();
  for (Status& result : results) {
    if (!result.ok()) {
      any_failed = true;
    } else if (!txn_status.ok()) {
      // The operation itself succeeded but its changes were rolled back with the transaction.
      result = txn_status;
    }
  }
  std::vector<Event>& events = db_->uncommitted_events();
  if (txn_status.ok()) {
    commits_.fetch_add(1);
    operations_.fetch_add(static_cast<int64_t>(batch.size()));
    // Published before the callers wake: a caller that saw its write succeed and then waits for
    // its event (Prefer: wait) cannot miss it.
    if (!events.empty() && on_commit_) on_commit_(std::move(events));
  }
  events.clear();
  if (any_failed && on_rollback_) on_rollback_();
  for (size_t i = 0; i < batch.size(); ++i) batch[i]->done.set_value(std::move(results[i]));
}

namespace {

Status RunGuarded(const GroupCommitWriter::Operation& op, SqliteDatabase& db) {
  // The top of the writer thread: nothing may escape, or every waiting caller would hang.
  try {
    return op(db);
  } catch (const std::exception& e) {
    return InternalError(std::string("database write failed with an exception: ") + e.what());
  } catch (...) {
    return InternalError("database write failed with an unknown exception");
  }
}

Status RunStatement(SqliteDatabase& db, std::string_view sql) {
  ARGUS_ASSIGN_OR_RETURN(auto stmt, db.Prepare(sql, sql));
  return stmt->Run();
}

}  // namespace

Status GroupCommitWriter::RunInTransaction(const std::vector<Pending*>& batch,
                                           std::vector<Status>& results) {
  ARGUS_ASSIGN_OR_RETURN(auto txn, Transaction::BeginImmediate(*db_, "begin group commit"));
  for (size_t i = 0; i < batch.size(); ++i) {
    ARGUS_RETURN_IF_ERROR(RunStatement(*db_, "SAVEPOINT op"));
    const size_t events_mark = db_->uncommitted_events().size();
    results[i] = RunGuarded(batch[i]->op, *db_);
    if (!results[i].ok()) {
      db_->uncommitted_events().resize(events_mark);
      // A failure of ROLLBACK TO means SQLite has already rolled back the whole transaction
      // (e.g. after an I/O error): the batch fails as a whole.
      ARGUS_RETURN_IF_ERROR(RunStatement(*db_, "ROLLBACK TO op"));
    }
    ARGUS_RETURN_IF_ERROR(RunStatement(*db_, "RELEASE op"));
  }
  return txn.Commit();
}

}  // namespace argus::store::sqlite
