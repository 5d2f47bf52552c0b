#include "store/sqlite/blob_pin_table.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace argus::store::sqlite {
namespace {

using namespace std::chrono_literals;

const std::string kBlob(64, 'a');
const std::string kOther(64, 'b');

TEST(BlobPinTableTest, PinnedBlobIsNotClaimedUntilEveryPinIsGone) {
  BlobPinTable table;
  ASSERT_TRUE(table.Pin(kBlob).ok());
  ASSERT_TRUE(table.Pin(kBlob).ok());
  EXPECT_FALSE(table.TryClaim(kBlob));
  EXPECT_TRUE(table.TryClaim(kOther));  // pins are per blob
  table.Unpin(kBlob);
  EXPECT_FALSE(table.TryClaim(kBlob));
  table.Unpin(kBlob);
  EXPECT_TRUE(table.TryClaim(kBlob));
}

TEST(BlobPinTableTest, ClaimedBlobIsNotClaimedTwice) {
  BlobPinTable table;
  ASSERT_TRUE(table.TryClaim(kBlob));
  EXPECT_FALSE(table.TryClaim(kBlob));
  table.Release(kBlob);
  EXPECT_TRUE(table.TryClaim(kBlob));
}

TEST(BlobPinTableTest, PinWaitsUntilTheClaimEnds) {
  BlobPinTable table;
  ASSERT_TRUE(table.TryClaim(kBlob));
  std::atomic<bool> pinned = false;
  std::thread writer([&] {
    EXPECT_TRUE(table.Pin(kBlob).ok());
    pinned = true;
  });
  while (table.WaitingForTest() == 0) std::this_thread::yield();
  EXPECT_FALSE(pinned);                 // it is waiting, not done
  ASSERT_TRUE(table.Pin(kOther).ok());  // other blobs do not wait
  table.Release(kBlob);
  writer.join();
  EXPECT_TRUE(pinned);
  EXPECT_EQ(table.WaitingForTest(), 0);
  EXPECT_FALSE(table.TryClaim(kBlob));  // the waiter's pin holds now
}

TEST(BlobPinTableTest, PinGivesUpWhenAClaimOutlastsTheWait) {
  BlobPinTable table(20ms);
  ASSERT_TRUE(table.TryClaim(kBlob));
  Status pinned = table.Pin(kBlob);
  EXPECT_EQ(pinned.code(), StatusCode::kUnavailable);
  EXPECT_NE(pinned.message().find(kBlob), std::string_view::npos) << pinned.ToString();
  EXPECT_EQ(table.WaitingForTest(), 0);
  table.Release(kBlob);
  EXPECT_TRUE(table.TryClaim(kBlob));  // the failed pin left nothing behind
}

}  // namespace
}  // namespace argus::store::sqlite
