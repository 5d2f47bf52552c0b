#include "engine/webhooks/webhook_dispatcher.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <limits>
#include <random>

#include "core/id.h"
#include "core/log.h"
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
  thread_ = std::thread([this] {
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
  stopping_ = true;
  sender_->Wakeup();
  thread_.join();
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
    // Wait for answers, a wake-up (events, Notify) or the next due delivery, then record every
    // attempt that finished meanwhile in one call.
    Record(sender_->Poll(WaitMs(now)));
    if (now - last_purge_ > kPurgeEveryUs && options_.retention_s > 0) {
      last_purge_ = now;
      auto purged = store_->Purge(now - static_cast<TimestampUs>(options_.retention_s * 1'000'000));
      if (!purged.ok())
        log::Warn("webhooks: purge failed", {{"error", purged.status().ToString()}});
    }
  }
  // Attempts in flight get until the drain deadline; whatever is left is tried again after its
  // lease passes (at least once).
  while (sender_->in_flight() > 0 && std::chrono::steady_clock::now() < drain_deadline_) {
    Record(sender_->Poll(50));
  }
  if (stored_cursor_ != cursor_ && cursor_ >= 0) {
    (void)store_->AddDeliveries({}, cursor_);
  }
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
  if (events_pending_.exchange(false)) {
    if (Status s = FanOut(now); !s.ok()) {
      log::Warn("webhooks: fan-out failed (will retry)", {{"error", s.ToString()}});
      events_pending_ = true;
    }
  }
  if (Status s = SendDue(now); !s.ok()) {
    log::Warn("webhooks: cannot lease deliveries (will retry)", {{"error", s.ToString()}});
    for (Target* t : routes_) t->due_at = std::max(t->due_at, now + 1'000'000);
  }
}

int WebhookDispatcher::WaitMs(TimestampUs now) const {
  if (events_pending_ || probe_all_ || routes_dirty_) return 0;
  // A webhook with room in its window waits for its next due delivery; one without waits for
  // answers, which end the poll anyway.
  TimestampUs until = now + static_cast<TimestampUs>(options_.tick_s * 1e6);
  if (sender_->in_flight() == 0) until = now + 1'000'000;
  if (FreeSlots() > 0) {
    for (const Target* t : routes_) {
      if (t->in_flight < t->window.limit()) until = std::min(until, t->due_at);
    }
  }
  return static_cast<int>(std::max<TimestampUs>(0, until - now) / 1000);
}

int WebhookDispatcher::FreeSlots() const {
  return options_.concurrency - static_cast<int>(sender_->in_flight());
}

TimestampUs WebhookDispatcher::LeaseUs() const {
  // An attempt lost with the process is retried once its lease passes: after the timeout.
  return static_cast<TimestampUs>((options_.sender.timeout_s + 30) * 1e6);
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
  // Webhooks no longer routed go once their last attempt is recorded (Record).
  std::erase_if(targets_, [](const auto& entry) {
    return !entry.second.routed && entry.second.in_flight == 0;
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
    cursor_ = std::max(cursor_, bus_seq_.load());
    // A cursor left unstored when events stop is only a little behind: a restart skips past
    // those events again.
    if (cursor_ != stored_cursor_ && now - last_cursor_store_ >= kIdleCursorStoreUs) {
      ARGUS_RETURN_IF_ERROR(store_->AddDeliveries({}, cursor_));
      stored_cursor_ = cursor_;
      last_cursor_store_ = now;
    }
    return OkStatus();
  }
  for (;;) {
    ARGUS_ASSIGN_OR_RETURN(auto batch, events_->Read(cursor_, kEventBatch));
    if (batch.empty()) return OkStatus();
    std::vector<store::WebhookDelivery> deliveries;
    std::vector<std::pair<size_t, Target*>> send_now;  // deliveries stored already leased
    int free = FreeSlots();
    for (const store::Event& e : batch) {
      std::string payload;
      for (Target* t : routes_) {
        const store::Webhook& w = t->webhook;
        if (w.namespace_id != e.namespace_id || e.created_at < w.created_at) continue;
        bool wanted = std::any_of(w.events.begin(), w.events.end(), [&](const std::string& p) {
          return EventTypeMatches(p, e.type);
        });
        if (!wanted) continue;
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
        // Sent at once when its webhook has room and nothing older waits in the store (which
        // goes first, in due order, through SendDue).
        if (t->due_at > now && t->in_flight + t->reserved < t->window.limit() && free > 0) {
          d.attempts = 1;
          d.next_attempt_at = now + LeaseUs();
          ++t->reserved;
          --free;
          send_now.emplace_back(deliveries.size(), t);
        } else {
          t->due_at = 0;
        }
        deliveries.push_back(std::move(d));
      }
    }
    for (auto& [index, t] : send_now) t->reserved = 0;
    int64_t last = batch.back().seq;
    if (Status s = store_->AddDeliveries(deliveries, last); !s.ok()) {
      // Nothing was stored: the events are read again next round, and no attempt starts.
      return s;
    }
    deliveries_created_->Inc(static_cast<double>(deliveries.size()));
    cursor_ = stored_cursor_ = last;
    last_cursor_store_ = now;
    for (auto& [index, t] : send_now) {
      Send(*t, deliveries[index], t->webhook.url, t->webhook.secret,
           t->webhook.previous_secret_expires_at > now ? t->webhook.previous_secret : "", now);
    }
    if (static_cast<int>(batch.size()) < kEventBatch || stopping_) return OkStatus();
  }
}

Status WebhookDispatcher::SendDue(TimestampUs now) {
  const int free = std::min(FreeSlots(), kLeaseBatch);
  if (free <= 0) return OkStatus();
  store::LeaseDeliveriesRequest request;
  request.now = now;
  request.max = free;
  request.lease_s = static_cast<double>(LeaseUs()) / 1e6;
  for (Target* t : routes_) {
    const int room = t->window.limit() - t->in_flight;
    if (t->due_at <= now && room > 0) request.per_webhook[t->webhook.id] = room;
  }
  if (request.per_webhook.empty()) return OkStatus();
  ARGUS_ASSIGN_OR_RETURN(auto leased, store_->LeaseDeliveries(request));
  std::map<std::string, int> got;
  for (const store::LeasedDelivery& l : leased) ++got[l.delivery.webhook_id];
  // A webhook that got less than it asked for has nothing more due now (unless the total bound
  // cut it short): it looks again when its next delivery is due, or when one is added.
  if (static_cast<int>(leased.size()) < request.max) {
    for (auto& [id, wanted] : request.per_webhook) {
      if (got[id] >= wanted) continue;
      Target& t = targets_.at(id);
      ARGUS_ASSIGN_OR_RETURN(std::optional<TimestampUs> due, store_->NextDueAt(id));
      // Due now but not leased: only deliveries leased right now (in flight) are, as of this
      // call; their lease ends later.
      t.due_at = due && *due > now ? *due : kNever;
    }
  }
  for (store::LeasedDelivery& l : leased) {
    auto it = targets_.find(l.delivery.webhook_id);
    if (it == targets_.end()) continue;  // only webhooks asked for are leased
    Send(it->second, l.delivery, std::move(l.url), l.secret, l.previous_secret, now);
  }
  return OkStatus();
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
    return !entry.second.routed && entry.second.in_flight == 0;
  });
  auto disabled = store_->RecordAttempts(attempts, options_.disable_after_failures);
  if (!disabled.ok()) {
    // The attempts stay leased and are made again when the lease passes.
    log::Warn("webhooks: cannot record attempts (they are made again after their lease)",
              {{"attempts", attempts.size()}, {"error", disabled.status().ToString()}});
    for (Target* t : routes_) t->due_at = std::min(t->due_at, now + LeaseUs());
    return;
  }
  for (const std::string& id : *disabled) {
    disabled_total_->Inc();
    log::Warn("webhooks: webhook disabled after a run of failed attempts",
              {{"webhook_id", id}, {"failures", options_.disable_after_failures}});
    routes_dirty_ = true;
  }
}

}  // namespace argus::engine
