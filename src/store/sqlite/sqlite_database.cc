#include "store/sqlite/sqlite_database.h"

#include <sqlite3.h>

#include <utility>

namespace argus::store::sqlite {

Status SqliteError(int rc, std::string_view operation, std::string_view path,
                   std::string_view detail) {
  std::string message = "sqlite: " + std::string(operation) + " on " + std::string(path) + ": " +
                        std::string(detail) + " (" + sqlite3_errstr(rc) + ", code " +
                        std::to_string(rc) + ")";
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return UnavailableError(std::move(message));
    case SQLITE_CONSTRAINT:
      if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
        return AlreadyExistsError(std::move(message));
      }
      return InternalError(std::move(message));
    default:
      return InternalError(std::move(message));
  }
}

Statement::Statement(SqliteDatabase* db, sqlite3_stmt* stmt, std::string operation)
    : db_(db), stmt_(stmt), operation_(std::move(operation)) {}

Statement::~Statement() { sqlite3_finalize(stmt_); }

namespace {
// Keeps the first bind failure: that is the one worth reporting.
void Remember(int rc, int* bind_error) {
  if (rc != SQLITE_OK && *bind_error == 0) *bind_error = rc;
}
}  // namespace

void Statement::BindText(int index, std::string_view value) {
  // SQLite stores NULL for a null pointer; an empty view (which may have one) means "".
  const char* data = value.data() != nullptr ? value.data() : "";
  Remember(sqlite3_bind_text64(stmt_, index, data, value.size(), SQLITE_TRANSIENT, SQLITE_UTF8),
           &bind_error_);
}

void Statement::BindBlob(int index, std::string_view value) {
  const char* data = value.data() != nullptr ? value.data() : "";
  Remember(sqlite3_bind_blob64(stmt_, index, data, value.size(), SQLITE_TRANSIENT), &bind_error_);
}

void Statement::BindInt64(int index, int64_t value) {
  Remember(sqlite3_bind_int64(stmt_, index, value), &bind_error_);
}

void Statement::BindDouble(int index, double value) {
  Remember(sqlite3_bind_double(stmt_, index, value), &bind_error_);
}

void Statement::BindNull(int index) { Remember(sqlite3_bind_null(stmt_, index), &bind_error_); }

void Statement::BindOptionalInt64(int index, std::optional<int64_t> value) {
  if (value) {
    BindInt64(index, *value);
  } else {
    BindNull(index);
  }
}

void Statement::BindOptionalText(int index, const std::optional<std::string>& value) {
  if (value) {
    BindText(index, *value);
  } else {
    BindNull(index);
  }
}

void Statement::BindTextOrNull(int index, std::string_view value) {
  if (value.empty()) {
    BindNull(index);
  } else {
    BindText(index, value);
  }
}

Result<bool> Statement::Step() {
  if (bind_error_ != 0) {
    return SqliteError(bind_error_, operation_ + " (bind)", db_->path(),
                       sqlite3_errmsg(db_->handle()));
  }
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return db_->Error(rc, operation_);
}

Status Statement::Run() {
  for (;;) {
    ARGUS_ASSIGN_OR_RETURN(bool row, Step());
    if (!row) return OkStatus();
  }
}

std::string Statement::ColumnText(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  if (text == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(text), sqlite3_column_bytes(stmt_, column));
}

std::string Statement::ColumnBlob(int column) const {
  const void* data = sqlite3_column_blob(stmt_, column);
  if (data == nullptr) return {};
  return std::string(static_cast<const char*>(data), sqlite3_column_bytes(stmt_, column));
}

int64_t Statement::ColumnInt64(int column) const { return sqlite3_column_int64(stmt_, column); }

double Statement::ColumnDouble(int column) const { return sqlite3_column_double(stmt_, column); }

bool Statement::ColumnIsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

std::optional<int64_t> Statement::ColumnOptionalInt64(int column) const {
  if (ColumnIsNull(column)) return std::nullopt;
  return ColumnInt64(column);
}

int64_t Statement::Changes() const { return sqlite3_changes64(db_->handle()); }

int64_t Statement::LastInsertRowid() const { return sqlite3_last_insert_rowid(db_->handle()); }

void Statement::Reset() {
  // sqlite3_reset repeats the last step's error code; that error was already returned by Step().
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_error_ = 0;
}

ScopedStatement::ScopedStatement(Statement* stmt, std::unique_ptr<Statement> owned)
    : stmt_(stmt), owned_(std::move(owned)) {
  stmt_->in_use_ = true;
}

ScopedStatement::ScopedStatement(ScopedStatement&& other) noexcept
    : stmt_(std::exchange(other.stmt_, nullptr)), owned_(std::move(other.owned_)) {}

ScopedStatement::~ScopedStatement() {
  if (stmt_ == nullptr) return;
  stmt_->Reset();
  stmt_->in_use_ = false;
}

Result<std::unique_ptr<SqliteDatabase>> SqliteDatabase::Open(const std::string& path,
                                                             const SqliteOptions& options) {
  sqlite3* handle = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &handle,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string detail = handle ? sqlite3_errmsg(handle) : "out of memory";
    sqlite3_close_v2(handle);
    return SqliteError(rc, "open", path, detail);
  }
  std::unique_ptr<SqliteDatabase> db(new SqliteDatabase(path, handle));
  ARGUS_RETURN_IF_ERROR(db->Configure(options));
  return db;
}

SqliteDatabase::~SqliteDatabase() {
  cache_.clear();  // statements must be finalized before the connection closes
  sqlite3_close_v2(db_);
}

Status SqliteDatabase::Configure(const SqliteOptions& options) {
  sqlite3_extended_result_codes(db_, 1);
  // The busy timeout comes first: switching to WAL needs a lock another process may hold.
  int rc = sqlite3_busy_timeout(db_, options.busy_timeout_ms);
  if (rc != SQLITE_OK) return Error(rc, "set busy_timeout");
  ARGUS_ASSIGN_OR_RETURN(std::string mode, QueryText("PRAGMA journal_mode=WAL", "enable WAL"));
  if (mode != "wal") {
    return InternalError("sqlite: enable WAL on " + path_ + ": journal mode stayed '" + mode +
                         "' (is the file on a filesystem without shared memory support?)");
  }
  // recursive_triggers: removing a document removes its later tiers' documents, every tier down.
  std::string pragmas = "PRAGMA foreign_keys=ON;PRAGMA recursive_triggers=ON;";
  pragmas += options.synchronous_full ? "PRAGMA synchronous=FULL;" : "PRAGMA synchronous=NORMAL;";
  if (options.query_only) pragmas += "PRAGMA query_only=ON;";
  // Pages are read through a memory map (no pread copy per page) and a larger page cache.
  pragmas += "PRAGMA mmap_size=" + std::to_string(options.mmap_bytes) + ";";
  pragmas += "PRAGMA cache_size=-" + std::to_string(options.cache_kib) + ";";
  // Statement journals (a statement that changes rows and may still fail, like UPDATE ...
  // RETURNING inside a savepoint) and temporary tables stay in memory, not in temporary files.
  pragmas += "PRAGMA temp_store=MEMORY;";
  return Exec(pragmas, "configure connection");
}

Status SqliteDatabase::Exec(std::string_view sql, std::string_view operation) {
  char* error = nullptr;
  std::string text(sql);
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &error);
  if (rc == SQLITE_OK) return OkStatus();
  std::string detail = error ? error : sqlite3_errmsg(db_);
  sqlite3_free(error);
  return SqliteError(rc, operation, path_, detail);
}

Result<std::unique_ptr<Statement>> SqliteDatabase::PrepareUncached(std::string_view sql,
                                                                   std::string_view operation) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) return Error(rc, std::string(operation) + " (prepare)");
  return std::unique_ptr<Statement>(new Statement(this, stmt, std::string(operation)));
}

Result<ScopedStatement> SqliteDatabase::Prepare(std::string_view sql, std::string_view operation) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    ARGUS_ASSIGN_OR_RETURN(auto stmt, PrepareUncached(sql, operation));
    it = cache_.emplace(std::string(sql), std::move(stmt)).first;
  }
  Statement* cached = it->second.get();
  if (cached->in_use_) {
    // The same SQL is already checked out on this connection (a nested use); a private copy
    // keeps the two uses from resetting each other.
    ARGUS_ASSIGN_OR_RETURN(auto owned, PrepareUncached(sql, operation));
    Statement* raw = owned.get();
    return ScopedStatement(raw, std::move(owned));
  }
  cached->operation_.assign(operation);
  return ScopedStatement(cached, nullptr);
}

Result<std::string> SqliteDatabase::QueryText(std::string_view sql, std::string_view operation) {
  ARGUS_ASSIGN_OR_RETURN(auto stmt, Prepare(sql, operation));
  ARGUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
  return row ? stmt->ColumnText(0) : std::string();
}

Status SqliteDatabase::Error(int rc, std::string_view operation) const {
  return SqliteError(rc, operation, path_, sqlite3_errmsg(db_));
}

bool SqliteDatabase::InTransaction() const { return sqlite3_get_autocommit(db_) == 0; }

Result<Transaction> Transaction::BeginImmediate(SqliteDatabase& db, std::string_view operation) {
  const bool nested = db.InTransaction();
  ARGUS_ASSIGN_OR_RETURN(auto begin,
                         db.Prepare(nested ? "SAVEPOINT txn" : "BEGIN IMMEDIATE", operation));
  ARGUS_RETURN_IF_ERROR(begin->Run());
  return Transaction(&db, nested, db.uncommitted_events().size());
}

Transaction::Transaction(Transaction&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)),
      nested_(other.nested_),
      events_mark_(other.events_mark_) {}

Transaction::~Transaction() {
  if (db_ == nullptr) return;
  auto& events = db_->uncommitted_events();
  if (events.size() > events_mark_) events.resize(events_mark_);
  // A failed rollback leaves nothing to do: SQLite has already rolled back (e.g. after an I/O
  // error) or the connection is unusable, and the caller is returning the original error.
  if (nested_) {
    db_->Exec("ROLLBACK TO txn; RELEASE txn", "rollback").IgnoreError();
  } else {
    db_->Exec("ROLLBACK", "rollback").IgnoreError();
  }
}

Status Transaction::Commit() {
  if (db_ == nullptr) return InternalError("sqlite: commit of a finished transaction");
  ARGUS_ASSIGN_OR_RETURN(auto commit, db_->Prepare(nested_ ? "RELEASE txn" : "COMMIT", "commit"));
  ARGUS_RETURN_IF_ERROR(commit->Run());
  db_ = nullptr;
  return OkStatus();
}

Status SqliteDatabase::Checkpoint(bool passive, int* wal_pages, int* done) {
  int rc = sqlite3_wal_checkpoint_v2(
      db_, nullptr, passive ? SQLITE_CHECKPOINT_PASSIVE : SQLITE_CHECKPOINT_RESTART, wal_pages,
      done);
  if (rc != SQLITE_OK) return Error(rc, "checkpoint the WAL");
  return OkStatus();
}

}  // namespace argus::store::sqlite
