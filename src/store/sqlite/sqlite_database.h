#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "store/event_log.h"

struct sqlite3;
struct sqlite3_stmt;

namespace argus::store::sqlite {

/// How a connection is opened. Every connection to one file should use the same options.
struct SqliteOptions {
  /// PRAGMA synchronous: NORMAL (false) survives a process crash in WAL mode; FULL (true) also
  /// survives power loss, at the cost of an fsync per commit.
  bool synchronous_full = false;
  /// How long a statement waits for a lock held by another connection before it fails with
  /// Unavailable. >= 0.
  int busy_timeout_ms = 5000;
  /// Refuses writes on this connection (PRAGMA query_only): for pooled reader connections.
  bool query_only = false;
  /// PRAGMA mmap_size: reads go through a shared memory map of up to this many bytes.
  int64_t mmap_bytes = int64_t{256} << 20;
  /// PRAGMA cache_size in KiB: this connection's page cache (grows only as pages are used).
  int64_t cache_kib = 32768;
};

/// Converts a SQLite result code (primary or extended) into a Status whose message names the
/// operation and the database file. SQLITE_BUSY / SQLITE_LOCKED → Unavailable (retry); a UNIQUE
/// or PRIMARY KEY constraint violation → AlreadyExists; anything else → Internal.
/// REQUIRES: `rc` is an error code (not SQLITE_OK, SQLITE_ROW or SQLITE_DONE).
Status SqliteError(int rc, std::string_view operation, std::string_view path,
                   std::string_view detail);

class SqliteDatabase;

/// One prepared statement. Parameters are 1-based, columns 0-based, as in the SQLite API.
/// A bind failure is remembered and returned by the next Step()/Run(), so call sites bind without
/// checking each call yet cannot lose the error. Not thread-safe: used by the thread that holds
/// its connection.
class Statement {
 public:
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  void BindText(int index, std::string_view value);
  void BindBlob(int index, std::string_view value);
  void BindInt64(int index, int64_t value);
  void BindDouble(int index, double value);
  void BindNull(int index);
  /// Binds NULL for nullopt.
  void BindOptionalInt64(int index, std::optional<int64_t> value);
  void BindOptionalText(int index, const std::optional<std::string>& value);
  /// Binds NULL for an empty string.
  void BindTextOrNull(int index, std::string_view value);

  /// Advances to the next row: true when a row is available, false when the statement is done.
  Result<bool> Step();
  /// Steps until done, ignoring any rows (for INSERT / UPDATE / DELETE and pragmas).
  Status Run();

  /// Column accessors for the current row. NULL reads as "" / 0.
  std::string ColumnText(int column) const;
  std::string ColumnBlob(int column) const;
  int64_t ColumnInt64(int column) const;
  double ColumnDouble(int column) const;
  bool ColumnIsNull(int column) const;
  /// nullopt for NULL.
  std::optional<int64_t> ColumnOptionalInt64(int column) const;

  /// Rows changed by the last completed INSERT / UPDATE / DELETE on this connection.
  int64_t Changes() const;
  /// Rowid of the last row inserted on this connection (an INTEGER PRIMARY KEY's value): after
  /// a one-row INSERT, that row's, without the cost of a RETURNING clause.
  int64_t LastInsertRowid() const;

  /// Clears bindings and rewinds, ready for the next use. Called when a ScopedStatement ends.
  void Reset();

 private:
  friend class SqliteDatabase;
  friend class ScopedStatement;
  Statement(SqliteDatabase* db, sqlite3_stmt* stmt, std::string operation);

  SqliteDatabase* db_;
  sqlite3_stmt* stmt_;
  std::string operation_;  ///< names the statement in error messages
  int bind_error_ = 0;     ///< first failed bind's result code, 0 when none
  bool in_use_ = false;
};

/// A statement checked out of a connection's cache for one use; resets it on destruction.
/// Move-only. REQUIRES: does not outlive its SqliteDatabase.
class ScopedStatement {
 public:
  ScopedStatement(ScopedStatement&& other) noexcept;
  ScopedStatement& operator=(ScopedStatement&&) = delete;
  ScopedStatement(const ScopedStatement&) = delete;
  ~ScopedStatement();

  Statement* operator->() const { return stmt_; }
  Statement& operator*() const { return *stmt_; }

 private:
  friend class SqliteDatabase;
  ScopedStatement(Statement* stmt, std::unique_ptr<Statement> owned);

  Statement* stmt_;
  std::unique_ptr<Statement> owned_;  ///< set when the cached copy was busy
};

/// One SQLite connection (RAII: closed on destruction). Opened in WAL journal mode with
/// foreign_keys=ON, the configured synchronous level and busy timeout.
/// Thread-compatible, not thread-safe: one thread at a time (callers hold a lock or a pool lease);
/// the connection is opened with SQLITE_OPEN_NOMUTEX for that reason.
class SqliteDatabase {
 public:
  /// Opens (creating if absent) the database file at `path`. Internal when the file cannot be
  /// opened or WAL mode cannot be enabled (e.g. a filesystem without shared memory); Unavailable
  /// when another process holds a lock past the busy timeout.
  static Result<std::unique_ptr<SqliteDatabase>> Open(const std::string& path,
                                                      const SqliteOptions& options);
  ~SqliteDatabase();
  SqliteDatabase(const SqliteDatabase&) = delete;
  SqliteDatabase& operator=(const SqliteDatabase&) = delete;

  const std::string& path() const { return path_; }

  /// Runs one or more statements that return no rows of interest (schema, pragmas).
  /// `operation` names the work in error messages, e.g. "apply migration 1".
  Status Exec(std::string_view sql, std::string_view operation);

  /// A prepared statement for `sql`, from the connection's cache (prepared once, reused).
  /// `operation` names the work in error messages, e.g. "create namespace".
  Result<ScopedStatement> Prepare(std::string_view sql, std::string_view operation);

  /// Runs a single-row, single-column query and returns its text ("" when there is no row).
  Result<std::string> QueryText(std::string_view sql, std::string_view operation);

  /// Copies committed WAL pages into the database file. Passive: blocks neither the writer nor
  /// readers. Restart (not passive): also waits (busy timeout) for the writer lock so the WAL
  /// starts over from its beginning at the next write, which bounds its size. `wal_pages` gets
  /// the WAL's size in pages, `done` how many of them are in the database now. Unavailable when
  /// another checkpoint is running or the lock was not granted in time.
  Status Checkpoint(bool passive, int* wal_pages, int* done);

  int CachedStatementCountForTest() const { return static_cast<int>(cache_.size()); }

  /// True while a transaction is open on this connection (BEGIN ... COMMIT).
  bool InTransaction() const;

  /// Events appended in the open transaction (sqlite_event_rows.h), to be published once it
  /// commits. Only the writer connection uses it: its GroupCommitWriter hands the list to the
  /// EventBus after COMMIT and truncates it when an operation or the transaction rolls back.
  std::vector<Event>& uncommitted_events() { return uncommitted_events_; }

 private:
  friend class Statement;
  sqlite3* handle() { return db_; }
  SqliteDatabase(std::string path, sqlite3* db) : path_(std::move(path)), db_(db) {}
  Status Configure(const SqliteOptions& options);
  Result<std::unique_ptr<Statement>> PrepareUncached(std::string_view sql,
                                                     std::string_view operation);
  Status Error(int rc, std::string_view operation) const;

  std::string path_;
  sqlite3* db_;
  std::map<std::string, std::unique_ptr<Statement>, std::less<>> cache_;
  std::vector<Event> uncommitted_events_;
};

/// A transaction on one connection: rolled back on destruction unless committed. Move-only.
/// Inside an open transaction (a store call run by the GroupCommitWriter) it is a savepoint of
/// that transaction instead: Commit releases it, and the enclosing transaction commits it.
class Transaction {
 public:
  /// BEGIN IMMEDIATE: takes the write lock up front, so a concurrent writer in another process
  /// makes this wait (busy timeout) rather than fail later at the first write. A savepoint when
  /// a transaction is open already.
  static Result<Transaction> BeginImmediate(SqliteDatabase& db, std::string_view operation);
  Transaction(Transaction&& other) noexcept;
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();

  Status Commit();

 private:
  Transaction(SqliteDatabase* db, bool nested, size_t events_mark)
      : db_(db), nested_(nested), events_mark_(events_mark) {}
  SqliteDatabase* db_;  ///< null once committed, rolled back or moved from
  bool nested_;         ///< a savepoint inside an open transaction
  size_t events_mark_;  ///< uncommitted events when it began: a rollback drops the later ones
};

}  // namespace argus::store::sqlite
