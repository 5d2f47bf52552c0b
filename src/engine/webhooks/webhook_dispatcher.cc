#include "engine/webhooks/webhook_dispatcher.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <limits>
#include <random>

#include "core/id.h"
#include "core/log.h"
#include "core/thread_name.h"
#include "core/webhook_signature.h"

namespace argus::engine {

namespace {

constexpr int kEventBatch = 1000;
// The most deliveries one lease call takes (the store's own bound is higher).
constexpr int kLeaseBatch = 1000;
constexpr TimestampUs kNever = std::numeric_limits<TimestampUs>::max();
// How often the cursor is stored while no webhook wants the events flowing past it.
constexpr TimestampUs kIdleCursorStoreUs = 1'000'000;
constexpr TimestampUs kPurgeEveryUs = 60'000'000;
// Fan-out pauses while this many deliveries wait to be stored (it goes on once they are).
constexpr size_t kMaxQueuedDeliveries = 8 * kEventBatch;
// The longest an event waits in the outbox for a full webhook that has kept up so far.
constexpr TimestampUs kMaxHoldUs = 100'000;

Status CheckRange(std::string_view key, double value, double lo, double hi) {
  if (value >= lo && value <= hi) return OkStatus();
  return InvalidArgumentError(std::string(key) + " must be between " + std::to_string(lo) +
                              " and " + std::to_string(hi));
}

}  // namespace

Result<DispatcherOptions> DispatcherOptionsFromConfig(const Config& config) {
  DispatcherOptions o;
  o.sender.allow_private_targets = config.GetBool("webhooks.allow_private_targets");
  o.sender.timeout_s = config.GetDouble("webhooks.timeout_s");
  o.max_attempts = static_cast<int>(config.GetInt("webhooks.max_attempts"));
  o.initial_backoff_s = config.GetDouble("webhooks.initial_backoff_s");
  o.max_backoff_s = config.GetDouble("webhooks.max_backoff_s");
  o.concurrency = static_cast<int>(config.GetInt("webhooks.concurrency"));
  o.max_in_flight_per_webhook =
      static_cast<int>(config.GetInt("webhooks.max_in_flight_per_webhook"));
  o.disable_after_failures = static_cast<int>(config.GetInt("webhooks.disable_after_failures"));
  o.retention_s = config.GetDouble("webhooks.retention_s");
  ARGUS_RETURN_IF_ERROR(CheckRange("webhooks.timeout_s", o.sender.timeout_s, 0.001, 600));
  ARGUS_RETURN_IF_ERROR(CheckRange("webhooks.max_attempts", o.max_attempts, 1, 100));
  ARGUS_RETURN_IF_ERROR(CheckRange("webhooks.initial_backoff_s", o.initial_backoff_s, 0, 86400));
  ARGUS_RETURN_IF_ERROR(
      CheckRange("webhooks.max_backoff_s", o.max_backoff_s, o.initial_backoff_s, 7 * 86400));
  ARGUS_RETURN_IF_ERROR(CheckRange("webhooks.concurrency", o.concurrency, 1, 1024));
  ARGUS_RETURN_IF_ERROR(
      CheckRange("webhooks.max_in_flight_per_webhook", o.max_in_flight_per_webhook, 1, 1024));
  ARGUS_RETURN_IF_ERROR(
      CheckRange("webhooks.disable_after_failures", o.disable_after_failures, 0, 1e9));
  ARGUS_RETURN_IF_ERROR(CheckRange("webhooks.retention_s", o.retention_s, 0, 1e10));
  return o;
}

bool EventTypeMatches(std::string_view pattern, std::string_view type) {
  if (pattern == "*") return true;
  if (pattern.size() >= 2 && pattern.substr(pattern.size() - 2) == ".*") {
    std::string_view prefix = pattern.substr(0, pattern.size() - 1);  // keeps the '.'
    return type.size() > prefix.size() && type.substr(0, prefix.size()) == prefix;
  }
  return pattern == type;
}

double WebhookBackoffS(const DispatcherOptions& o, int attempt, double unit_random) {
  double base = o.initial_backoff_s * std::pow(2.0, std::max(0, attempt - 1));
  base = std::min(base, o.max_backoff_s);
  return base * (0.8 + 0.4 * unit_random);
}

WebhookDispatcher::WebhookDispatcher(store::EventLog* events, store::EventBus* bus,
                                     store::WebhookStore* store,
                                     std::unique_ptr<WebhookSender> sender,
                                     DispatcherOptions options, const Clock* clock,
                                     MetricsRegistry* metrics)
    : events_(events),
      bus_(bus),
      store_(store),
      sender_(std::move(sender)),
      options_(std::move(options)),
      window_options_{.max = options_.max_in_flight_per_webhook},
      clock_(clock) {
  attempts_total_ = &metrics->AddCounter("argus_webhook_attempts_total",
                                         "Webhook delivery attempts by outcome.", {"result"});
  attempt_seconds_ = &metrics
                          ->AddHistogram("argus_webhook_attempt_duration_seconds",
                                         "Time from sending a webhook to its answer.", {})
                          .WithLabels({});
  disabled_total_ = &metrics
                         ->AddCounter("argus_webhooks_disabled_total",
                                      "Webhooks disabled after a run of failed attempts.")
                         .WithLabels({});
  deliveries_created_ = &metrics
                             ->AddCounter("argus_webhook_deliveries_total",
                                          "Deliveries created (one per event and webhook).")
                             .WithLabels({});
}

WebhookDispatcher::~WebhookDispatcher() { Stop(std::chrono::milliseconds(0)); }

void WebhookDispatcher::Start() {
  if (started_.exchange(true)) return;
  if (bus_ != nullptr) {
    subscription_ = bus_->Subscribe([this](const store::EventBatch& batch) {
      int64_t seq = bus_seq_.load();
      while (batch->back().seq > seq && !bus_seq_.compare_exchange_weak(seq, batch->back().seq)) {
      }
      events_pending_ = true;
      sender_->Wakeup();
    });
  }
  // Webhooks change through the API, in this process or another: the store says so.
  watch_ = store_->WatchChanges([this] { Notify(); });
  writes_ = std::make_unique<AsyncDeliveryStore>(store_, options_.disable_after_failures,
                                                 [this] { sender_->Wakeup(); });
  thread_ = std::thread([this] {
    SetThreadName("argus-webhooks");
    try {
      Run();
    } catch (const std::exception& e) {
      // Nothing should throw here; if something does, deliveries stop but the server stays up
      // (they are made after a restart: the cursor and the delivery rows are durable).
      log::Error("webhooks: the dispatcher stopped after an error", {{"error", e.what()}});
    }
  });
}

void WebhookDispatcher::Stop(std::chrono::milliseconds drain) {
  if (!thread_.joinable()) return;
  drain_deadline_ = std::chrono::steady_clock::now() + drain;
  subscription_.reset();
  watch_.reset();
  stopping_ = true;
  sender_->Wakeup();
  thread_.join();
  writes_.reset();  // finishes the writes queued (attempts, deliveries, the cursor)
}

void WebhookDispatcher::Notify() {
  routes_dirty_ = true;
  probe_all_ = true;  // a redelivery is due at once
  events_pending_ = true;
  sender_->Wakeup();
}

int WebhookDispatcher::WindowForTest(const std::string& webhook_id) const {
  auto it = targets_.find(webhook_id);
  return it == targets_.end() || !it->second.routed ? 0 : it->second.window.limit();
}

void WebhookDispatcher::Run() {
  while (!stopping_) {
    const TimestampUs now = clock_->NowUs();
    RunRound(now);
    // Wait for answers, a wake-up (events, Notify, a store write done) or the next due
    // delivery, then queue every attempt that finished meanwhile to be recorded in one call.
    Record(sender_->Poll(WaitMs(now)));
    if (now - last_purge_ > kPurgeEveryUs && options_.retention_s > 0) {
      last_purge_ = now;
      writes_->Purge(now - static_cast<TimestampUs>(options_.retention_s * 1'000'000));
    }
  }
  // Attempts in flight get until the drain deadline; whatever is left is tried again after its
  // lease passes (at least once). Leases still queued are answered without leasing.
  while (sender_->in_flight() > 0 && std::chrono::steady_clock::now() < drain_deadline_) {
    Record(sender_->Poll(50));
  }
  (void)writes_->Take();
  if (stored_cursor_ != cursor_ && cursor_ >= 0) writes_->AddDeliveries({}, cursor_);
}

void WebhookDispatcher::RunRound(TimestampUs now) {
  // Webhooks change through the API (which calls Notify) and through this thread (disabling).
  if (routes_dirty_.exchange(false)) {
    if (Status s = RefreshRoutes(); !s.ok()) {
      log::Warn("webhooks: cannot read the webhook table", {{"error", s.ToString()}});
      routes_dirty_ = true;
    }
  }
  if (probe_all_.exchange(false)) {
    for (Target* t : routes_) t->due_at = 0;
  }
  ApplyWrites(now);
  Pump(now);
  fanout_blocked_ = writes_->QueuedDeliveries() >= kMaxQueuedDeliveries;
  fanout_paused_ = false;
  if (!fanout_blocked_ && events_pending_.exchange(false)) {
    if (Status s = FanOut(now); !s.ok()) {
      log::Warn("webhooks: fan-out failed (will retry)", {{"error", s.ToString()}});
      events_pending_ = true;
    }
  }
  RequestLease(now);
}

void WebhookDispatcher::ApplyWrites(TimestampUs now) {
  DeliveryStoreReport report = writes_->Take();
  if (report.empty()) return;
  if (report.committed_cursor >= 0) {
    stored_cursor_ = std::max(stored_cursor_, report.committed_cursor);
  }
  if (report.adds_failed) {
    // Nothing after the committed cursor was stored: fan those events out again.
    cursor_ = stored_cursor_;
    unread_.clear();
    writes_->ResumeAdds();
    events_pending_ = true;
  }
  for (DeliveryStoreReport::Lease& lease : report.leases) {
    lease_pending_ = false;
    for (auto& [id, t] : targets_) {
      if (t.leasing == 0) continue;
      held_ -= t.leasing;
      t.leasing = 0;
      auto due = lease.next_due.find(id);
      if (due != lease.next_due.end()) {
        // Due at the lease but not leased: only deliveries in flight are; their lease ends
        // later. A failure or an addition since the lease lowered due_at already.
        t.due_at =
            std::min(t.due_at, due->second && *due->second > lease.now ? *due->second : kNever);
      } else if (!lease.status.ok()) {
        t.due_at = std::min(t.due_at, now + 1'000'000);  // look again soon
      } else {
        t.due_at = 0;  // got all it asked for: more may be due
      }
    }
    if (!lease.status.ok()) {
      log::Warn("webhooks: cannot lease deliveries (will retry)",
                {{"error", lease.status.ToString()}});
    }
    for (store::LeasedDelivery& l : lease.leased) {
      auto it = targets_.find(l.delivery.webhook_id);
      if (it == targets_.end() || !it->second.routed) continue;  // gone: its lease passes
      it->second.ready.push_back(std::move(l));
      ++held_;
    }
  }
  for (const std::string& id : report.stored_for) {
    if (auto it = targets_.find(id); it != targets_.end()) it->second.due_at = 0;
  }
  if (report.unrecorded_attempts > 0) {
    for (Target* t : routes_) t->due_at = std::min(t->due_at, now + LeaseUs());
  }
  for (const std::string& id : report.disabled) {
    disabled_total_->Inc();
    log::Warn("webhooks: webhook disabled after a run of failed attempts",
              {{"webhook_id", id}, {"failures", options_.disable_after_failures}});
    routes_dirty_ = true;
  }
}

int WebhookDispatcher::WaitMs(TimestampUs now) const {
  // A fan-out paused for room goes on after answers (which end the wait) or the tick.
  if ((events_pending_ && !fanout_blocked_ && !fanout_paused_) || probe_all_ || routes_dirty_) {
    return 0;
  }
  // A webhook with room in its window waits for its next due delivery; one without waits for
  // answers, which end the poll anyway.
  TimestampUs until = now + static_cast<TimestampUs>(options_.tick_s * 1e6);
  if (sender_->in_flight() == 0) until = now + 1'000'000;
  // While a lease is queued its outcome wakes the thread.
  if (!lease_pending_) {
    for (const Target* t : routes_) {
      if (Room(*t) > 0) until = std::min(until, t->due_at);
    }
  }
  return static_cast<int>(std::max<TimestampUs>(0, until - now) / 1000);
}

int WebhookDispatcher::FreeSlots() const {
  return options_.concurrency - static_cast<int>(sender_->in_flight());
}

int WebhookDispatcher::Room(const Target& t) const {
  // A webhook holds up to two windows leased (one in flight, one ready to go), and all of them
  // together up to twice `concurrency`: a lease or a fan-out refills the window of a receiver
  // that keeps up before it runs dry, and little waits in memory past its lease.
  const int own = 2 * t.window.limit() - t.in_flight - static_cast<int>(t.ready.size()) - t.leasing;
  const int all = 2 * options_.concurrency - static_cast<int>(sender_->in_flight()) - held_;
  return std::min(own, all);
}

bool WebhookDispatcher::LeasedFromBirth(const Target& t, TimestampUs now) const {
  return t.due_at > now && t.leasing == 0 && Room(t) > 0;
}

void WebhookDispatcher::Pump(TimestampUs now) {
  // Sent only while its lease has room for a whole attempt; older ones are left to the lease
  // passing (and count the attempt the lease took). Only a receiver that slows down sharply
  // while two windows wait leaves any.
  const TimestampUs latest_start =
      static_cast<TimestampUs>((options_.sender.timeout_s + options_.lease_margin_s / 6) * 1e6);
  for (auto& [id, t] : targets_) {
    while (!t.ready.empty() && t.in_flight < t.window.limit() && FreeSlots() > 0) {
      store::LeasedDelivery l = std::move(t.ready.front());
      t.ready.pop_front();
      --held_;
      if (l.delivery.next_attempt_at - now < latest_start) continue;
      Send(t, l.delivery, std::move(l.url), l.secret, l.previous_secret, now);
    }
  }
}

TimestampUs WebhookDispatcher::LeaseUs() const {
  // An attempt lost with the process is retried once its lease passes: after the timeout.
  return static_cast<TimestampUs>((options_.sender.timeout_s + options_.lease_margin_s) * 1e6);
}

Status WebhookDispatcher::RefreshRoutes() {
  ARGUS_ASSIGN_OR_RETURN(std::vector<store::Webhook> webhooks, store_->ListEnabledWebhooks());
  for (auto& [id, t] : targets_) t.routed = false;
  routes_.clear();
  for (store::Webhook& w : webhooks) {
    // A new target starts with due_at 0: its deliveries are looked for at once.
    Target& t = targets_.try_emplace(w.id, window_options_).first->second;
    t.webhook = std::move(w);
    t.routed = true;
    routes_.push_back(&t);
  }
  // Webhooks no longer routed send nothing more (the leases of what they hold pass), and go
  // once their last attempt is recorded (Record).
  for (auto& [id, t] : targets_) {
    if (t.routed) continue;
    held_ -= static_cast<int>(t.ready.size());
    t.ready.clear();
  }
  std::erase_if(targets_, [](const auto& entry) {
    return !entry.second.routed && entry.second.in_flight == 0 && entry.second.leasing == 0;
  });
  return OkStatus();
}

Status WebhookDispatcher::FanOut(TimestampUs now) {
  if (cursor_ < 0) {
    ARGUS_ASSIGN_OR_RETURN(cursor_, store_->DispatchCursor());
    stored_cursor_ = cursor_;
  }
  if (routes_.empty()) {
    // Nobody listens: skip past the events without reading them (the bus told their seqs),
    // storing the cursor now and then, so a webhook created later starts from about its
    // creation.
    unread_.clear();
    cursor_ = std::max(cursor_, bus_seq_.load());
    // A cursor left unstored when events stop is only a little behind: a restart skips past
    // those events again.
    if (cursor_ != stored_cursor_ && now - last_cursor_store_ >= kIdleCursorStoreUs) {
      writes_->AddDeliveries({}, cursor_);
      last_cursor_store_ = now;
    }
    return OkStatus();
  }
  std::vector<Target*> takers;
  for (;;) {
    // Events left from an earlier call are fanned out first; then the outbox is read again
    // until a read comes back short (the bus wakes the next call for what comes later).
    bool read_short = false;
    if (unread_.empty()) {
      ARGUS_ASSIGN_OR_RETURN(auto batch, events_->Read(cursor_, kEventBatch));
      if (batch.empty()) return OkStatus();
      read_short = static_cast<int>(batch.size()) < kEventBatch;
      unread_.assign(std::make_move_iterator(batch.begin()), std::make_move_iterator(batch.end()));
    }
    std::vector<store::WebhookDelivery> deliveries;
    const int64_t cursor_before = cursor_;
    while (!unread_.empty() && !fanout_paused_) {
      const store::Event& e = unread_.front();
      takers.clear();
      for (Target* t : routes_) {
        const store::Webhook& w = t->webhook;
        if (w.namespace_id != e.namespace_id || e.created_at < w.created_at) continue;
        if (std::any_of(w.events.begin(), w.events.end(),
                        [&](const std::string& p) { return EventTypeMatches(p, e.type); })) {
          takers.push_back(t);
        }
      }
      // The event stays in the outbox while a webhook that takes it cannot have it leased from
      // birth (no room, a lease in progress, or deliveries that may be due in the store: at
      // start, after a failure or a change, until a lease has looked), for less than
      // kMaxHoldUs: a receiver that keeps up gets every delivery leased from birth, never stored
      // to be leased later, and a slow one cannot hold the others back for long.
      for (Target* t : takers) {
        if (!LeasedFromBirth(*t, now)) {
          if (t->full_since == 0) t->full_since = now;
          if (now - t->full_since < kMaxHoldUs) fanout_paused_ = true;
        } else {
          t->full_since = 0;
        }
      }
      if (fanout_paused_) break;
      std::string payload;
      for (Target* t : takers) {
        const store::Webhook& w = t->webhook;
        if (payload.empty()) {
          // {"type", "timestamp", "data"} around the stored task JSON, spliced in as is.
          payload = "{\"type\":";
          payload += Json(e.type).dump(-1, ' ', false, Json::error_handler_t::replace);
          payload += ",\"timestamp\":\"";
          payload += FormatRfc3339(e.created_at);
          payload += "\",\"data\":";
          payload += e.data_json;
          payload += "}";
        }
        store::WebhookDelivery d;
        d.id = NewId();
        d.webhook_id = w.id;
        d.namespace_id = w.namespace_id;
        d.event_id = "evt_" + std::to_string(e.seq);
        d.event_type = e.type;
        d.payload = payload;
        d.max_attempts = options_.max_attempts;
        d.next_attempt_at = now;
        d.created_at = d.updated_at = now;
        // Leased at once (sent now or soon from memory) when its webhook has room for it and
        // nothing older waits in the store (which goes first, in due order, through leases).
        if (LeasedFromBirth(*t, now)) {
          d.attempts = 1;
          d.next_attempt_at = now + LeaseUs();
          t->ready.push_back(
              {.delivery = d,
               .url = w.url,
               .secret = w.secret,
               .previous_secret = w.previous_secret_expires_at > now ? w.previous_secret : ""});
          ++held_;
        } else {
          t->due_at = 0;
        }
        deliveries.push_back(std::move(d));
      }
      cursor_ = e.seq;
      unread_.pop_front();
    }
    if (cursor_ != cursor_before) {
      deliveries_created_->Inc(static_cast<double>(deliveries.size()));
      last_cursor_store_ = now;
      // Queued to be stored with the cursor; each attempt's result is recorded after it.
      writes_->AddDeliveries(std::move(deliveries), cursor_);
      Pump(now);
    }
    if (fanout_paused_) {
      events_pending_ = true;  // the rest as the windows make room
      return OkStatus();
    }
    if (read_short || stopping_) return OkStatus();
    if (writes_->QueuedDeliveries() >= kMaxQueuedDeliveries) {
      events_pending_ = true;  // the rest once these are stored
      return OkStatus();
    }
  }
}

void WebhookDispatcher::RequestLease(TimestampUs now) {
  if (lease_pending_ || stopping_) return;
  store::LeaseDeliveriesRequest request;
  request.now = now;
  request.max = 0;
  request.lease_s = static_cast<double>(LeaseUs()) / 1e6;
  for (Target* t : routes_) {
    const int room = std::min(Room(*t), kLeaseBatch - request.max);
    if (t->due_at > now || room <= 0) continue;
    request.per_webhook[t->webhook.id] = room;
    request.max += room;
    t->leasing = room;
    held_ += room;
    // Set again by the lease's outcome; lowered meanwhile by failures and additions.
    t->due_at = kNever;
  }
  if (request.per_webhook.empty()) return;
  lease_pending_ = true;
  writes_->Lease(std::move(request));
}

void WebhookDispatcher::Send(Target& target, const store::WebhookDelivery& delivery,
                             std::string url, const std::string& secret,
                             const std::string& previous_secret, TimestampUs now) {
  std::vector<std::string> keys;
  for (const std::string* s : {&secret, &previous_secret}) {
    if (s->empty()) continue;
    std::string key;
    if (DecodeWebhookSecret(*s, &key).ok()) keys.push_back(std::move(key));
  }
  const int64_t timestamp_s = now / 1'000'000;
  OutboundRequest out;
  out.tag = next_tag_++;
  out.url = std::move(url);
  out.body = delivery.payload;
  out.headers = {"webhook-id: " + delivery.event_id,
                 "webhook-timestamp: " + std::to_string(timestamp_s),
                 "webhook-signature: " +
                     WebhookSignatureHeader(keys, delivery.event_id, timestamp_s, out.body)};
  in_flight_[out.tag] = {delivery.id, &target, delivery.attempts, now};
  ++target.in_flight;
  sender_->Start(std::move(out));
}

void WebhookDispatcher::Record(std::vector<OutboundResult> results) {
  if (results.empty()) return;
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::vector<store::AttemptResult> attempts;
  attempts.reserve(results.size());
  const TimestampUs now = clock_->NowUs();
  for (OutboundResult& r : results) {
    auto it = in_flight_.find(r.tag);
    if (it == in_flight_.end()) continue;
    const InFlight& f = it->second;
    Target& t = *f.target;
    store::AttemptResult a;
    a.delivery_id = f.delivery_id;
    a.at = f.started_at;
    a.status_code = r.status_code;
    a.latency_ms = r.latency_ms;
    a.success = r.success;
    a.error = std::move(r.error);
    a.retry_at =
        now + static_cast<TimestampUs>(WebhookBackoffS(options_, f.attempt, unit(rng)) * 1e6);
    --t.in_flight;
    if (r.success) {
      t.window.OnSuccess(r.latency_ms);
    } else {
      t.window.OnFailure();
      // Due again then, unless it was the last attempt (then a look finds nothing).
      t.due_at = std::min(t.due_at, a.retry_at);
    }
    attempts_total_->WithLabels({r.success ? "success" : "failure"}).Inc();
    attempt_seconds_->Observe(r.latency_ms / 1000.0);
    attempts.push_back(std::move(a));
    in_flight_.erase(it);
  }
  std::erase_if(targets_, [](const auto& entry) {
    return !entry.second.routed && entry.second.in_flight == 0 && entry.second.leasing == 0;
  });
  writes_->RecordAttempts(std::move(attempts));
}

}  // namespace argus::engine
