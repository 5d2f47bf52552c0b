#include "engine/webhooks/adaptive_concurrency.h"

#include <algorithm>
#include <limits>

namespace argus::engine {

namespace {

// The weight of the newest answer in the smoothed latency: about the last eight count.
constexpr double kSmoothing = 1.0 / 8;

}  // namespace

AdaptiveConcurrency::AdaptiveConcurrency(AdaptiveConcurrencyOptions options)
    : options_(options),
      // A first failure cuts at once: nothing has been cut for this window yet.
      since_decrease_(std::numeric_limits<int64_t>::max() / 2) {
  options_.max = std::max(1, options_.max);
  limit_ = std::clamp(options_.initial, 1, options_.max);
}

void AdaptiveConcurrency::OnSuccess(double latency_ms) {
  ++since_decrease_;
  if (period_min_ms_ < 0 || latency_ms < period_min_ms_) period_min_ms_ = latency_ms;
  double baseline = last_min_ms_ < 0 ? period_min_ms_ : std::min(last_min_ms_, period_min_ms_);
  if (++period_answers_ >= kPeriod) {
    last_min_ms_ = period_min_ms_;
    period_min_ms_ = -1;
    period_answers_ = 0;
  }
  smoothed_ms_ =
      smoothed_ms_ < 0 ? latency_ms : smoothed_ms_ + (latency_ms - smoothed_ms_) * kSmoothing;
  if (smoothed_ms_ > baseline * options_.latency_tolerance &&
      smoothed_ms_ > baseline + options_.latency_slack_ms) {
    Decrease(0.75);
    return;
  }
  if (slow_start_) {
    limit_ = std::min(options_.max, limit_ + 1);
    return;
  }
  credit_ += 1.0 / limit_;
  if (credit_ >= 1) {
    credit_ -= 1;
    limit_ = std::min(options_.max, limit_ + 1);
  }
}

void AdaptiveConcurrency::OnFailure() {
  ++since_decrease_;
  Decrease(0.5);
}

void AdaptiveConcurrency::Decrease(double factor) {
  // The next `cut_from_` answers may be of attempts sent before the last cut (at most that
  // window was in flight): they say nothing about the window it set.
  if (since_decrease_ < cut_from_) return;
  slow_start_ = false;
  cut_from_ = limit_;
  limit_ = std::max(1, static_cast<int>(limit_ * factor));
  since_decrease_ = 0;
  credit_ = 0;
}

}  // namespace argus::engine
