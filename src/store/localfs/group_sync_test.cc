#include "store/localfs/group_sync.h"

#include <fcntl.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace argus::store::localfs {
namespace {

TEST(GroupSyncTest, EveryCallReturnsAfterASyncThatEndedLater) {
  GroupSync sync(::open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC), "/tmp");
  constexpr int kThreads = 16;
  constexpr int kCalls = 20;
  std::atomic<int> failures{0};
  std::atomic<int> not_covered{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kCalls; ++i) {
        const uint64_t before = sync.syncs();
        if (!sync.Sync().ok()) failures.fetch_add(1);
        // At least one syncfs ended between the call and its return.
        if (sync.syncs() <= before) not_covered.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(not_covered.load(), 0);
  EXPECT_GE(sync.syncs(), 1u);
  EXPECT_LE(sync.syncs(), static_cast<uint64_t>(kThreads * kCalls));
  RecordProperty("syncs", static_cast<int>(sync.syncs()));
}

TEST(GroupSyncTest, AFailedSyncIsReportedToItsCallersWithThePath) {
  GroupSync sync(-1, "/nowhere/blobs");  // syncfs fails with EBADF
  Status status = sync.Sync();
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.code(), StatusCode::kInternal);
  EXPECT_NE(status.message().find("/nowhere/blobs"), std::string::npos) << status.ToString();
  EXPECT_NE(status.message().find("Bad file descriptor"), std::string::npos) << status.ToString();
  EXPECT_EQ(sync.syncs(), 1u);
}

}  // namespace
}  // namespace argus::store::localfs
