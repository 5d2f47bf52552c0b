#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "store/change_watch.h"
#include "store/metadata_store.h"

namespace argus::store {

/// A subscription: events of one namespace whose type matches `events` are POSTed to `url`,
/// signed the Standard Webhooks way with `secret`.
struct Webhook {
  std::string id;  ///< UUIDv7
  std::string namespace_id;
  std::string url;
  std::string description;
  /// Exact types ("task.failed"), prefix patterns ("task.*") or "*".
  std::vector<std::string> events;
  bool enabled = true;
  std::string secret;  ///< "whsec_" + base64 of 32 random bytes
  /// The secret before the last rotation; receivers get signatures with both until
  /// previous_secret_expires_at. Empty when there is none.
  std::string previous_secret;
  TimestampUs previous_secret_expires_at = 0;
  int consecutive_failures = 0;  ///< failed attempts since the last success
  std::string disabled_reason;   ///< set when the dispatcher disabled it; cleared on enable
  TimestampUs created_at = 0;
  TimestampUs updated_at = 0;
};

/// Fields a PATCH may change; unset ones stay as they are.
struct WebhookUpdate {
  std::optional<std::string> url;
  std::optional<std::string> description;
  std::optional<std::vector<std::string>> events;
  /// true also resets consecutive_failures and clears disabled_reason.
  std::optional<bool> enabled;
};

enum class DeliveryStatus { kPending, kSucceeded, kFailed };
std::string_view DeliveryStatusName(DeliveryStatus status);
Result<DeliveryStatus> ParseDeliveryStatus(std::string_view name);

/// One event to one webhook. Retried until it succeeds or max_attempts is reached.
struct WebhookDelivery {
  std::string id;  ///< UUIDv7
  std::string webhook_id;
  std::string namespace_id;
  std::string event_id;  ///< the `webhook-id` header: stable across retries and redeliveries
  std::string event_type;
  std::string payload;  ///< the exact JSON body sent (signed as is)
  DeliveryStatus status = DeliveryStatus::kPending;
  int attempts = 0;      ///< attempts made so far
  int max_attempts = 8;  ///< a redelivery raises it by the configured budget
  /// When the next attempt is due (pending), or when a leased attempt is presumed lost.
  TimestampUs next_attempt_at = 0;
  int last_status_code = 0;  ///< HTTP status of the last attempt; 0: no response
  std::string last_error;    ///< why the last attempt failed; empty after a success
  double last_latency_ms = 0;
  TimestampUs created_at = 0;
  TimestampUs updated_at = 0;
};

/// One HTTP attempt of a delivery: the delivery log.
struct DeliveryAttempt {
  std::string delivery_id;
  int attempt = 0;  ///< 1-based
  TimestampUs at = 0;
  int status_code = 0;  ///< 0: no HTTP response (connection refused, timeout, refused target)
  double latency_ms = 0;
  std::string error;  ///< empty for a 2xx
};

/// A delivery to send now, with what the sender needs from its webhook.
struct LeasedDelivery {
  WebhookDelivery delivery;
  std::string url;
  std::string secret;
  std::string previous_secret;  ///< empty, or still within its grace period
};

/// What the sender reports after one attempt.
struct AttemptResult {
  std::string delivery_id;
  TimestampUs at = 0;  ///< when the attempt started
  int status_code = 0;
  double latency_ms = 0;
  std::string error;  ///< empty: success
  bool success = false;
  /// When the next attempt is due if this one failed and attempts remain.
  TimestampUs retry_at = 0;
};

struct LeaseDeliveriesRequest {
  TimestampUs now = 0;
  int max = 16;
  /// Leased deliveries get next_attempt_at = now + lease_s, so a process that dies mid-attempt
  /// leaves them to be tried again later.
  double lease_s = 60;
  /// Attempts already in flight per webhook id; no webhook gets more than max_per_webhook.
  std::map<std::string, int> in_flight;
  int max_per_webhook = 4;
  /// When not empty: only these webhooks' deliveries, at most the given number of each
  /// (in_flight and max_per_webhook are ignored; max still bounds the total). Each webhook's due
  /// deliveries are found on their own, so a long backlog of one costs the others nothing: the
  /// dispatcher's per-webhook windows ask this way.
  std::map<std::string, int> per_webhook;
};

/// Durable webhook subscriptions and their delivery outbox and log. Thread-safe. Every
/// acknowledged write survives kill -9. Calls taking a namespace return NotFound for a webhook or
/// delivery in another namespace. All calls: Unavailable when the backend cannot be reached;
/// Internal on corruption.
class WebhookStore {
 public:
  virtual ~WebhookStore() = default;

  /// Stores `webhook` as given (the caller fills id, secret and times).
  virtual Result<Webhook> CreateWebhook(const Webhook& webhook) = 0;
  virtual Result<Webhook> GetWebhook(std::string_view namespace_id, std::string_view id) = 0;
  /// Webhooks of one namespace, oldest first.
  virtual Result<Page<Webhook>> ListWebhooks(std::string_view namespace_id,
                                             const PageRequest& page) = 0;
  /// Every enabled webhook of every namespace (the dispatcher's routing table).
  virtual Result<std::vector<Webhook>> ListEnabledWebhooks() = 0;
  virtual Result<Webhook> UpdateWebhook(std::string_view namespace_id, std::string_view id,
                                        const WebhookUpdate& update, TimestampUs now) = 0;
  /// Sets a new secret; the old one stays valid for signing until `previous_expires_at`.
  virtual Result<Webhook> RotateSecret(std::string_view namespace_id, std::string_view id,
                                       std::string_view new_secret, TimestampUs previous_expires_at,
                                       TimestampUs now) = 0;
  /// Deletes the webhook with its deliveries and attempts.
  virtual Status DeleteWebhook(std::string_view namespace_id, std::string_view id) = 0;
  /// Deletes every webhook of a namespace (the namespace is being deleted).
  virtual Status DeleteNamespaceWebhooks(std::string_view namespace_id) = 0;

  /// The event seq up to which events have been turned into deliveries (0 at first).
  virtual Result<int64_t> DispatchCursor() = 0;
  /// Stores new deliveries as given and moves the cursor to `cursor`, in one transaction, so
  /// every event becomes its deliveries exactly once. Deliveries whose webhook is gone are
  /// dropped. A delivery added with attempts = 1 and next_attempt_at = the end of a lease is one
  /// whose first attempt the caller starts at once: it is leased from the moment it exists.
  virtual Status AddDeliveries(const std::vector<WebhookDelivery>& deliveries, int64_t cursor) = 0;

  /// Pending deliveries due at request.now of enabled webhooks, oldest due first; each gets
  /// attempts + 1 and next_attempt_at = now + lease_s before it is returned.
  virtual Result<std::vector<LeasedDelivery>> LeaseDeliveries(
      const LeaseDeliveriesRequest& request) = 0;
  /// When the earliest pending delivery of webhook `webhook_id` is due (its next attempt, or the
  /// end of the lease of one in flight), nullopt when it has none pending (or does not exist):
  /// the dispatcher looks for that webhook's deliveries again then.
  virtual Result<std::optional<TimestampUs>> NextDueAt(std::string_view webhook_id) = 0;
  /// Records attempts in one transaction, in order, as if one call were made per result: an
  /// attempt row each; the delivery becomes succeeded, or failed when it has no attempts left,
  /// else stays pending until retry_at; the webhook's consecutive_failures resets on success and
  /// grows on failure, and reaching `disable_after_failures` (0: never) disables it with a reason.
  /// Results for deliveries that no longer exist are ignored. Returns the ids of webhooks this
  /// call disabled. Made for batches: the dispatcher records every attempt that finished since
  /// its last call at once.
  virtual Result<std::vector<std::string>> RecordAttempts(const std::vector<AttemptResult>& results,
                                                          int disable_after_failures) = 0;
  /// AddDeliveries(deliveries, cursor), then RecordAttempts(results, disable_after_failures), in
  /// one transaction: the outcome of those two calls made in that order, or nothing of either.
  /// For the dispatcher, whose attempts often end before the row of their delivery is written: a
  /// backend may store such a delivery once, finished.
  virtual Result<std::vector<std::string>> AddDeliveriesAndRecordAttempts(
      const std::vector<WebhookDelivery>& deliveries, int64_t cursor,
      const std::vector<AttemptResult>& results, int disable_after_failures) = 0;

  /// Deliveries of one webhook, newest first, optionally only one status. Here
  /// page.after_id is an upper bound: a page holds deliveries with ids below it, and
  /// next_after_id continues with older ones.
  virtual Result<Page<WebhookDelivery>> ListDeliveries(std::string_view namespace_id,
                                                       std::string_view webhook_id,
                                                       std::optional<DeliveryStatus> status,
                                                       const PageRequest& page) = 0;
  virtual Result<WebhookDelivery> GetDelivery(std::string_view namespace_id,
                                              std::string_view webhook_id,
                                              std::string_view delivery_id) = 0;
  /// Every attempt of a delivery, oldest first.
  virtual Result<std::vector<DeliveryAttempt>> ListAttempts(std::string_view delivery_id) = 0;
  /// Makes a delivery pending again, due at `now`, with `extra_attempts` more attempts allowed
  /// (max_attempts = attempts + extra_attempts), whatever its status.
  virtual Result<WebhookDelivery> Redeliver(std::string_view namespace_id,
                                            std::string_view webhook_id,
                                            std::string_view delivery_id, int extra_attempts,
                                            TimestampUs now) = 0;

  /// Deletes succeeded and failed deliveries (with their attempts) last updated before `before`.
  virtual Result<int64_t> Purge(TimestampUs before) = 0;

  /// Calls `on_change` after each committed change made through CreateWebhook, UpdateWebhook,
  /// RotateSecret, DeleteWebhook, DeleteNamespaceWebhooks or Redeliver, whoever made it, so the
  /// dispatcher looks again at once without being told by the API. The callback must be quick
  /// and must not call the store (ChangeWatchers). A backend that is not multi_process reports
  /// the changes of its own process only.
  virtual std::unique_ptr<ChangeWatch> WatchChanges(std::function<void()> on_change) = 0;
};

}  // namespace argus::store
