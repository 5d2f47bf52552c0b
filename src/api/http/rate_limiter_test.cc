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
