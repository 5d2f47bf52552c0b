#include "engine/worker/kind_timings.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace argus::engine {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(KindTimingsTest, UnseenKindsAreNeverLeasedAhead) {
  KindTimings t({});
  EXPECT_THAT(t.QuickKinds(), IsEmpty());
  EXPECT_EQ(t.Prefetch(), 0);
  t.Observe("noop", 1e-6);
  t.Observe("noop", 1e-6);  // two runs: below min_samples
  EXPECT_THAT(t.QuickKinds(), IsEmpty());
  t.Observe("noop", 1e-6);
  EXPECT_THAT(t.QuickKinds(), ElementsAre("noop"));
}

TEST(KindTimingsTest, SlowKindsAreNeverLeasedAhead) {
  KindTimings t({});
  for (int i = 0; i < 5; ++i) {
    t.Observe("sleep", 1.0);
    t.Observe("noop", 1e-5);
  }
  EXPECT_THAT(t.QuickKinds(), ElementsAre("noop"));
}

TEST(KindTimingsTest, PrefetchCoversTheHorizonOfTheSlowestQuickKind) {
  KindTimings t({.max_task_s = 0.002, .horizon_s = 0.05, .max_prefetch = 256, .min_samples = 1});
  t.Observe("a", 0.001);
  EXPECT_EQ(t.Prefetch(), 50);  // 50 ms of 1 ms tasks
  t.Observe("b", 1e-7);
  EXPECT_EQ(t.Prefetch(), 50);  // the slowest quick kind bounds it
  KindTimings fast({.max_prefetch = 256, .min_samples = 1});
  fast.Observe("noop", 0);
  EXPECT_EQ(fast.Prefetch(), 256);  // capped
}

TEST(KindTimingsTest, AKindThatTurnsSlowStopsBeingLeasedAhead) {
  KindTimings t({.min_samples = 1});
  t.Observe("k", 1e-5);
  EXPECT_THAT(t.QuickKinds(), ElementsAre("k"));
  for (int i = 0; i < 3 && !t.QuickKinds().empty(); ++i) t.Observe("k", 0.5);
  EXPECT_THAT(t.QuickKinds(), IsEmpty());
}

TEST(KindTimingsTest, ZeroMaxPrefetchTurnsItOff) {
  KindTimings t({.max_prefetch = 0, .min_samples = 1});
  t.Observe("noop", 1e-6);
  EXPECT_THAT(t.QuickKinds(), IsEmpty());
  EXPECT_EQ(t.Prefetch(), 0);
}

}  // namespace
}  // namespace argus::engine
