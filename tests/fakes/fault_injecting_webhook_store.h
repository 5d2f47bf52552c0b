#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/webhook_store.h"
#include "tests/fakes/fault_plan.h"

namespace argus::store {

/// A WebhookStore that forwards every call to `base` (borrowed), except the calls its FaultPlan
/// fails or delays (methods named as in webhook_store.h: "AddDeliveries", "LeaseDeliveries",
/// "RecordAttempts", ...). For testing what the webhook dispatcher does when its store calls fail
/// or stall. Thread-safe as `base` is.
class FaultInjectingWebhookStore final : public WebhookStore {
 public:
  explicit FaultInjectingWebhookStore(WebhookStore* base) : base_(base) {}
  FaultPlan& plan() { return plan_; }

  Result<Webhook> CreateWebhook(const Webhook& webhook) override {
    ARGUS_INJECT_FAULT(plan_, "CreateWebhook");
    return base_->CreateWebhook(webhook);
  }
  Result<Webhook> GetWebhook(std::string_view namespace_id, std::string_view id) override {
    ARGUS_INJECT_FAULT(plan_, "GetWebhook");
    return base_->GetWebhook(namespace_id, id);
  }
  Result<Page<Webhook>> ListWebhooks(std::string_view namespace_id,
                                     const PageRequest& page) override {
    ARGUS_INJECT_FAULT(plan_, "ListWebhooks");
    return base_->ListWebhooks(namespace_id, page);
  }
  Result<std::vector<Webhook>> ListEnabledWebhooks() override {
    ARGUS_INJECT_FAULT(plan_, "ListEnabledWebhooks");
    return base_->ListEnabledWebhooks();
  }
  Result<Webhook> UpdateWebhook(std::string_view namespace_id, std::string_view id,
                                const WebhookUpdate& update, TimestampUs now) override {
    ARGUS_INJECT_FAULT(plan_, "UpdateWebhook");
    return base_->UpdateWebhook(namespace_id, id, update, now);
  }
  Result<Webhook> RotateSecret(std::string_view namespace_id, std::string_view id,
                               std::string_view new_secret, TimestampUs previous_expires_at,
                               TimestampUs now) override {
    ARGUS_INJECT_FAULT(plan_, "RotateSecret");
    return base_->RotateSecret(namespace_id, id, new_secret, previous_expires_at, now);
  }
  Status DeleteWebhook(std::string_view namespace_id, std::string_view id) override {
    ARGUS_INJECT_FAULT(plan_, "DeleteWebhook");
    return base_->DeleteWebhook(namespace_id, id);
  }
  Status DeleteNamespaceWebhooks(std::string_view namespace_id) override {
    ARGUS_INJECT_FAULT(plan_, "DeleteNamespaceWebhooks");
    return base_->DeleteNamespaceWebhooks(namespace_id);
  }
  Result<int64_t> DispatchCursor() override {
    ARGUS_INJECT_FAULT(plan_, "DispatchCursor");
    return base_->DispatchCursor();
  }
  Status AddDeliveries(const std::vector<WebhookDelivery>& deliveries, int64_t cursor) override {
    ARGUS_INJECT_FAULT(plan_, "AddDeliveries");
    return base_->AddDeliveries(deliveries, cursor);
  }
  Result<std::vector<LeasedDelivery>> LeaseDeliveries(
      const LeaseDeliveriesRequest& request) override {
    ARGUS_INJECT_FAULT(plan_, "LeaseDeliveries");
    return base_->LeaseDeliveries(request);
  }
  Result<std::optional<TimestampUs>> NextDueAt(std::string_view webhook_id) override {
    ARGUS_INJECT_FAULT(plan_, "NextDueAt");
    return base_->NextDueAt(webhook_id);
  }
  Result<std::vector<std::string>> RecordAttempts(const std::vector<AttemptResult>& results,
                                                  int disable_after_failures) override {
    ARGUS_INJECT_FAULT(plan_, "RecordAttempts");
    return base_->RecordAttempts(results, disable_after_failures);
  }
  /// Fails or delays as "AddDeliveries" when it adds any, then as "RecordAttempts" when it records
  /// any: a plan written for the two calls holds when the dispatcher merges them.
  Result<std::vector<std::string>> AddDeliveriesAndRecordAttempts(
      const std::vector<WebhookDelivery>& deliveries, int64_t cursor,
      const std::vector<AttemptResult>& results, int disable_after_failures) override {
    if (!deliveries.empty()) {
      ARGUS_INJECT_FAULT(plan_, "AddDeliveries");
    }
    if (!results.empty()) {
      ARGUS_INJECT_FAULT(plan_, "RecordAttempts");
    }
    return base_->AddDeliveriesAndRecordAttempts(deliveries, cursor, results,
                                                 disable_after_failures);
  }
  Result<Page<WebhookDelivery>> ListDeliveries(std::string_view namespace_id,
                                               std::string_view webhook_id,
                                               std::optional<DeliveryStatus> status,
                                               const PageRequest& page) override {
    ARGUS_INJECT_FAULT(plan_, "ListDeliveries");
    return base_->ListDeliveries(namespace_id, webhook_id, status, page);
  }
  Result<WebhookDelivery> GetDelivery(std::string_view namespace_id, std::string_view webhook_id,
                                      std::string_view delivery_id) override {
    ARGUS_INJECT_FAULT(plan_, "GetDelivery");
    return base_->GetDelivery(namespace_id, webhook_id, delivery_id);
  }
  Result<std::vector<DeliveryAttempt>> ListAttempts(std::string_view delivery_id) override {
    ARGUS_INJECT_FAULT(plan_, "ListAttempts");
    return base_->ListAttempts(delivery_id);
  }
  Result<WebhookDelivery> Redeliver(std::string_view namespace_id, std::string_view webhook_id,
                                    std::string_view delivery_id, int extra_attempts,
                                    TimestampUs now) override {
    ARGUS_INJECT_FAULT(plan_, "Redeliver");
    return base_->Redeliver(namespace_id, webhook_id, delivery_id, extra_attempts, now);
  }
  std::unique_ptr<ChangeWatch> WatchChanges(std::function<void()> on_change) override {
    return base_->WatchChanges(std::move(on_change));
  }
  Result<int64_t> Purge(TimestampUs before) override {
    ARGUS_INJECT_FAULT(plan_, "Purge");
    return base_->Purge(before);
  }

 private:
  WebhookStore* const base_;
  FaultPlan plan_;
};

}  // namespace argus::store
