#include "core/id.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "tests/fakes/fake_clock.h"

namespace argus {
namespace {

TEST(IdTest, IsCanonicalUuidV7) {
  std::string id = NewId();
  EXPECT_TRUE(IsValidId(id)) << id;
  EXPECT_EQ(id[14], '7');
  EXPECT_TRUE(id[19] == '8' || id[19] == '9' || id[19] == 'a' || id[19] == 'b') << id;
}

TEST(IdTest, SortsByCreationWithinOneMillisecond) {
  FakeClock clock(1'700'000'000'000'000);
  std::string prev = NewId(clock);
  for (int i = 0; i < 10000; ++i) {
    std::string next = NewId(clock);
    ASSERT_LT(prev, next);
    prev = next;
  }
}

TEST(IdTest, NeverGoesBackwardsWhenTheClockDoes) {
  FakeClock clock(1'700'000'000'000'000);
  std::string a = NewId(clock);
  clock.AdvanceUs(-5'000'000);
  std::string b = NewId(clock);
  EXPECT_LT(a, b);
}

TEST(IdTest, LaterMillisecondSortsLater) {
  FakeClock clock(1'700'000'000'000'000);
  std::string a = NewId(clock);
  clock.AdvanceUs(1000);
  EXPECT_LT(a, NewId(clock));
}

TEST(IdTest, UniqueAcrossThreads) {
  std::vector<std::vector<std::string>> per(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&per, t] {
      for (int i = 0; i < 5000; ++i) per[t].push_back(NewId());
    });
  }
  for (auto& th : threads) th.join();
  std::set<std::string> all;
  for (auto& v : per) all.insert(v.begin(), v.end());
  EXPECT_EQ(all.size(), 20000u);
}

TEST(IdTest, RejectsNonCanonicalText) {
  EXPECT_FALSE(IsValidId(""));
  EXPECT_FALSE(IsValidId("0192F1C4-6B1E-7C3A-9D2E-1F0A2B3C4D5E"));
  EXPECT_FALSE(IsValidId("0192f1c4x6b1e-7c3a-9d2e-1f0a2b3c4d5e"));
  EXPECT_TRUE(IsValidId("0192f1c4-6b1e-7c3a-9d2e-1f0a2b3c4d5e"));
}

}  // namespace
}  // namespace argus
