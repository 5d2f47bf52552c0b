#include "core/clock.h"

#include <gtest/gtest.h>

namespace argus {
namespace {

TEST(ClockTest, FormatsRfc3339WithMilliseconds) {
  EXPECT_EQ(FormatRfc3339(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatRfc3339(1'700'000'000'123'456), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(FormatRfc3339(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatRfc3339(1'709'208'000'000'000), "2024-02-29T12:00:00.000Z");  // leap day
  EXPECT_EQ(FormatRfc3339(253'402'300'799'999'999), "9999-12-31T23:59:59.999Z");
}

TEST(ClockTest, ParsesWhatItFormatsAndOffsets) {
  TimestampUs ts = 0;
  ASSERT_TRUE(ParseRfc3339("2023-11-14T22:13:20.123Z", &ts));
  EXPECT_EQ(ts, 1'700'000'000'123'000);
  ASSERT_TRUE(ParseRfc3339("2023-11-14T23:13:20+01:00", &ts));
  EXPECT_EQ(ts, 1'700'000'000'000'000);
  ASSERT_TRUE(ParseRfc3339("2023-11-14T22:13:20.5Z", &ts));
  EXPECT_EQ(ts, 1'700'000'000'500'000);
  EXPECT_TRUE(ParseRfc3339("2024-02-29T12:00:00Z", &ts));  // leap day
  EXPECT_TRUE(ParseRfc3339("2000-02-29T12:00:00z", &ts));
}

TEST(ClockTest, RejectsMalformedTimestamps) {
  TimestampUs ts;
  for (const char* bad :
       {"", "2023-11-14", "2023-11-14T22:13:20", "2023-13-14T22:13:20Z", "2023-11-14T22:13:20.Z",
        "2023-11-14T22:13:20Zjunk", "tomorrow", "1990-02-31T15:59:50Z", "2023-02-29T00:00:00Z",
        "2023-04-31T00:00:00Z", "1990-12-31T15:59:50-24:00", "1990-12-31T15:59:50+01:60"}) {
    EXPECT_FALSE(ParseRfc3339(bad, &ts)) << bad;
  }
}

TEST(ClockTest, SystemClockMovesForward) {
  const Clock& c = SystemClock::Get();
  TimestampUs a = c.NowUs();
  EXPECT_GT(a, 1'700'000'000'000'000);
  auto first = c.SteadyNow();
  auto second = c.SteadyNow();
  EXPECT_LE(first, second);
}

}  // namespace
}  // namespace argus
