#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/sqlite/store_file.h"
#include "store/store_registry.h"
#include "store/webhook_store.h"

namespace argus::store::sqlite {

/// WebhookStore in metadata.db (SqliteStoreFile): writes run as operations of the file's group
/// commit (the dispatcher's delivery rows and cursor move share commits with everything else);
/// reads use its read-only pool. Durable once a call returns. One argus process per file
/// (capabilities: durable, not multi_process). All methods are thread-safe.
///
/// Left open by the contract, decided here:
/// - CreateWebhook: AlreadyExists when the id is taken.
/// - LeaseDeliveries: InvalidArgument for max outside 0..kMaxLease or a lease_s that is negative,
///   not finite or absurdly long; max 0 leases nothing. A webhook whose in-flight count already
///   reaches max_per_webhook gets nothing (so max_per_webhook <= 0 leases nothing). At most
///   kMaxLeaseScan due deliveries are examined per call, which bounds the write transaction when
///   the due backlog belongs to webhooks at their cap. With per_webhook, each listed webhook
///   costs one index seek plus the rows it gets, whatever the backlog.
/// - RecordAttempts: the attempt row is numbered with the delivery's current `attempts`; a second
///   result for the same attempt replaces the first row rather than failing the batch.
/// - Redeliver: InvalidArgument unless extra_attempts >= 1.
class SqliteWebhookStore final : public WebhookStore {
 public:
  static constexpr int kMaxLease = 1000;
  static constexpr int kMaxLeaseScan = 10000;

  /// Opens (or shares) `<args.data_dir>/metadata.db`; errors as SqliteStoreFile::Open.
  static Result<std::unique_ptr<WebhookStore>> Create(const StoreArgs& args);

  Result<Webhook> CreateWebhook(const Webhook& webhook) override;
  Result<Webhook> GetWebhook(std::string_view namespace_id, std::string_view id) override;
  Result<Page<Webhook>> ListWebhooks(std::string_view namespace_id,
                                     const PageRequest& page) override;
  Result<std::vector<Webhook>> ListEnabledWebhooks() override;
  Result<Webhook> UpdateWebhook(std::string_view namespace_id, std::string_view id,
                                const WebhookUpdate& update, TimestampUs now) override;
  Result<Webhook> RotateSecret(std::string_view namespace_id, std::string_view id,
                               std::string_view new_secret, TimestampUs previous_expires_at,
                               TimestampUs now) override;
  Status DeleteWebhook(std::string_view namespace_id, std::string_view id) override;
  Status DeleteNamespaceWebhooks(std::string_view namespace_id) override;

  Result<int64_t> DispatchCursor() override;
  Status AddDeliveries(const std::vector<WebhookDelivery>& deliveries, int64_t cursor) override;

  Result<std::vector<LeasedDelivery>> LeaseDeliveries(
      const LeaseDeliveriesRequest& request) override;
  Result<std::optional<TimestampUs>> NextDueAt(std::string_view webhook_id) override;
  Result<std::vector<std::string>> RecordAttempts(const std::vector<AttemptResult>& results,
                                                  int disable_after_failures) override;
  Result<std::vector<std::string>> AddDeliveriesAndRecordAttempts(
      const std::vector<WebhookDelivery>& deliveries, int64_t cursor,
      const std::vector<AttemptResult>& results, int disable_after_failures) override;

  Result<Page<WebhookDelivery>> ListDeliveries(std::string_view namespace_id,
                                               std::string_view webhook_id,
                                               std::optional<DeliveryStatus> status,
                                               const PageRequest& page) override;
  Result<WebhookDelivery> GetDelivery(std::string_view namespace_id, std::string_view webhook_id,
                                      std::string_view delivery_id) override;
  Result<std::vector<DeliveryAttempt>> ListAttempts(std::string_view delivery_id) override;
  Result<WebhookDelivery> Redeliver(std::string_view namespace_id, std::string_view webhook_id,
                                    std::string_view delivery_id, int extra_attempts,
                                    TimestampUs now) override;

  Result<int64_t> Purge(TimestampUs before) override;
  std::unique_ptr<ChangeWatch> WatchChanges(std::function<void()> on_change) override;

 private:
  explicit SqliteWebhookStore(std::shared_ptr<SqliteStoreFile> file);

  // AddDeliveriesAndRecordAttempts; RecordAttempts with no cursor (left where it is).
  Result<std::vector<std::string>> WriteDeliveries(const std::vector<WebhookDelivery>& deliveries,
                                                   std::optional<int64_t> cursor,
                                                   const std::vector<AttemptResult>& results,
                                                   int disable_after_failures);

  /// `written` once it is known to be committed: tells the watchers when it is OK.
  template <typename R>
  R Notified(R written) {
    if (written.ok()) watchers_->Notify();
    return written;
  }

  const std::shared_ptr<SqliteStoreFile> file_;
  const std::string path_;
  ConnectionPool& readers_;
  const std::shared_ptr<ChangeWatchers> watchers_ = std::make_shared<ChangeWatchers>();
};

}  // namespace argus::store::sqlite
