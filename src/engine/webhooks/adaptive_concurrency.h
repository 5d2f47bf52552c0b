#pragma once

#include <cstdint>

namespace argus::engine {

struct AdaptiveConcurrencyOptions {
  int initial = 4;  ///< the window before any answer (clamped to [1, max])
  int max = 64;     ///< the ceiling (webhooks.max_in_flight_per_webhook)
  /// An answer is slow when the recent latency exceeds both `latency_tolerance` × the baseline
  /// (the fastest recent answer) and the baseline + `latency_slack_ms`: queueing at the
  /// receiver, not the noise of a fast one.
  double latency_tolerance = 2.0;
  double latency_slack_ms = 20;
};

/// How many attempts one webhook may have in flight: additive increase, multiplicative decrease
/// (AIMD), so a receiver that keeps up gets more and one that fails or slows down gets less.
///  - Until the first decrease the window grows by one per success (it doubles per round trip,
///    from `initial` to the ceiling in a few round trips); afterwards by one per window of
///    successes.
///  - A failed attempt (an error answer, a timeout, a refused connection) halves it; a slow answer
///    cuts it to three quarters. After a cut, the answers of the window in flight before it cut
///    nothing more, so a burst of failures from the attempts of one window counts once.
///  - The latency baseline is the fastest answer of the current or the previous period of
///    kPeriod answers, so it follows a receiver whose normal latency changes.
/// The window stays within [1, max]. Not thread-safe: the dispatcher thread owns it.
class AdaptiveConcurrency {
 public:
  static constexpr int kPeriod = 256;

  explicit AdaptiveConcurrency(AdaptiveConcurrencyOptions options);

  int limit() const { return limit_; }
  /// A 2xx answer after `latency_ms`.
  void OnSuccess(double latency_ms);
  /// No 2xx answer: an HTTP error, a timeout or a connection that failed.
  void OnFailure();

 private:
  void Decrease(double factor);

  AdaptiveConcurrencyOptions options_;
  int limit_;
  bool slow_start_ = true;
  double credit_ = 0;          // successes towards the next additive step, in windows
  int64_t since_decrease_;     // answers since the last cut
  int cut_from_ = 0;           // the window before the last cut
  double smoothed_ms_ = -1;    // exponentially weighted recent latency; < 0: none yet
  double period_min_ms_ = -1;  // fastest answer of the current period
  double last_min_ms_ = -1;    // fastest answer of the previous period
  int period_answers_ = 0;
};

}  // namespace argus::engine
