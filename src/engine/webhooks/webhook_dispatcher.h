#pragma once

#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/config.h"
#include "core/metrics.h"
#include "engine/webhooks/adaptive_concurrency.h"
#include "engine/webhooks/async_delivery_store.h"
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
  int concurrency = 256;               ///< attempts in flight, all webhooks together
  int max_in_flight_per_webhook = 64;  ///< the ceiling of each webhook's adaptive window
  int disable_after_failures = 100;
  double retention_s = 7 * 24 * 3600;
  double tick_s = 0.1;  ///< longest wait for attempts in flight between rounds
  /// A leased delivery is presumed lost (and tried again) this long after its timeout.
  double lease_margin_s = 30;
};

/// Reads "webhooks.*"; InvalidArgument naming the key for a value out of range.
Result<DispatcherOptions> DispatcherOptionsFromConfig(const Config& config);

/// Whether an event type matches a subscription pattern: exact, "prefix.*" or "*".
bool EventTypeMatches(std::string_view pattern, std::string_view type);

/// The delay before attempt `attempt` + 1 of a delivery: initial * 2^(attempt-1), capped, with
/// ±20 % jitter. `unit_random` in [0, 1) picks the jitter.
double WebhookBackoffS(const DispatcherOptions& options, int attempt, double unit_random);

/// Delivers events to webhooks, at least once. One thread, woken by the EventBus (new events),
/// by Notify (webhooks changed), by its own deliveries coming due and by its store writes
/// finishing, so an idle server costs it no database reads. It never waits for a database write:
/// those run in order on the thread of an AsyncDeliveryStore while attempts stay in flight. Each
/// round:
///  1. outcomes: applies what the store writes finished (leased deliveries are sent; webhooks
///     with new stored deliveries are looked for; disabled webhooks stop being routed);
///  2. fan-out: reads new events (the outbox) after the cursor and, for every enabled webhook of
///     the event's namespace whose patterns match (and that existed when the event happened),
///     queues a delivery, moving the cursor in the same store transaction. A delivery whose
///     webhook has room in its window and nothing older waiting is stored already leased and
///     sent at once, before its row is committed: should that write fail, the events are fanned
///     out again from the committed cursor (the receiver sees the same `webhook-id` again);
///  3. leasing: each webhook that may have due deliveries (a backlog, retries, redeliveries,
///     attempts lost with a previous process) asks for up to its free window, all in one store
///     call, one such call at a time;
///  4. sending: WebhookSender POSTs them signed the Standard Webhooks way, over kept-alive
///     connections;
///  5. recording: every attempt that finished since the last round is queued to be recorded
///     (retry with backoff, give up after max_attempts, disable a webhook after a run of
///     failures), and feeds its webhook's window (AdaptiveConcurrency: it grows while the
///     receiver answers fast, shrinks on failures and slow answers, within
///     max_in_flight_per_webhook), all webhooks together within `concurrency`;
///  6. purges old finished deliveries now and then.
/// A delivery in flight when the process dies is tried again once its lease passes: receivers
/// drop repeats by `webhook-id`, the event's id, the same on every attempt. A webhook deleted or
/// disabled through the API may still get the events fanned out before its change reached the
/// dispatcher (Notify), as it gets the attempts already in flight. Thread-safe; Start and Stop
/// once each.
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
  /// Webhooks or deliveries changed (created, updated, redelivered): look again now. Called by
  /// the store's change watch (WebhookStore::WatchChanges) once started.
  void Notify();

  /// The current window of a webhook (0 when the dispatcher does not route to it). Only while
  /// the dispatcher is stopped, or from its own thread.
  int WindowForTest(const std::string& webhook_id) const;

 private:
  // A webhook the dispatcher routes events to, or still has attempts in flight for.
  struct Target {
    explicit Target(const AdaptiveConcurrencyOptions& options) : window(options) {}
    store::Webhook webhook;
    bool routed = false;  // enabled at the last refresh
    AdaptiveConcurrency window;
    int in_flight = 0;
    int leasing = 0;             // deliveries asked for by the lease in progress
    TimestampUs full_since = 0;  // since when the fan-out holds events for room (0: it does not)
    // Leased and not yet sent, oldest first: sent as the window makes room.
    std::deque<store::LeasedDelivery> ready;
    // From when the store may hold deliveries of it that are due and not in flight (0: now).
    TimestampUs due_at = 0;
  };
  struct InFlight {
    std::string delivery_id;
    Target* target = nullptr;
    int attempt = 0;
    TimestampUs started_at = 0;
  };

  void Run();
  void RunRound(TimestampUs now);
  int WaitMs(TimestampUs now) const;
  Status RefreshRoutes();
  Status FanOut(TimestampUs now);
  void ApplyWrites(TimestampUs now);
  void RequestLease(TimestampUs now);
  // Sends ready deliveries while windows have room.
  void Pump(TimestampUs now);
  // How many more deliveries `target` may hold leased (in flight, ready or being leased).
  int Room(const Target& target) const;
  // Whether a new delivery for `target` is stored leased and sent from memory: it has room and
  // nothing older may be due in the store.
  bool LeasedFromBirth(const Target& target, TimestampUs now) const;
  void Send(Target& target, const store::WebhookDelivery& delivery, std::string url,
            const std::string& secret, const std::string& previous_secret, TimestampUs now);
  void Record(std::vector<OutboundResult> results);
  int FreeSlots() const;
  TimestampUs LeaseUs() const;

  store::EventLog* events_;
  store::EventBus* bus_;
  store::WebhookStore* store_;
  std::unique_ptr<WebhookSender> sender_;
  std::unique_ptr<AsyncDeliveryStore> writes_;  // from Start to Stop
  DispatcherOptions options_;
  AdaptiveConcurrencyOptions window_options_;
  const Clock* clock_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> routes_dirty_{true};
  std::atomic<bool> started_{false};
  std::atomic<bool> events_pending_{true};  // the bus published since the last fan-out
  std::atomic<int64_t> bus_seq_{0};         // the newest seq the bus has carried
  std::atomic<bool> probe_all_{true};       // deliveries may be due for any webhook (Notify)
  std::unique_ptr<store::EventBus::Subscription> subscription_;
  std::unique_ptr<store::ChangeWatch> watch_;  // the store's webhook changes → Notify
  std::chrono::steady_clock::time_point drain_deadline_;

  // Owned by the dispatcher thread.
  std::map<std::string, Target> targets_;  // by webhook id; nodes stay put (InFlight points in)
  std::vector<Target*> routes_;            // the routed targets, by webhook id
  int64_t cursor_ = -1;                    // events up to here are fanned out (or skipped)
  int64_t stored_cursor_ = -1;             // the cursor committed last
  std::deque<store::Event> unread_;        // read from the outbox, not yet fanned out
  bool fanout_paused_ = false;             // holding events until a full webhook makes room
  bool fanout_blocked_ = false;            // too many deliveries wait to be stored: fan out later
  bool lease_pending_ = false;  // a lease is queued; its outcome comes through ApplyWrites
  int held_ = 0;                // ready + leasing, all targets together
  TimestampUs last_cursor_store_ = 0;
  TimestampUs last_purge_ = 0;
  uint64_t next_tag_ = 1;
  std::map<uint64_t, InFlight> in_flight_;

  Family<Counter>* attempts_total_;
  Histogram* attempt_seconds_;
  Counter* disabled_total_;
  Counter* deliveries_created_;
};

}  // namespace argus::engine
