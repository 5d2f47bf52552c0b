// Shared fixture of the WebhookStore conformance suite (src/store/webhook_store.h), run against
// every backend by name. A backend is done when the suite passes unchanged (STYLE.md §3.7). Stores
// are created only through the StoreRegistry, with a FakeClock for ids and a fresh data directory
// per test. The suite is instantiated in webhook_store_contract_test.cc.

#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "core/id.h"
#include "store/webhook_store.h"
#include "tests/contract/store_contract_fixture.h"

namespace argus::store {

inline constexpr int64_t kSecondUs = 1'000'000;

class WebhookStoreContractTest : public StoreContractTest<WebhookStore, &StoreRegistry::webhooks> {
 protected:
  // Each id comes a millisecond after the last, so creation order is id order.
  std::string NextId() {
    clock_.AdvanceUs(1000);
    return NewId(clock_);
  }

  TimestampUs Now() const { return clock_.NowUs(); }

  Webhook MakeWebhook(const std::string& namespace_id = "ns1") {
    Webhook w;
    w.id = NextId();
    w.namespace_id = namespace_id;
    w.url = "https://example.com/hooks/" + w.id;
    w.description = "test hook";
    w.events = {"task.*"};
    w.secret = "whsec_current";
    w.created_at = Now();
    w.updated_at = Now();
    return w;
  }

  Webhook MustCreate(const std::string& namespace_id = "ns1") {
    auto created = store_->CreateWebhook(MakeWebhook(namespace_id));
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return created.ok() ? std::move(created).value() : Webhook{};
  }

  // A delivery due at `due` (now when unset).
  WebhookDelivery MakeDelivery(const Webhook& w, std::optional<TimestampUs> due = std::nullopt) {
    WebhookDelivery d;
    d.id = NextId();
    d.webhook_id = w.id;
    d.namespace_id = w.namespace_id;
    d.event_id = "evt_" + d.id;
    d.event_type = "task.succeeded";
    d.payload = R"({"type":"task.succeeded","data":{"id":")" + d.id + R"("}})";
    d.max_attempts = 3;
    d.next_attempt_at = due.value_or(Now());
    d.created_at = Now();
    d.updated_at = Now();
    return d;
  }

  void MustAdd(const std::vector<WebhookDelivery>& deliveries) {
    Status status = store_->AddDeliveries(deliveries, ++cursor_);
    EXPECT_TRUE(status.ok()) << status.ToString();
  }

  WebhookDelivery MustAddOne(const Webhook& w, std::optional<TimestampUs> due = std::nullopt) {
    WebhookDelivery d = MakeDelivery(w, due);
    MustAdd({d});
    return d;
  }

  LeaseDeliveriesRequest LeaseNow(int max = 16) { return {.now = Now(), .max = max}; }

  std::vector<LeasedDelivery> MustLease(const LeaseDeliveriesRequest& request) {
    auto leased = store_->LeaseDeliveries(request);
    EXPECT_TRUE(leased.ok()) << leased.status().ToString();
    return leased.ok() ? std::move(leased).value() : std::vector<LeasedDelivery>{};
  }

  std::vector<std::string> LeasedIds(const LeaseDeliveriesRequest& request) {
    std::vector<std::string> ids;
    for (const LeasedDelivery& l : MustLease(request)) ids.push_back(l.delivery.id);
    return ids;
  }

  std::vector<std::string> MustRecord(const std::vector<AttemptResult>& results,
                                      int disable_after_failures = 0) {
    auto disabled = store_->RecordAttempts(results, disable_after_failures);
    EXPECT_TRUE(disabled.ok()) << disabled.status().ToString();
    return disabled.ok() ? std::move(disabled).value() : std::vector<std::string>{};
  }

  AttemptResult Success(const std::string& delivery_id) {
    return {.delivery_id = delivery_id,
            .at = Now(),
            .status_code = 204,
            .latency_ms = 12.5,
            .success = true};
  }

  AttemptResult Failure(const std::string& delivery_id, TimestampUs retry_at = 0) {
    return {.delivery_id = delivery_id,
            .at = Now(),
            .status_code = 503,
            .latency_ms = 40.25,
            .error = "HTTP 503",
            .success = false,
            .retry_at = retry_at};
  }

  Webhook MustGet(const Webhook& w) {
    auto got = store_->GetWebhook(w.namespace_id, w.id);
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    return got.ok() ? std::move(got).value() : Webhook{};
  }

  WebhookDelivery MustGetDelivery(const Webhook& w, const std::string& delivery_id) {
    auto got = store_->GetDelivery(w.namespace_id, w.id, delivery_id);
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    return got.ok() ? std::move(got).value() : WebhookDelivery{};
  }

  std::vector<std::string> DeliveryIds(const Webhook& w,
                                       std::optional<DeliveryStatus> status = std::nullopt) {
    auto page = store_->ListDeliveries(w.namespace_id, w.id, status, {.limit = 1000});
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    std::vector<std::string> ids;
    if (page.ok()) {
      for (const WebhookDelivery& d : page->items) ids.push_back(d.id);
    }
    return ids;
  }

  std::vector<DeliveryAttempt> MustListAttempts(const std::string& delivery_id) {
    auto attempts = store_->ListAttempts(delivery_id);
    EXPECT_TRUE(attempts.ok()) << attempts.status().ToString();
    return attempts.ok() ? std::move(attempts).value() : std::vector<DeliveryAttempt>{};
  }

  int64_t cursor_ = 0;
};

}  // namespace argus::store
