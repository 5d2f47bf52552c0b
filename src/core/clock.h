#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace argus {

/// Wall-clock time as microseconds since the Unix epoch: the one time type in records.
using TimestampUs = int64_t;

/// The source of time, injectable so tests control it (tests/fakes/fake_clock.h).
/// Implementations are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  /// Wall-clock time (may jump); what records carry.
  virtual TimestampUs NowUs() const = 0;
  /// Monotonic time for durations and deadlines.
  virtual std::chrono::steady_clock::time_point SteadyNow() const = 0;
};

/// The real clock. A process-wide instance lives behind SystemClock::Get().
class SystemClock final : public Clock {
 public:
  static const Clock& Get();
  TimestampUs NowUs() const override;
  std::chrono::steady_clock::time_point SteadyNow() const override;
};

/// RFC 3339 UTC with milliseconds: "2026-11-23T10:00:00.123Z".
std::string FormatRfc3339(TimestampUs ts);
/// Parses RFC 3339 ("Z" or "+hh:mm" offsets, optional fraction). Returns false on bad input.
bool ParseRfc3339(std::string_view text, TimestampUs* out);

}  // namespace argus
