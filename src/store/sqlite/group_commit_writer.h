#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/result.h"
#include "store/sqlite/sqlite_database.h"

namespace argus::store::sqlite {

/// Group commit: one connection, one thread, many callers' writes per transaction.
///
/// Callers hand Run() an operation (a closure that runs its SQL on the writer connection and
/// fills its own result). The writer thread takes up to kMaxBatch queued operations, runs them
/// inside ONE transaction, each inside its own SAVEPOINT so that a failing operation rolls back
/// only its own changes, commits once, and then wakes every caller of the batch. Under load the
/// cost of a commit (the WAL append and, with synchronous=FULL, the fsync) is shared by the whole
/// batch; alone, an operation is committed as soon as the thread picks it up (no waiting for
/// company).
///
/// Thread-safe: Run() may be called from any thread except from inside an operation (that would
/// wait for itself). The destructor finishes every queued operation, then stops the thread;
/// REQUIRES: no Run() call starts once destruction has begun.
class GroupCommitWriter {
 public:
  /// Runs on the writer thread, inside the transaction. Must not throw (a thrown exception is
  /// caught and becomes Internal, but the operation's in-memory side effects may be half done).
  using Operation = std::function<Status(SqliteDatabase&)>;
  /// Runs on the writer thread after a batch in which some operation failed or whose
  /// transaction failed: owners of caches derived from the database drop them there.
  using RollbackHook = std::function<void()>;
  /// Runs on the writer thread after each committed transaction that appended events (see
  /// SqliteDatabase::uncommitted_events), with those events in seq order.
  using CommitHook = std::function<void(std::vector<Event>)>;

  static constexpr size_t kMaxBatch = 512;

  /// Takes ownership of `db` and starts the writer thread, named `thread_name` (at most 15
  /// characters).
  GroupCommitWriter(std::unique_ptr<SqliteDatabase> db, RollbackHook on_rollback,
                    CommitHook on_commit = nullptr, std::string thread_name = "argus-writer");
  ~GroupCommitWriter();
  GroupCommitWriter(const GroupCommitWriter&) = delete;
  GroupCommitWriter& operator=(const GroupCommitWriter&) = delete;

  /// Runs `op` in the next group transaction and returns once that transaction has ended.
  /// OK: the operation's changes are committed (durable as configured). Otherwise the
  /// operation's own error (its changes were rolled back; other operations are unaffected), or
  /// the transaction's error when BEGIN, a savepoint or COMMIT failed (nothing of the operation
  /// persisted; e.g. Unavailable when another process holds the write lock).
  Status Run(Operation op);

  /// Transactions committed so far, and the operations they carried (exported as metrics).
  int64_t Commits() const { return commits_.load(); }
  int64_t Operations() const { return operations_.load(); }

  /// Transactions committed so far.
  int64_t CommitCountForTest() const { return commits_.load(); }
  /// Operations that were part of a committed transaction so far.
  int64_t OperationCountForTest() const { return operations_.load(); }
  /// Operations queued and not yet taken by the writer thread.
  size_t QueueLengthForTest();

 private:
  struct Pending;

  void Loop();
  void RunBatch(const std::vector<Pending*>& batch);
  Status RunInTransaction(const std::vector<Pending*>& batch, std::vector<Status>& results);

  const std::unique_ptr<SqliteDatabase> db_;  // used only by the writer thread
  const RollbackHook on_rollback_;
  const CommitHook on_commit_;
  std::mutex mu_;
  std::condition_variable work_;
  std::deque<Pending*> queue_;  // guarded by mu_
  bool stopping_ = false;       // guarded by mu_
  std::atomic<int64_t> commits_{0};
  std::atomic<int64_t> operations_{0};
  std::thread thread_;  // last: started once everything above exists
};

}  // namespace argus::store::sqlite
