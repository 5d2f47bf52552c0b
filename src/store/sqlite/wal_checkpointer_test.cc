#include "store/sqlite/wal_checkpointer.h"

#include <gtest/gtest.h>

#include <thread>

#include "store/sqlite/temp_dir_for_test.h"

namespace argus::store::sqlite {
namespace {

TEST(WalCheckpointerTest, CopiesCommittedPagesIntoTheDatabaseInTheBackground) {
  TempDirForTest dir;
  auto writer = SqliteDatabase::Open(dir.File("w.db"), {});
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  auto checkpointer =
      WalCheckpointer::Start(dir.File("w.db"), {}, **writer, std::chrono::milliseconds(5));
  ASSERT_TRUE(checkpointer.ok()) << checkpointer.status().ToString();
  // The writer no longer checkpoints after every 1000 pages but only after 4000.
  EXPECT_EQ((*writer)->QueryText("PRAGMA wal_autocheckpoint", "read").value_or(""), "4000");
  ASSERT_TRUE((*writer)->Exec("CREATE TABLE t (x BLOB)", "create").ok());
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE((*writer)->Exec("INSERT INTO t VALUES (randomblob(8000))", "insert").ok());
  }
  WalCheckpointer::Progress p;
  for (int i = 0; i < 400; ++i) {
    p = (*checkpointer)->ProgressForTest();
    if (p.wal_pages > 100 && p.copied_pages == p.wal_pages) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_GT(p.wal_pages, 100);             // 50 rows of 8 KB are in the WAL...
  EXPECT_EQ(p.copied_pages, p.wal_pages);  // ...and all of them were copied by the background
  EXPECT_EQ((*writer)->QueryText("SELECT count(*) FROM t", "count").value_or(""), "50");
}

}  // namespace
}  // namespace argus::store::sqlite
