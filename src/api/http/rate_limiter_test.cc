#include "api/http/rate_limiter.h"

#include <gtest/gtest.h>

namespace argus::api {
namespace {

using std::chrono::milliseconds;

TEST(RateLimiterTest, DisabledAdmitsEverything) {
  RateLimiter r(0, 0);
  auto now = std::chrono::steady_clock::now();
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(r.Take("k", now), 0);
}

TEST(RateLimiterTest, BurstThenRefusalThenRefill) {
  RateLimiter r(2, 3);
  auto t = std::chrono::steady_clock::now();
  EXPECT_EQ(r.Take("k", t), 0);
  EXPECT_EQ(r.Take("k", t), 0);
  EXPECT_EQ(r.Take("k", t), 0);
  EXPECT_EQ(r.Take("k", t), 1);  // empty: wait about half a second, rounded up
  EXPECT_EQ(r.Take("k", t + milliseconds(500)), 0);
  EXPECT_GT(r.Take("k", t + milliseconds(500)), 0);
}

TEST(RateLimiterTest, KeysAreIndependent) {
  RateLimiter r(1, 1);
  auto t = std::chrono::steady_clock::now();
  EXPECT_EQ(r.Take("a", t), 0);
  EXPECT_GT(r.Take("a", t), 0);
  EXPECT_EQ(r.Take("b", t), 0);
}

TEST(RateLimiterTest, RetryAfterScalesWithRate) {
  RateLimiter r(0.1, 1);
  auto t = std::chrono::steady_clock::now();
  EXPECT_EQ(r.Take("k", t), 0);
  EXPECT_EQ(r.Take("k", t), 10);
}

}  // namespace
}  // namespace argus::api

namespace argus::api {
namespace {

std::string Key(std::string_view prefix, int i) {
  std::string key(prefix);
  key += std::to_string(i);
  return key;
}

// A table of 64 buckets (4 per shard) under a flood of new addresses.
TEST(RateLimiterTest, AFullTableForgetsOnlyTheLeastRecentlyUsedBuckets) {
  RateLimiter r(0.001, 1, 64);
  auto t = std::chrono::steady_clock::now();
  ASSERT_EQ(r.Take("hot", t), 0);
  ASSERT_GT(r.Take("hot", t), 0);
  for (int i = 0; i < 10000; ++i) {
    EXPECT_EQ(r.Take(Key("new-", i), t), 0);
    // The limited client keeps coming back: it is never the least recently used, so the flood
    // never gives it a fresh bucket (a table that wiped a full shard did, within 64 addresses).
    ASSERT_GT(r.Take("hot", t), 0) << "reset after " << i << " new addresses";
  }
  EXPECT_LE(r.SizeForTest(), 64u);
}

TEST(RateLimiterTest, TheBucketUnusedLongestIsTheOneForgotten) {
  RateLimiter r(0.001, 1, 16);  // one bucket per shard
  auto t = std::chrono::steady_clock::now();
  ASSERT_EQ(r.Take("idle", t), 0);
  ASSERT_GT(r.Take("idle", t), 0);
  // Some later key lands in the idle key's shard and takes its place; nothing else is lost.
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(r.Take(Key("k", i), t), 0);
  EXPECT_LE(r.SizeForTest(), 16u);
  EXPECT_EQ(r.Take("idle", t), 0);  // forgotten: a full bucket again
}

}  // namespace
}  // namespace argus::api
