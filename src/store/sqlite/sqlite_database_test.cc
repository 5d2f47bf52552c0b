#include "store/sqlite/sqlite_database.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "store/sqlite/temp_dir_for_test.h"

namespace argus::store::sqlite {
namespace {

using ::testing::HasSubstr;

class SqliteDatabaseTest : public testing::Test {
 protected:
  std::unique_ptr<SqliteDatabase> Open(SqliteOptions options = {}) {
    auto db = SqliteDatabase::Open(dir_.File("test.db"), options);
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    return db.ok() ? std::move(db).value() : nullptr;
  }

  static std::string Query(SqliteDatabase& db, std::string_view sql) {
    auto text = db.QueryText(sql, "test query");
    EXPECT_TRUE(text.ok()) << text.status().ToString();
    return text.value_or("<error>");
  }

  static int64_t CountRows(SqliteDatabase& db) {
    return std::stoll(Query(db, "SELECT count(*) FROM t"));
  }

  TempDirForTest dir_;
};

TEST_F(SqliteDatabaseTest, OpensInWalModeWithForeignKeysAndDefaultSettings) {
  auto db = Open();
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(Query(*db, "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(Query(*db, "PRAGMA foreign_keys"), "1");
  EXPECT_EQ(Query(*db, "PRAGMA synchronous"), "1");  // NORMAL
  EXPECT_EQ(Query(*db, "PRAGMA busy_timeout"), "5000");
  EXPECT_EQ(Query(*db, "PRAGMA query_only"), "0");
}

TEST_F(SqliteDatabaseTest, AppliesSynchronousFullAndBusyTimeoutFromOptions) {
  auto db = Open({.synchronous_full = true, .busy_timeout_ms = 1234});
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(Query(*db, "PRAGMA synchronous"), "2");  // FULL
  EXPECT_EQ(Query(*db, "PRAGMA busy_timeout"), "1234");
}

TEST_F(SqliteDatabaseTest, QueryOnlyConnectionRefusesWrites) {
  auto writer = Open();
  ASSERT_NE(writer, nullptr);
  ASSERT_TRUE(writer->Exec("CREATE TABLE t(x)", "create").ok());
  auto reader = Open({.query_only = true});
  ASSERT_NE(reader, nullptr);
  Status s = reader->Exec("INSERT INTO t VALUES (1)", "insert");
  EXPECT_EQ(s.code(), StatusCode::kInternal) << s.ToString();
  EXPECT_EQ(Query(*reader, "SELECT count(*) FROM t"), "0");
}

TEST_F(SqliteDatabaseTest, OpenFailsWithPathInMessageWhenDirectoryIsMissing) {
  std::string path = dir_.File("missing/sub/test.db");
  auto db = SqliteDatabase::Open(path, {});
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), StatusCode::kInternal);
  EXPECT_THAT(std::string(db.status().message()), HasSubstr(path));
  EXPECT_THAT(std::string(db.status().message()), HasSubstr("open"));
}

TEST_F(SqliteDatabaseTest, UniqueViolationIsAlreadyExistsNamingOperationAndFile) {
  auto db = Open();
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->Exec("CREATE TABLE t(x TEXT UNIQUE)", "create").ok());
  for (int i = 0; i < 2; ++i) {
    auto stmt = db->Prepare("INSERT INTO t VALUES (?)", "insert widget");
    ASSERT_TRUE(stmt.ok()) << stmt.status().ToString();
    (*stmt)->BindText(1, "a");
    Status s = (*stmt)->Run();
    if (i == 0) {
      EXPECT_TRUE(s.ok()) << s.ToString();
    } else {
      EXPECT_EQ(s.code(), StatusCode::kAlreadyExists) << s.ToString();
      EXPECT_THAT(std::string(s.message()), HasSubstr("insert widget"));
      EXPECT_THAT(std::string(s.message()), HasSubstr(db->path()));
    }
  }
}

TEST_F(SqliteDatabaseTest, NotNullViolationIsInternal) {
  auto db = Open();
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->Exec("CREATE TABLE t(x TEXT NOT NULL)", "create").ok());
  Status s = db->Exec("INSERT INTO t VALUES (NULL)", "insert");
  EXPECT_EQ(s.code(), StatusCode::kInternal) << s.ToString();
}

TEST_F(SqliteDatabaseTest, WriteLockHeldElsewhereIsUnavailable) {
  auto holder = Open();
  ASSERT_NE(holder, nullptr);
  auto waiter = Open({.busy_timeout_ms = 0});
  ASSERT_NE(waiter, nullptr);
  auto held = Transaction::BeginImmediate(*holder, "hold lock");
  ASSERT_TRUE(held.ok()) << held.status().ToString();

  auto blocked = Transaction::BeginImmediate(*waiter, "begin blocked");
  ASSERT_FALSE(blocked.ok());
  EXPECT_EQ(blocked.status().code(), StatusCode::kUnavailable) << blocked.status().ToString();
  EXPECT_THAT(std::string(blocked.status().message()), HasSubstr(waiter->path()));

  ASSERT_TRUE(held->Commit().ok());
  auto retried = Transaction::BeginImmediate(*waiter, "begin again");
  EXPECT_TRUE(retried.ok()) << retried.status().ToString();
}

TEST_F(SqliteDatabaseTest, TransactionRollsBackUnlessCommitted) {
  auto db = Open();
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->Exec("CREATE TABLE t(x)", "create").ok());
  {
    auto txn = Transaction::BeginImmediate(*db, "txn");
    ASSERT_TRUE(txn.ok());
    ASSERT_TRUE(db->Exec("INSERT INTO t VALUES (1)", "insert").ok());
  }
  EXPECT_EQ(CountRows(*db), 0);
  {
    auto txn = Transaction::BeginImmediate(*db, "txn");
    ASSERT_TRUE(txn.ok());
    ASSERT_TRUE(db->Exec("INSERT INTO t VALUES (1)", "insert").ok());
    ASSERT_TRUE(txn->Commit().ok());
  }
  EXPECT_EQ(CountRows(*db), 1);
}

TEST_F(SqliteDatabaseTest, PreparedStatementsAreCachedAndReset) {
  auto db = Open();
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->Exec("CREATE TABLE t(x); INSERT INTO t VALUES (1), (2)", "create").ok());
  int cached_before = db->CachedStatementCountForTest();
  for (int x = 1; x <= 2; ++x) {
    auto stmt = db->Prepare("SELECT x FROM t WHERE x = ?", "select");
    ASSERT_TRUE(stmt.ok());
    (*stmt)->BindInt64(1, x);
    auto row = (*stmt)->Step();
    ASSERT_TRUE(row.ok() && *row);
    EXPECT_EQ((*stmt)->ColumnInt64(0), x);
  }
  EXPECT_EQ(db->CachedStatementCountForTest(), cached_before + 1);
}

TEST_F(SqliteDatabaseTest, NestedUseOfTheSameStatementIsIndependent) {
  auto db = Open();
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->Exec("CREATE TABLE t(x); INSERT INTO t VALUES (1), (2)", "create").ok());
  constexpr std::string_view kSql = "SELECT x FROM t WHERE x = ?";
  auto outer = db->Prepare(kSql, "outer");
  ASSERT_TRUE(outer.ok());
  (*outer)->BindInt64(1, 1);
  auto inner = db->Prepare(kSql, "inner");
  ASSERT_TRUE(inner.ok());
  (*inner)->BindInt64(1, 2);
  ASSERT_TRUE((*inner)->Step().value_or(false));
  ASSERT_TRUE((*outer)->Step().value_or(false));
  EXPECT_EQ((*outer)->ColumnInt64(0), 1);
  EXPECT_EQ((*inner)->ColumnInt64(0), 2);
}

TEST_F(SqliteDatabaseTest, BindErrorIsReportedByStep) {
  auto db = Open();
  ASSERT_NE(db, nullptr);
  auto stmt = db->Prepare("SELECT ?", "select");
  ASSERT_TRUE(stmt.ok());
  (*stmt)->BindInt64(5, 1);  // out of range
  auto row = (*stmt)->Step();
  ASSERT_FALSE(row.ok());
  EXPECT_EQ(row.status().code(), StatusCode::kInternal);
  EXPECT_THAT(std::string(row.status().message()), HasSubstr("bind"));
}

TEST_F(SqliteDatabaseTest, NullAndBlobColumnsRoundTrip) {
  auto db = Open();
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->Exec("CREATE TABLE t(a, b, c)", "create").ok());
  std::string blob("\0\x01\xff", 3);
  {
    auto insert = db->Prepare("INSERT INTO t VALUES (?, ?, ?)", "insert");
    ASSERT_TRUE(insert.ok());
    (*insert)->BindBlob(1, blob);
    (*insert)->BindTextOrNull(2, "");
    (*insert)->BindOptionalInt64(3, std::nullopt);
    ASSERT_TRUE((*insert)->Run().ok());
  }
  auto select = db->Prepare("SELECT a, b, c FROM t", "select");
  ASSERT_TRUE(select.ok());
  ASSERT_TRUE((*select)->Step().value_or(false));
  EXPECT_EQ((*select)->ColumnBlob(0), blob);
  EXPECT_TRUE((*select)->ColumnIsNull(1));
  EXPECT_EQ((*select)->ColumnOptionalInt64(2), std::nullopt);
}

// An empty string_view may carry a null pointer, which SQLite would store as NULL: it must be
// stored as the empty string (NOT NULL columns depend on it).
TEST_F(SqliteDatabaseTest, EmptyTextAndBlobAreNotNull) {
  auto db = Open();
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->Exec("CREATE TABLE e (t TEXT NOT NULL, b BLOB NOT NULL)", "create").ok());
  {
    auto stmt = db->Prepare("INSERT INTO e VALUES (?, ?)", "insert empty");
    ASSERT_TRUE(stmt.ok());
    (*stmt)->BindText(1, std::string_view());
    (*stmt)->BindBlob(2, std::string_view());
    auto row = (*stmt)->Step();
    ASSERT_TRUE(row.ok()) << row.status().ToString();
  }
  EXPECT_EQ(Query(*db, "SELECT count(*) FROM e WHERE t = '' AND b = x''"), "1");
}

TEST(SqliteErrorTest, MapsResultCodesToWhatTheCallerShouldDo) {
  EXPECT_EQ(SqliteError(SQLITE_BUSY, "op", "f.db", "d").code(), StatusCode::kUnavailable);
  EXPECT_EQ(SqliteError(SQLITE_BUSY_SNAPSHOT, "op", "f.db", "d").code(), StatusCode::kUnavailable);
  EXPECT_EQ(SqliteError(SQLITE_LOCKED, "op", "f.db", "d").code(), StatusCode::kUnavailable);
  EXPECT_EQ(SqliteError(SQLITE_CONSTRAINT_UNIQUE, "op", "f.db", "d").code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(SqliteError(SQLITE_CONSTRAINT_PRIMARYKEY, "op", "f.db", "d").code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(SqliteError(SQLITE_CONSTRAINT_FOREIGNKEY, "op", "f.db", "d").code(),
            StatusCode::kInternal);
  EXPECT_EQ(SqliteError(SQLITE_IOERR, "op", "f.db", "d").code(), StatusCode::kInternal);
  Status s = SqliteError(SQLITE_CORRUPT, "read widget", "/data/f.db", "malformed");
  EXPECT_THAT(std::string(s.message()), HasSubstr("read widget"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("/data/f.db"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("malformed"));
}

}  // namespace
}  // namespace argus::store::sqlite
