#pragma once

#include <atomic>

#include "core/clock.h"

namespace argus {

/// A clock that moves only when told. Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(TimestampUs start_us) : now_us_(start_us) {}
  TimestampUs NowUs() const override { return now_us_.load(); }
  std::chrono::steady_clock::time_point SteadyNow() const override {
    return std::chrono::steady_clock::time_point(std::chrono::microseconds(now_us_.load()));
  }
  void AdvanceUs(int64_t delta) { now_us_.fetch_add(delta); }

 private:
  std::atomic<TimestampUs> now_us_;
};

}  // namespace argus
