#include "store/sqlite/group_commit_writer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "store/sqlite/temp_dir_for_test.h"

namespace argus::store::sqlite {
namespace {

using ::testing::HasSubstr;

class GroupCommitWriterTest : public testing::Test {
 protected:
  void SetUp() override {
    auto db = SqliteDatabase::Open(Path(), {.busy_timeout_ms = 0});
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    ASSERT_TRUE((*db)->Exec("CREATE TABLE items (n INTEGER PRIMARY KEY)", "create").ok());
    writer_ = std::make_unique<GroupCommitWriter>(std::move(db).value(), [this] { ++rollbacks_; });
  }

  std::string Path() const { return dir_.File("writer.db"); }

  static GroupCommitWriter::Operation Insert(int n) {
    return [n](SqliteDatabase& db) -> Status {
      ARGUS_ASSIGN_OR_RETURN(auto stmt, db.Prepare("INSERT INTO items(n) VALUES (?)", "insert"));
      stmt->BindInt64(1, n);
      return stmt->Run();
    };
  }

  // The items as another connection sees them (committed data only).
  std::vector<int> Items() {
    auto db = SqliteDatabase::Open(Path(), {});
    EXPECT_TRUE(db.ok());
    if (!db.ok()) return {};
    auto stmt = (*db)->Prepare("SELECT n FROM items ORDER BY n", "select");
    EXPECT_TRUE(stmt.ok());
    std::vector<int> out;
    while (stmt.ok() && (*stmt)->Step().value_or(false)) {
      out.push_back(static_cast<int>((*stmt)->ColumnInt64(0)));
    }
    return out;
  }

  // Occupies the writer thread with an operation that waits for `release`, so that the calls
  // made meanwhile queue up and form the next batch. Returns once the writer is inside it.
  std::thread Block(std::shared_future<void> release) {
    auto entered = std::make_shared<std::promise<void>>();
    std::future<void> inside = entered->get_future();
    std::thread thread([this, release, entered] {
      Status status = writer_->Run([release, entered](SqliteDatabase&) {
        entered->set_value();
        release.wait();
        return OkStatus();
      });
      EXPECT_TRUE(status.ok()) << status.ToString();
    });
    inside.wait();
    return thread;
  }

  // Starts a thread running `op` and waits until the operation is queued, so operations queue in
  // the order of these calls.
  std::thread Queue(GroupCommitWriter::Operation op, Status* result) {
    const size_t before = writer_->QueueLengthForTest();
    std::thread thread([this, op = std::move(op), result] { *result = writer_->Run(op); });
    while (writer_->QueueLengthForTest() == before) std::this_thread::yield();
    return thread;
  }

  TempDirForTest dir_;
  std::atomic<int> rollbacks_{0};
  std::unique_ptr<GroupCommitWriter> writer_;
};

TEST_F(GroupCommitWriterTest, CommittedOperationIsVisibleToOtherConnections) {
  ASSERT_TRUE(writer_->Run(Insert(1)).ok());
  EXPECT_EQ(Items(), std::vector<int>{1});
  EXPECT_EQ(writer_->CommitCountForTest(), 1);
  EXPECT_EQ(writer_->OperationCountForTest(), 1);
}

TEST_F(GroupCommitWriterTest, OperationsQueuedMeanwhileShareOneTransaction) {
  std::promise<void> release;
  std::thread blocker = Block(release.get_future().share());
  constexpr int kQueued = 20;
  std::vector<Status> results(kQueued);
  std::vector<std::thread> threads;
  for (int i = 0; i < kQueued; ++i) threads.push_back(Queue(Insert(i), &results[i]));
  release.set_value();
  blocker.join();
  for (auto& thread : threads) thread.join();
  for (const Status& status : results) EXPECT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(Items().size(), static_cast<size_t>(kQueued));
  // One transaction for the blocking operation, one for everything queued behind it.
  EXPECT_EQ(writer_->CommitCountForTest(), 2);
  EXPECT_EQ(writer_->OperationCountForTest(), kQueued + 1);
}

TEST_F(GroupCommitWriterTest, FailingOperationRollsBackOnlyItsOwnChanges) {
  std::promise<void> release;
  std::thread blocker = Block(release.get_future().share());
  Status first, failing, throwing, last;
  std::vector<std::thread> threads;
  threads.push_back(Queue(Insert(1), &first));
  threads.push_back(Queue(
      [](SqliteDatabase& db) -> Status {
        ARGUS_RETURN_IF_ERROR(Insert(2)(db));
        return AbortedError("changed my mind");
      },
      &failing));
  threads.push_back(Queue(
      [](SqliteDatabase& db) -> Status {
        ARGUS_RETURN_IF_ERROR(Insert(3)(db));
        throw std::runtime_error("boom");
      },
      &throwing));
  threads.push_back(Queue(Insert(4), &last));
  release.set_value();
  blocker.join();
  for (auto& thread : threads) thread.join();
  EXPECT_TRUE(first.ok());
  EXPECT_EQ(failing.code(), StatusCode::kAborted);
  EXPECT_EQ(throwing.code(), StatusCode::kInternal);
  EXPECT_THAT(throwing.message(), HasSubstr("boom"));
  EXPECT_TRUE(last.ok());
  EXPECT_EQ(Items(), (std::vector<int>{1, 4}));
  EXPECT_EQ(writer_->CommitCountForTest(), 2);
  EXPECT_EQ(rollbacks_.load(), 1);
}

TEST_F(GroupCommitWriterTest, ConstraintErrorOfOneOperationKeepsTheOthers) {
  ASSERT_TRUE(writer_->Run(Insert(7)).ok());
  std::promise<void> release;
  std::thread blocker = Block(release.get_future().share());
  Status duplicate, fresh;
  std::vector<std::thread> threads;
  threads.push_back(Queue(Insert(7), &duplicate));
  threads.push_back(Queue(Insert(8), &fresh));
  release.set_value();
  blocker.join();
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(duplicate.code(), StatusCode::kAlreadyExists);
  EXPECT_TRUE(fresh.ok());
  EXPECT_EQ(Items(), (std::vector<int>{7, 8}));
}

TEST_F(GroupCommitWriterTest, LockedDatabaseFailsTheBatchAsUnavailable) {
  auto other = SqliteDatabase::Open(Path(), {});
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE((*other)->Exec("BEGIN IMMEDIATE", "lock").ok());
  Status status = writer_->Run(Insert(1));
  EXPECT_EQ(status.code(), StatusCode::kUnavailable) << status.ToString();
  EXPECT_EQ(rollbacks_.load(), 1);
  ASSERT_TRUE((*other)->Exec("ROLLBACK", "unlock").ok());
  EXPECT_TRUE(writer_->Run(Insert(1)).ok());
  EXPECT_EQ(Items(), std::vector<int>{1});
  EXPECT_EQ(writer_->CommitCountForTest(), 1);
}

TEST_F(GroupCommitWriterTest, DestructorFinishesQueuedOperations) {
  std::promise<void> release;
  std::thread blocker = Block(release.get_future().share());
  constexpr int kQueued = 5;
  std::vector<Status> results(kQueued);
  std::vector<std::thread> threads;
  for (int i = 0; i < kQueued; ++i) threads.push_back(Queue(Insert(i), &results[i]));
  release.set_value();
  writer_.reset();
  blocker.join();
  for (auto& thread : threads) thread.join();
  for (const Status& status : results) EXPECT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(Items(), (std::vector<int>{0, 1, 2, 3, 4}));
}

}  // namespace
}  // namespace argus::store::sqlite
