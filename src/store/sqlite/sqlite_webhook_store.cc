#include "store/sqlite/sqlite_webhook_store.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <tuple>
#include <utility>

#include "core/json.h"
#include "store/sqlite/migrations.h"
#include "store/sqlite/sqlite_delivery_rows.h"
#include "store/sqlite/sqlite_metadata_store.h"
#include "store/sqlite/store_file.h"

namespace argus::store::sqlite {
namespace {

// Column lists as macros (more in sqlite_delivery_rows.h) so each statement below is one
// constexpr literal (the SQL text is the statement-cache key).
#define ARGUS_WEBHOOK_COLUMNS                                                     \
  "id, namespace_id, url, description, events, enabled, secret, previous_secret," \
  " previous_secret_expires_at, consecutive_failures, disabled_reason, created_at, updated_at"

constexpr std::string_view kInsertWebhook = "INSERT INTO webhooks(" ARGUS_WEBHOOK_COLUMNS
                                            ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
constexpr std::string_view kSelectWebhook =
    "SELECT " ARGUS_WEBHOOK_COLUMNS " FROM webhooks WHERE id = ? AND namespace_id = ?";
constexpr std::string_view kWebhookInNamespace =
    "SELECT 1 FROM webhooks WHERE id = ? AND namespace_id = ?";
constexpr std::string_view kListWebhooks =
    "SELECT " ARGUS_WEBHOOK_COLUMNS
    " FROM webhooks WHERE namespace_id = ? AND id > ? ORDER BY id LIMIT ?";
constexpr std::string_view kListEnabledWebhooks =
    "SELECT " ARGUS_WEBHOOK_COLUMNS " FROM webhooks WHERE enabled = 1 ORDER BY id";
constexpr std::string_view kSaveWebhook =
    "UPDATE webhooks SET url = ?, description = ?, events = ?, enabled = ?, secret = ?,"
    " previous_secret = ?, previous_secret_expires_at = ?, consecutive_failures = ?,"
    " disabled_reason = ?, updated_at = ? WHERE id = ?";
constexpr std::string_view kDeleteWebhook =
    "DELETE FROM webhooks WHERE id = ? AND namespace_id = ?";
constexpr std::string_view kDeleteNamespaceWebhooks = "DELETE FROM webhooks WHERE namespace_id = ?";

constexpr std::string_view kSelectCursor = "SELECT seq FROM dispatch_cursor WHERE id = 1";

#define ARGUS_LEASE_COLUMNS                                                            \
  "d.id, d.webhook_id, d.namespace_id, d.event_id, d.event_type, d.payload, d.status," \
  " d.attempts, d.max_attempts, d.next_attempt_at, d.last_status_code, d.last_error,"  \
  " d.last_latency_ms, d.created_at, d.updated_at,"                                    \
  " w.url, w.secret, w.previous_secret, w.previous_secret_expires_at"
// CROSS JOIN keeps webhook_deliveries the outer loop, so the scan walks webhook_deliveries_due in
// lease order and can stop early, instead of sorting every due delivery of every webhook.
constexpr std::string_view kLeaseCandidates =
    "SELECT " ARGUS_LEASE_COLUMNS
    " FROM webhook_deliveries AS d CROSS JOIN webhooks AS w ON w.id = d.webhook_id"
    " WHERE d.status = 'pending' AND d.next_attempt_at <= ? AND w.enabled = 1"
    " ORDER BY d.next_attempt_at, d.id LIMIT ?";
// One webhook's due deliveries: the webhook row first (one lookup), then a range of
// webhook_deliveries_due_by_webhook in lease order.
constexpr std::string_view kLeaseCandidatesOfWebhook =
    "SELECT " ARGUS_LEASE_COLUMNS
    " FROM webhooks AS w CROSS JOIN webhook_deliveries AS d ON d.webhook_id = w.id"
    " WHERE w.id = ?1 AND w.enabled = 1 AND d.status = 'pending' AND d.next_attempt_at <= ?2"
    " ORDER BY d.next_attempt_at, d.id LIMIT ?3";
constexpr std::string_view kNextDueOfWebhook =
    "SELECT next_attempt_at FROM webhook_deliveries INDEXED BY webhook_deliveries_due_by_webhook"
    " WHERE webhook_id = ? AND status = 'pending' ORDER BY next_attempt_at LIMIT 1";
constexpr std::string_view kLeaseDelivery =
    "UPDATE webhook_deliveries SET attempts = attempts + 1, next_attempt_at = ?, updated_at = ?"
    " WHERE id = ?";

// Two spellings rather than `(? = '' OR id < ?)`, so the first page and later ones both seek
// webhook_deliveries_by_webhook directly.
constexpr std::string_view kListDeliveries =
    "SELECT " ARGUS_DELIVERY_COLUMNS
    " FROM webhook_deliveries WHERE webhook_id = ?1 AND (?2 IS NULL OR status = ?2)"
    " ORDER BY id DESC LIMIT ?3";
constexpr std::string_view kListDeliveriesBefore =
    "SELECT " ARGUS_DELIVERY_COLUMNS
    " FROM webhook_deliveries WHERE webhook_id = ?1 AND (?2 IS NULL OR status = ?2) AND id < ?4"
    " ORDER BY id DESC LIMIT ?3";
constexpr std::string_view kSelectDelivery =
    "SELECT " ARGUS_DELIVERY_COLUMNS " FROM webhook_deliveries WHERE id = ? AND webhook_id = ?";
constexpr std::string_view kListAttempts =
    "SELECT " ARGUS_ATTEMPT_COLUMNS " FROM webhook_attempts WHERE delivery_id = ? ORDER BY attempt";
constexpr std::string_view kRedeliver =
    "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = ?1,"
    " max_attempts = attempts + ?2, updated_at = ?1 WHERE id = ?3 AND webhook_id = ?4"
    " RETURNING " ARGUS_DELIVERY_COLUMNS;
// `status <> 'pending'` (not IN ('succeeded', 'failed')) so the planner can use the partial
// index webhook_deliveries_finished. Attempts go with their deliveries through ON DELETE CASCADE.
constexpr std::string_view kPurge =
    "DELETE FROM webhook_deliveries WHERE status <> 'pending' AND updated_at < ?";

#undef ARGUS_WEBHOOK_COLUMNS
#undef ARGUS_DELIVERY_COLUMNS
#undef ARGUS_ATTEMPT_COLUMNS
#undef ARGUS_LEASE_COLUMNS

// Far enough for any sane duration, small enough that now + it cannot overflow.
constexpr double kMaxSeconds = 1e11;

TimestampUs UsFromSeconds(double seconds) {
  return static_cast<TimestampUs>(std::llround(std::clamp(seconds, 0.0, kMaxSeconds) * 1e6));
}

Status WebhookNotFound(std::string_view id) {
  return NotFoundError("webhook '" + std::string(id) + "' does not exist");
}

Status DeliveryNotFound(std::string_view webhook_id, std::string_view delivery_id) {
  return NotFoundError("delivery '" + std::string(delivery_id) + "' of webhook '" +
                       std::string(webhook_id) + "' does not exist");
}

Result<std::string> DumpEvents(const Webhook& webhook) {
  try {
    return Json(webhook.events).dump();
  } catch (const Json::exception& e) {
    // nlohmann throws on strings that are not valid UTF-8.
    return InvalidArgumentError("event types of webhook '" + webhook.id +
                                "' are not valid: " + e.what());
  }
}

Result<Webhook> ReadWebhook(const Statement& row, const std::string& path) {
  Webhook w;
  w.id = row.ColumnText(0);
  w.namespace_id = row.ColumnText(1);
  w.url = row.ColumnText(2);
  w.description = row.ColumnText(3);
  Json events = Json::parse(row.ColumnText(4), nullptr, /*allow_exceptions=*/false);
  if (!events.is_array() ||
      !std::all_of(events.begin(), events.end(), [](const Json& e) { return e.is_string(); })) {
    return InternalError("webhook '" + w.id + "' in " + path + " has a corrupt event list");
  }
  for (const Json& e : events) w.events.push_back(e.get<std::string>());
  w.enabled = row.ColumnInt64(5) != 0;
  w.secret = row.ColumnText(6);
  w.previous_secret = row.ColumnText(7);
  w.previous_secret_expires_at = row.ColumnInt64(8);
  w.consecutive_failures = static_cast<int>(row.ColumnInt64(9));
  w.disabled_reason = row.ColumnText(10);
  w.created_at = row.ColumnInt64(11);
  w.updated_at = row.ColumnInt64(12);
  return w;
}

Result<WebhookDelivery> ReadDelivery(const Statement& row, const std::string& path) {
  WebhookDelivery d;
  d.id = row.ColumnText(0);
  d.webhook_id = row.ColumnText(1);
  d.namespace_id = row.ColumnText(2);
  d.event_id = row.ColumnText(3);
  d.event_type = row.ColumnText(4);
  d.payload = row.ColumnText(5);
  auto status = ParseDeliveryStatus(row.ColumnText(6));
  if (!status.ok()) {
    return InternalError("delivery '" + d.id + "' in " + path +
                         " has a corrupt status: " + std::string(status.status().message()));
  }
  d.status = *status;
  d.attempts = static_cast<int>(row.ColumnInt64(7));
  d.max_attempts = static_cast<int>(row.ColumnInt64(8));
  d.next_attempt_at = row.ColumnInt64(9);
  d.last_status_code = static_cast<int>(row.ColumnInt64(10));
  d.last_error = row.ColumnText(11);
  d.last_latency_ms = row.ColumnDouble(12);
  d.created_at = row.ColumnInt64(13);
  d.updated_at = row.ColumnInt64(14);
  return d;
}

DeliveryAttempt ReadAttempt(const Statement& row) {
  return DeliveryAttempt{.delivery_id = row.ColumnText(0),
                         .attempt = static_cast<int>(row.ColumnInt64(1)),
                         .at = row.ColumnInt64(2),
                         .status_code = static_cast<int>(row.ColumnInt64(3)),
                         .latency_ms = row.ColumnDouble(4),
                         .error = row.ColumnText(5)};
}

Result<Webhook> LoadWebhook(SqliteDatabase& db, std::string_view namespace_id,
                            std::string_view id) {
  ARGUS_ASSIGN_OR_RETURN(auto stmt, db.Prepare(kSelectWebhook, "get webhook"));
  stmt->BindText(1, id);
  stmt->BindText(2, namespace_id);
  ARGUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
  if (!row) return WebhookNotFound(id);
  return ReadWebhook(*stmt, db.path());
}

// OK when webhook `id` exists in `namespace_id`, else NotFound naming it.
Status CheckWebhookInNamespace(SqliteDatabase& db, std::string_view namespace_id,
                               std::string_view id) {
  ARGUS_ASSIGN_OR_RETURN(auto stmt, db.Prepare(kWebhookInNamespace, "find webhook"));
  stmt->BindText(1, id);
  stmt->BindText(2, namespace_id);
  ARGUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
  return row ? OkStatus() : WebhookNotFound(id);
}

Status SaveWebhook(SqliteDatabase& db, const Webhook& w, std::string_view operation) {
  ARGUS_ASSIGN_OR_RETURN(std::string events, DumpEvents(w));
  ARGUS_ASSIGN_OR_RETURN(auto stmt, db.Prepare(kSaveWebhook, operation));
  stmt->BindText(1, w.url);
  stmt->BindText(2, w.description);
  stmt->BindText(3, events);
  stmt->BindInt64(4, w.enabled ? 1 : 0);
  stmt->BindText(5, w.secret);
  stmt->BindText(6, w.previous_secret);
  stmt->BindInt64(7, w.previous_secret_expires_at);
  stmt->BindInt64(8, w.consecutive_failures);
  stmt->BindText(9, w.disabled_reason);
  stmt->BindInt64(10, w.updated_at);
  stmt->BindText(11, w.id);
  return stmt->Run();
}

// A row of kLeaseCandidates or kLeaseCandidatesOfWebhook.
Result<LeasedDelivery> ReadLeaseCandidate(const Statement& row, TimestampUs now,
                                          const std::string& path) {
  LeasedDelivery leased;
  ARGUS_ASSIGN_OR_RETURN(leased.delivery, ReadDelivery(row, path));
  leased.url = row.ColumnText(15);
  leased.secret = row.ColumnText(16);
  if (row.ColumnInt64(18) > now) leased.previous_secret = row.ColumnText(17);
  return leased;
}

// The due deliveries LeaseDeliveries hands out, in lease order, not yet marked as leased. Walks
// the due index and skips webhooks at their cap, so one slow webhook's backlog does not starve
// the others (up to kMaxLeaseScan rows).
Result<std::vector<LeasedDelivery>> PickDueDeliveries(SqliteDatabase& db,
                                                      const LeaseDeliveriesRequest& request) {
  std::vector<LeasedDelivery> picked;
  std::map<std::string, int, std::less<>> in_flight(request.in_flight.begin(),
                                                    request.in_flight.end());
  ARGUS_ASSIGN_OR_RETURN(auto stmt, db.Prepare(kLeaseCandidates, "lease webhook deliveries"));
  stmt->BindInt64(1, request.now);
  stmt->BindInt64(2, SqliteWebhookStore::kMaxLeaseScan);
  while (static_cast<int>(picked.size()) < request.max) {
    ARGUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    int& webhook_in_flight = in_flight[stmt->ColumnText(1)];
    if (webhook_in_flight >= request.max_per_webhook) continue;
    ARGUS_ASSIGN_OR_RETURN(LeasedDelivery leased,
                           ReadLeaseCandidate(*stmt, request.now, db.path()));
    ++webhook_in_flight;
    picked.push_back(std::move(leased));
  }
  return picked;
}

// As PickDueDeliveries for request.per_webhook: each webhook's own oldest due deliveries, merged
// in lease order and cut at request.max.
Result<std::vector<LeasedDelivery>> PickDueDeliveriesPerWebhook(
    SqliteDatabase& db, const LeaseDeliveriesRequest& request) {
  std::vector<LeasedDelivery> picked;
  for (const auto& [webhook_id, wanted] : request.per_webhook) {
    if (wanted <= 0) continue;
    ARGUS_ASSIGN_OR_RETURN(auto stmt,
                           db.Prepare(kLeaseCandidatesOfWebhook, "lease webhook deliveries"));
    stmt->BindText(1, webhook_id);
    stmt->BindInt64(2, request.now);
    stmt->BindInt64(3, std::min(wanted, request.max));
    for (;;) {
      ARGUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
      if (!row) break;
      ARGUS_ASSIGN_OR_RETURN(LeasedDelivery leased,
                             ReadLeaseCandidate(*stmt, request.now, db.path()));
      picked.push_back(std::move(leased));
    }
  }
  std::sort(picked.begin(), picked.end(), [](const LeasedDelivery& a, const LeasedDelivery& b) {
    return std::tie(a.delivery.next_attempt_at, a.delivery.id) <
           std::tie(b.delivery.next_attempt_at, b.delivery.id);
  });
  if (static_cast<int>(picked.size()) > request.max) picked.resize(request.max);
  return picked;
}

}  // namespace

SqliteWebhookStore::SqliteWebhookStore(std::shared_ptr<SqliteStoreFile> file)
    : file_(std::move(file)), path_(file_->path()), readers_(file_->readers()) {}

Result<std::unique_ptr<WebhookStore>> SqliteWebhookStore::Create(const StoreArgs& args) {
  ARGUS_ASSIGN_OR_RETURN(auto file, SqliteStoreFile::Open(args));
  return std::unique_ptr<WebhookStore>(new SqliteWebhookStore(std::move(file)));
}

Result<Webhook> SqliteWebhookStore::CreateWebhook(const Webhook& webhook) {
  ARGUS_ASSIGN_OR_RETURN(std::string events, DumpEvents(webhook));
  return Notified(RunWrite(file_->writer(), [&](SqliteDatabase& w) -> Result<Webhook> {
    ARGUS_ASSIGN_OR_RETURN(auto stmt, w.Prepare(kInsertWebhook, "create webhook"));
    stmt->BindText(1, webhook.id);
    stmt->BindText(2, webhook.namespace_id);
    stmt->BindText(3, webhook.url);
    stmt->BindText(4, webhook.description);
    stmt->BindText(5, events);
    stmt->BindInt64(6, webhook.enabled ? 1 : 0);
    stmt->BindText(7, webhook.secret);
    stmt->BindText(8, webhook.previous_secret);
    stmt->BindInt64(9, webhook.previous_secret_expires_at);
    stmt->BindInt64(10, webhook.consecutive_failures);
    stmt->BindText(11, webhook.disabled_reason);
    stmt->BindInt64(12, webhook.created_at);
    stmt->BindInt64(13, webhook.updated_at);
    Status status = stmt->Run();
    if (status.code() == StatusCode::kAlreadyExists) {
      return AlreadyExistsError("a webhook with id '" + webhook.id + "' already exists");
    }
    ARGUS_RETURN_IF_ERROR(status);
    return webhook;
  }));
}

Result<Webhook> SqliteWebhookStore::GetWebhook(std::string_view namespace_id, std::string_view id) {
  ARGUS_ASSIGN_OR_RETURN(auto db, readers_.Acquire());
  return LoadWebhook(*db, namespace_id, id);
}

Result<Page<Webhook>> SqliteWebhookStore::ListWebhooks(std::string_view namespace_id,
                                                       const PageRequest& page) {
  ARGUS_RETURN_IF_ERROR(CheckPageRequest(page));
  ARGUS_ASSIGN_OR_RETURN(auto db, readers_.Acquire());
  ARGUS_ASSIGN_OR_RETURN(auto stmt, db->Prepare(kListWebhooks, "list webhooks"));
  stmt->BindText(1, namespace_id);
  stmt->BindText(2, page.after_id);
  stmt->BindInt64(3, page.limit + 1);
  return ReadPage<Webhook>(*stmt, page.limit,
                           [this](const Statement& row) { return ReadWebhook(row, path_); });
}

Result<std::vector<Webhook>> SqliteWebhookStore::ListEnabledWebhooks() {
  ARGUS_ASSIGN_OR_RETURN(auto db, readers_.Acquire());
  ARGUS_ASSIGN_OR_RETURN(auto stmt, db->Prepare(kListEnabledWebhooks, "list enabled webhooks"));
  std::vector<Webhook> webhooks;
  for (;;) {
    ARGUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    ARGUS_ASSIGN_OR_RETURN(Webhook webhook, ReadWebhook(*stmt, path_));
    webhooks.push_back(std::move(webhook));
  }
  return webhooks;
}

Result<Webhook> SqliteWebhookStore::UpdateWebhook(std::string_view namespace_id,
                                                  std::string_view id, const WebhookUpdate& update,
                                                  TimestampUs now) {
  return Notified(RunWrite(file_->writer(), [&](SqliteDatabase& w) -> Result<Webhook> {
    ARGUS_ASSIGN_OR_RETURN(auto txn, Transaction::BeginImmediate(w, "update webhook"));
    ARGUS_ASSIGN_OR_RETURN(Webhook webhook, LoadWebhook(w, namespace_id, id));
    if (update.url) webhook.url = *update.url;
    if (update.description) webhook.description = *update.description;
    if (update.events) webhook.events = *update.events;
    if (update.enabled) {
      webhook.enabled = *update.enabled;
      if (webhook.enabled) {
        webhook.consecutive_failures = 0;
        webhook.disabled_reason.clear();
      }
    }
    webhook.updated_at = now;
    ARGUS_RETURN_IF_ERROR(SaveWebhook(w, webhook, "update webhook"));
    ARGUS_RETURN_IF_ERROR(txn.Commit());
    return webhook;
  }));
}

Result<Webhook> SqliteWebhookStore::RotateSecret(std::string_view namespace_id, std::string_view id,
                                                 std::string_view new_secret,
                                                 TimestampUs previous_expires_at, TimestampUs now) {
  return Notified(RunWrite(file_->writer(), [&](SqliteDatabase& w) -> Result<Webhook> {
    ARGUS_ASSIGN_OR_RETURN(auto txn, Transaction::BeginImmediate(w, "rotate webhook secret"));
    ARGUS_ASSIGN_OR_RETURN(Webhook webhook, LoadWebhook(w, namespace_id, id));
    webhook.previous_secret = std::exchange(webhook.secret, std::string(new_secret));
    webhook.previous_secret_expires_at = previous_expires_at;
    webhook.updated_at = now;
    ARGUS_RETURN_IF_ERROR(SaveWebhook(w, webhook, "rotate webhook secret"));
    ARGUS_RETURN_IF_ERROR(txn.Commit());
    return webhook;
  }));
}

Status SqliteWebhookStore::DeleteWebhook(std::string_view namespace_id, std::string_view id) {
  return Notified(file_->writer().Run([&](SqliteDatabase& w) -> Status {
    // Deliveries and their attempts go with it through ON DELETE CASCADE, in the same implicit
    // transaction.
    ARGUS_ASSIGN_OR_RETURN(auto stmt, w.Prepare(kDeleteWebhook, "delete webhook"));
    stmt->BindText(1, id);
    stmt->BindText(2, namespace_id);
    ARGUS_RETURN_IF_ERROR(stmt->Run());
    if (stmt->Changes() == 0) return WebhookNotFound(id);
    return OkStatus();
  }));
}

Status SqliteWebhookStore::DeleteNamespaceWebhooks(std::string_view namespace_id) {
  return Notified(file_->writer().Run([&](SqliteDatabase& w) -> Status {
    ARGUS_ASSIGN_OR_RETURN(auto stmt,
                           w.Prepare(kDeleteNamespaceWebhooks, "delete namespace webhooks"));
    stmt->BindText(1, namespace_id);
    return stmt->Run();
  }));
}

Result<int64_t> SqliteWebhookStore::DispatchCursor() {
  ARGUS_ASSIGN_OR_RETURN(auto db, readers_.Acquire());
  ARGUS_ASSIGN_OR_RETURN(auto stmt, db->Prepare(kSelectCursor, "read webhook dispatch cursor"));
  ARGUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
  if (!row) return InternalError(path_ + " has no dispatch_cursor row");
  return stmt->ColumnInt64(0);
}

Status SqliteWebhookStore::AddDeliveries(const std::vector<WebhookDelivery>& deliveries,
                                         int64_t cursor) {
  return file_->writer().Run([&](SqliteDatabase& w) -> Status {
    ARGUS_ASSIGN_OR_RETURN(auto txn, Transaction::BeginImmediate(w, "add webhook deliveries"));
    std::vector<std::string> disabled;
    ARGUS_RETURN_IF_ERROR(WriteDeliveryRows(w, deliveries, cursor, {}, 0, disabled));
    return txn.Commit();
  });
}

Result<std::vector<std::string>> SqliteWebhookStore::RecordAttempts(
    const std::vector<AttemptResult>& results, int disable_after_failures) {
  if (results.empty()) return std::vector<std::string>();
  return WriteDeliveries({}, std::nullopt, results, disable_after_failures);
}

Result<std::vector<std::string>> SqliteWebhookStore::AddDeliveriesAndRecordAttempts(
    const std::vector<WebhookDelivery>& deliveries, int64_t cursor,
    const std::vector<AttemptResult>& results, int disable_after_failures) {
  return WriteDeliveries(deliveries, cursor, results, disable_after_failures);
}

Result<std::vector<std::string>> SqliteWebhookStore::WriteDeliveries(
    const std::vector<WebhookDelivery>& deliveries, std::optional<int64_t> cursor,
    const std::vector<AttemptResult>& results, int disable_after_failures) {
  return RunWrite(file_->writer(), [&](SqliteDatabase& w) -> Result<std::vector<std::string>> {
    ARGUS_ASSIGN_OR_RETURN(auto txn, Transaction::BeginImmediate(w, "record webhook attempts"));
    std::vector<std::string> disabled;
    ARGUS_RETURN_IF_ERROR(
        WriteDeliveryRows(w, deliveries, cursor, results, disable_after_failures, disabled));
    ARGUS_RETURN_IF_ERROR(txn.Commit());
    return disabled;
  });
}

Result<std::vector<LeasedDelivery>> SqliteWebhookStore::LeaseDeliveries(
    const LeaseDeliveriesRequest& request) {
  if (request.max < 0 || request.max > kMaxLease) {
    return InvalidArgumentError("a webhook delivery lease takes between 0 and " +
                                std::to_string(kMaxLease) + " deliveries, not " +
                                std::to_string(request.max));
  }
  if (!std::isfinite(request.lease_s) || request.lease_s < 0 || request.lease_s > kMaxSeconds) {
    return InvalidArgumentError("lease_s must be a number of seconds between 0 and 1e11, not " +
                                std::to_string(request.lease_s));
  }
  if (request.max == 0) return std::vector<LeasedDelivery>();
  const TimestampUs lease_until = request.now + UsFromSeconds(request.lease_s);
  return RunWrite(file_->writer(), [&](SqliteDatabase& w) -> Result<std::vector<LeasedDelivery>> {
    ARGUS_ASSIGN_OR_RETURN(auto txn, Transaction::BeginImmediate(w, "lease webhook deliveries"));
    ARGUS_ASSIGN_OR_RETURN(std::vector<LeasedDelivery> leased,
                           request.per_webhook.empty() ? PickDueDeliveries(w, request)
                                                       : PickDueDeliveriesPerWebhook(w, request));
    for (LeasedDelivery& l : leased) {
      ARGUS_ASSIGN_OR_RETURN(auto stmt, w.Prepare(kLeaseDelivery, "lease webhook deliveries"));
      stmt->BindInt64(1, lease_until);
      stmt->BindInt64(2, request.now);
      stmt->BindText(3, l.delivery.id);
      ARGUS_RETURN_IF_ERROR(stmt->Run());
      l.delivery.attempts += 1;
      l.delivery.next_attempt_at = lease_until;
      l.delivery.updated_at = request.now;
    }
    ARGUS_RETURN_IF_ERROR(txn.Commit());
    return leased;
  });
}

Result<std::optional<TimestampUs>> SqliteWebhookStore::NextDueAt(std::string_view webhook_id) {
  ARGUS_ASSIGN_OR_RETURN(auto db, readers_.Acquire());
  // webhook_deliveries_due_by_webhook holds each webhook's pending deliveries in due order: the
  // first is the answer.
  ARGUS_ASSIGN_OR_RETURN(auto stmt,
                         db->Prepare(kNextDueOfWebhook, "find a webhook's next due delivery"));
  stmt->BindText(1, webhook_id);
  ARGUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
  if (!row) return std::optional<TimestampUs>();
  return std::optional<TimestampUs>(stmt->ColumnInt64(0));
}

Result<Page<WebhookDelivery>> SqliteWebhookStore::ListDeliveries(
    std::string_view namespace_id, std::string_view webhook_id,
    std::optional<DeliveryStatus> status, const PageRequest& page) {
  ARGUS_RETURN_IF_ERROR(CheckPageRequest(page));
  ARGUS_ASSIGN_OR_RETURN(auto db, readers_.Acquire());
  ARGUS_RETURN_IF_ERROR(CheckWebhookInNamespace(*db, namespace_id, webhook_id));
  const bool first_page = page.after_id.empty();
  ARGUS_ASSIGN_OR_RETURN(
      auto stmt,
      db->Prepare(first_page ? kListDeliveries : kListDeliveriesBefore, "list webhook deliveries"));
  stmt->BindText(1, webhook_id);
  if (status) {
    stmt->BindText(2, DeliveryStatusName(*status));
  } else {
    stmt->BindNull(2);
  }
  stmt->BindInt64(3, page.limit + 1);
  if (!first_page) stmt->BindText(4, page.after_id);
  return ReadPage<WebhookDelivery>(
      *stmt, page.limit, [this](const Statement& row) { return ReadDelivery(row, path_); });
}

Result<WebhookDelivery> SqliteWebhookStore::GetDelivery(std::string_view namespace_id,
                                                        std::string_view webhook_id,
                                                        std::string_view delivery_id) {
  ARGUS_ASSIGN_OR_RETURN(auto db, readers_.Acquire());
  ARGUS_RETURN_IF_ERROR(CheckWebhookInNamespace(*db, namespace_id, webhook_id));
  ARGUS_ASSIGN_OR_RETURN(auto stmt, db->Prepare(kSelectDelivery, "get webhook delivery"));
  stmt->BindText(1, delivery_id);
  stmt->BindText(2, webhook_id);
  ARGUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
  if (!row) return DeliveryNotFound(webhook_id, delivery_id);
  return ReadDelivery(*stmt, path_);
}

Result<std::vector<DeliveryAttempt>> SqliteWebhookStore::ListAttempts(
    std::string_view delivery_id) {
  ARGUS_ASSIGN_OR_RETURN(auto db, readers_.Acquire());
  ARGUS_ASSIGN_OR_RETURN(auto stmt, db->Prepare(kListAttempts, "list webhook delivery attempts"));
  stmt->BindText(1, delivery_id);
  std::vector<DeliveryAttempt> attempts;
  for (;;) {
    ARGUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    attempts.push_back(ReadAttempt(*stmt));
  }
  return attempts;
}

Result<WebhookDelivery> SqliteWebhookStore::Redeliver(std::string_view namespace_id,
                                                      std::string_view webhook_id,
                                                      std::string_view delivery_id,
                                                      int extra_attempts, TimestampUs now) {
  if (extra_attempts < 1) {
    return InvalidArgumentError("a redelivery needs at least one more attempt, not " +
                                std::to_string(extra_attempts));
  }
  return Notified(RunWrite(file_->writer(), [&](SqliteDatabase& w) -> Result<WebhookDelivery> {
    ARGUS_ASSIGN_OR_RETURN(auto txn, Transaction::BeginImmediate(w, "redeliver webhook"));
    ARGUS_RETURN_IF_ERROR(CheckWebhookInNamespace(w, namespace_id, webhook_id));
    WebhookDelivery delivery;
    {
      ARGUS_ASSIGN_OR_RETURN(auto stmt, w.Prepare(kRedeliver, "redeliver webhook"));
      stmt->BindInt64(1, now);
      stmt->BindInt64(2, extra_attempts);
      stmt->BindText(3, delivery_id);
      stmt->BindText(4, webhook_id);
      ARGUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
      if (!row) return DeliveryNotFound(webhook_id, delivery_id);
      ARGUS_ASSIGN_OR_RETURN(delivery, ReadDelivery(*stmt, path_));
      // Step to the end so the statement completes before the commit.
      ARGUS_RETURN_IF_ERROR(stmt->Run());
    }
    ARGUS_RETURN_IF_ERROR(txn.Commit());
    return delivery;
  }));
}

std::unique_ptr<ChangeWatch> SqliteWebhookStore::WatchChanges(std::function<void()> on_change) {
  return watchers_->Add(std::move(on_change));
}

Result<int64_t> SqliteWebhookStore::Purge(TimestampUs before) {
  return RunWrite(file_->writer(), [&](SqliteDatabase& w) -> Result<int64_t> {
    ARGUS_ASSIGN_OR_RETURN(auto stmt, w.Prepare(kPurge, "purge webhook deliveries"));
    stmt->BindInt64(1, before);
    ARGUS_RETURN_IF_ERROR(stmt->Run());
    // Counts the deliveries only: rows removed by the cascade are not included.
    return stmt->Changes();
  });
}

}  // namespace argus::store::sqlite
