#include "engine/webhooks/adaptive_concurrency.h"

#include <gtest/gtest.h>

namespace argus::engine {
namespace {

// Answers one window's worth of attempts, each after `latency_ms` (a round trip).
void Round(AdaptiveConcurrency& window, double latency_ms) {
  const int n = window.limit();
  for (int i = 0; i < n; ++i) window.OnSuccess(latency_ms);
}

TEST(AdaptiveConcurrencyTest, StartsAtTheInitialWindowAndGrowsToTheCeilingWhileFast) {
  AdaptiveConcurrency window({.initial = 4, .max = 64});
  EXPECT_EQ(window.limit(), 4);
  Round(window, 1.0);
  EXPECT_EQ(window.limit(), 8);  // doubles per round trip until the first cut
  for (int i = 0; i < 10; ++i) Round(window, 1.0);
  EXPECT_EQ(window.limit(), 64);  // and never passes the ceiling
}

TEST(AdaptiveConcurrencyTest, AFailureHalvesTheWindowOncePerRound) {
  AdaptiveConcurrency window({.initial = 32, .max = 64});
  // Every attempt of one window fails: one cut, not one per failure.
  for (int i = 0; i < 32; ++i) window.OnFailure();
  EXPECT_EQ(window.limit(), 16);
  // The next round fails too: another cut.
  for (int i = 0; i < 16; ++i) window.OnFailure();
  EXPECT_EQ(window.limit(), 8);
  for (int i = 0; i < 100; ++i) window.OnFailure();
  EXPECT_EQ(window.limit(), 1);  // never below one
}

TEST(AdaptiveConcurrencyTest, GrowsByOnePerRoundAfterACut) {
  AdaptiveConcurrency window({.initial = 16, .max = 64});
  window.OnFailure();
  ASSERT_EQ(window.limit(), 8);
  Round(window, 1.0);
  EXPECT_EQ(window.limit(), 9);
  Round(window, 1.0);
  EXPECT_EQ(window.limit(), 10);
}

TEST(AdaptiveConcurrencyTest, ShrinksWhenAnswersSlowDownAndGrowsAgainWhenTheyRecover) {
  AdaptiveConcurrency window({.initial = 4, .max = 64});
  for (int i = 0; i < 10; ++i) Round(window, 2.0);
  ASSERT_EQ(window.limit(), 64);
  // The receiver queues: answers take 100 ms against a 2 ms baseline.
  for (int i = 0; i < 20; ++i) Round(window, 100.0);
  const int slowed = window.limit();
  EXPECT_LT(slowed, 16);
  EXPECT_GE(slowed, 1);
  for (int i = 0; i < 60; ++i) Round(window, 2.0);
  EXPECT_GT(window.limit(), slowed + 10);
}

TEST(AdaptiveConcurrencyTest, SmallLatencyChangesOfAFastReceiverAreNotSlowness) {
  AdaptiveConcurrency window({.initial = 4, .max = 64, .latency_slack_ms = 20});
  for (int i = 0; i < 10; ++i) Round(window, 0.2);
  // Ten times the baseline, but only 2 ms: scheduling noise on a busy machine, not a queue.
  for (int i = 0; i < 20; ++i) Round(window, 2.0);
  EXPECT_EQ(window.limit(), 64);
}

TEST(AdaptiveConcurrencyTest, TheInitialWindowIsClampedToTheCeiling) {
  EXPECT_EQ(AdaptiveConcurrency({.initial = 4, .max = 2}).limit(), 2);
  EXPECT_EQ(AdaptiveConcurrency({.initial = 0, .max = 8}).limit(), 1);
  AdaptiveConcurrency one({.initial = 1, .max = 1});
  Round(one, 1.0);
  EXPECT_EQ(one.limit(), 1);
}

}  // namespace
}  // namespace argus::engine
