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
  due_dirty_ = true;  // a redelivery is due at once
  events_pending_ = true;
  sender_->Wakeup();
}

void WebhookDispatcher::Run() {
  while (!stopping_) {
    TimestampUs now = clock_->NowUs();
    // Webhooks change through the API (which calls Notify) and through this thread (disabling).
    if (routes_dirty_.exchange(false)) {
      if (Status s = RefreshRoutes(); !s.ok()) {
        log::Warn("webhooks: cannot read the webhook table", {{"error", s.ToString()}});
        routes_dirty_ = true;
      }
    }
    if (events_pending_.exchange(false)) {
      if (Status s = FanOut(now); !s.ok()) {
        log::Warn("webhooks: fan-out failed (will retry)", {{"error", s.ToString()}});
        events_pending_ = true;
      }
    }
    if (due_dirty_.exchange(false) || now >= next_due_) {
      if (Status s = SendDue(now); !s.ok()) {
        log::Warn("webhooks: cannot lease deliveries (will retry)", {{"error", s.ToString()}});
        next_due_ = now + 1'000'000;
      }
    }
    // Wait for answers, a wake-up (events, Notify) or the next due delivery.
    int wait_ms = static_cast<int>(options_.tick_s * 1000);
    if (sender_->in_flight() == 0) {
      const TimestampUs until = std::min<TimestampUs>(next_due_, now + 1'000'000) - now;
      wait_ms = static_cast<int>(std::max<TimestampUs>(0, until) / 1000);
    }
    if (events_pending_ || due_dirty_ || routes_dirty_) wait_ms = 0;
    Record(sender_->Poll(wait_ms));
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

Status WebhookDispatcher::RefreshRoutes() {
  ARGUS_ASSIGN_OR_RETURN(routes_, store_->ListEnabledWebhooks());
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
    for (const store::Event& e : batch) {
      std::string payload;
      for (const store::Webhook& w : routes_) {
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
        deliveries.push_back(std::move(d));
      }
    }
    int64_t last = batch.back().seq;
    ARGUS_RETURN_IF_ERROR(store_->AddDeliveries(deliveries, last));
    deliveries_created_->Inc(static_cast<double>(deliveries.size()));
    if (!deliveries.empty()) due_dirty_ = true;
    cursor_ = stored_cursor_ = last;
    last_cursor_store_ = now;
    if (static_cast<int>(batch.size()) < kEventBatch || stopping_) return OkStatus();
  }
}

Status WebhookDispatcher::SendDue(TimestampUs now) {
  int free = options_.concurrency - static_cast<int>(sender_->in_flight());
  if (free <= 0) return OkStatus();
  store::LeaseDeliveriesRequest request;
  request.now = now;
  request.max = free;
  // An attempt lost with the process is retried once its lease passes: after the timeout.
  request.lease_s = options_.sender.timeout_s + 30;
  request.in_flight = in_flight_per_webhook_;
  request.max_per_webhook = options_.max_in_flight_per_webhook;
  ARGUS_ASSIGN_OR_RETURN(auto leased, store_->LeaseDeliveries(request));
  if (static_cast<int>(leased.size()) < free) {
    // Everything due now is leased (or waits for a webhook's attempts in flight, which Record
    // reports): sleep until the next delivery comes due.
    ARGUS_ASSIGN_OR_RETURN(std::optional<TimestampUs> due, store_->NextDueAt());
    next_due_ = due && *due > now ? *due : std::numeric_limits<TimestampUs>::max();
  } else {
    next_due_ = now;  // more may be due: look again once attempts free capacity
  }
  int64_t timestamp_s = now / 1'000'000;
  for (store::LeasedDelivery& l : leased) {
    std::vector<std::string> keys;
    for (const std::string* secret : {&l.secret, &l.previous_secret}) {
      if (secret->empty()) continue;
      std::string key;
      if (DecodeWebhookSecret(*secret, &key).ok()) keys.push_back(std::move(key));
    }
    OutboundRequest out;
    out.tag = next_tag_++;
    out.url = std::move(l.url);
    out.body = l.delivery.payload;
    out.headers = {"webhook-id: " + l.delivery.event_id,
                   "webhook-timestamp: " + std::to_string(timestamp_s),
                   "webhook-signature: " +
                       WebhookSignatureHeader(keys, l.delivery.event_id, timestamp_s, out.body)};
    in_flight_[out.tag] = {l.delivery.id, l.delivery.webhook_id, l.delivery.attempts, now};
    ++in_flight_per_webhook_[l.delivery.webhook_id];
    sender_->Start(std::move(out));
  }
  return OkStatus();
}

void WebhookDispatcher::Record(std::vector<OutboundResult> results) {
  if (results.empty()) return;
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::vector<store::AttemptResult> attempts;
  attempts.reserve(results.size());
  for (OutboundResult& r : results) {
    auto it = in_flight_.find(r.tag);
    if (it == in_flight_.end()) continue;
    const InFlight& f = it->second;
    store::AttemptResult a;
    a.delivery_id = f.delivery_id;
    a.at = f.started_at;
    a.status_code = r.status_code;
    a.latency_ms = r.latency_ms;
    a.success = r.success;
    a.error = std::move(r.error);
    a.retry_at = clock_->NowUs() +
                 static_cast<TimestampUs>(WebhookBackoffS(options_, f.attempt, unit(rng)) * 1e6);
    attempts.push_back(std::move(a));
    attempts_total_->WithLabels({r.success ? "success" : "failure"}).Inc();
    attempt_seconds_->Observe(r.latency_ms / 1000.0);
    if (--in_flight_per_webhook_[f.webhook_id] <= 0) in_flight_per_webhook_.erase(f.webhook_id);
    in_flight_.erase(it);
  }
  due_dirty_ = true;  // capacity is free again, and retries may be due
  auto disabled = store_->RecordAttempts(attempts, options_.disable_after_failures);
  if (!disabled.ok()) {
    // The attempts stay leased and are made again when the lease passes.
    log::Warn("webhooks: cannot record attempts (they are made again after their lease)",
              {{"attempts", attempts.size()}, {"error", disabled.status().ToString()}});
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
