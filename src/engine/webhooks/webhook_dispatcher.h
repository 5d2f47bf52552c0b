#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/config.h"
#include "core/metrics.h"
#include "engine/webhooks/webhook_sender.h"
#include "store/event_bus.h"
#include "store/event_log.h"
#include "store/webhook_store.h"

namespace argus::engine {

struct DispatcherOptions {
  SenderOptions sender;
  int max_attempts = 8;
  double initial_backoff_s = 5;
  double max_backoff_s = 3600;
  int concurrency = 16;
  int max_in_flight_per_webhook = 4;
  int disable_after_failures = 100;
  double retention_s = 7 * 24 * 3600;
  double tick_s = 0.1;  ///< longest wait for attempts in flight between rounds
};

/// Reads "webhooks.*"; InvalidArgument naming the key for a value out of range.
Result<DispatcherOptions> DispatcherOptionsFromConfig(const Config& config);

/// Whether an event type matches a subscription pattern: exact, "prefix.*" or "*".
bool EventTypeMatches(std::string_view pattern, std::string_view type);

/// The delay before attempt `attempt` + 1 of a delivery: initial * 2^(attempt-1), capped, with
/// ±20 % jitter. `unit_random` in [0, 1) picks the jitter.
double WebhookBackoffS(const DispatcherOptions& options, int attempt, double unit_random);

/// Delivers events to webhooks, at least once. One thread, woken by the EventBus (new events),
/// by Notify (webhooks changed) and by its own deliveries coming due, so an idle server costs it
/// no database reads:
///  1. fan-out: reads new events (the outbox) after the stored cursor and, for every enabled
///     webhook of the event's namespace whose patterns match (and that existed when the event
///     happened), stores a delivery, moving the cursor in the same transaction;
///  2. sending: leases due deliveries, POSTs them signed the Standard Webhooks way through
///     WebhookSender, and records each attempt (retry with backoff, give up after max_attempts,
///     disable a webhook after a run of failures);
///  3. purges old finished deliveries.
/// A delivery in flight when the process dies is tried again once its lease passes: receivers
/// drop repeats by `webhook-id`. Thread-safe; Start and Stop once each.
class WebhookDispatcher {
 public:
  /// `events`, `bus` and `store` are borrowed and outlive the dispatcher.
  WebhookDispatcher(store::EventLog* events, store::EventBus* bus, store::WebhookStore* store,
                    std::unique_ptr<WebhookSender> sender, DispatcherOptions options,
                    const Clock* clock, MetricsRegistry* metrics);
  ~WebhookDispatcher();

  void Start();
  /// Stops taking new work, gives attempts in flight up to `drain` to finish, then joins.
  void Stop(std::chrono::milliseconds drain);
  /// Webhooks or deliveries changed (created, updated, redelivered): look again now.
  void Notify();

 private:
  void Run();
  Status RefreshRoutes();
  Status FanOut(TimestampUs now);
  Status SendDue(TimestampUs now);
  void Record(std::vector<OutboundResult> results);

  store::EventLog* events_;
  store::EventBus* bus_;
  store::WebhookStore* store_;
  std::unique_ptr<WebhookSender> sender_;
  DispatcherOptions options_;
  const Clock* clock_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> routes_dirty_{true};
  std::atomic<bool> started_{false};
  std::atomic<bool> events_pending_{true};  // the bus published since the last fan-out
  std::atomic<int64_t> bus_seq_{0};         // the newest seq the bus has carried
  std::atomic<bool> due_dirty_{true};       // deliveries may have come due (new, retried, freed)
  std::unique_ptr<store::EventBus::Subscription> subscription_;
  std::chrono::steady_clock::time_point drain_deadline_;

  // Owned by the dispatcher thread.
  std::vector<store::Webhook> routes_;
  int64_t cursor_ = -1;
  int64_t stored_cursor_ = -1;
  TimestampUs last_cursor_store_ = 0;
  TimestampUs last_purge_ = 0;
  TimestampUs next_due_ = 0;  // when the next pending delivery is due (INT64_MAX: none)
  uint64_t next_tag_ = 1;
  struct InFlight {
    std::string delivery_id;
    std::string webhook_id;
    int attempt = 0;
    TimestampUs started_at = 0;
  };
  std::map<uint64_t, InFlight> in_flight_;
  std::map<std::string, int> in_flight_per_webhook_;

  Family<Counter>* attempts_total_;
  Histogram* attempt_seconds_;
  Counter* disabled_total_;
  Counter* deliveries_created_;
};

}  // namespace argus::engine
