#include "store/sqlite/sqlite_delivery_rows.h"

#include <algorithm>
#include <map>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace argus::store::sqlite {
namespace {

constexpr std::string_view kUpdateCursor = "UPDATE dispatch_cursor SET seq = ? WHERE id = 1";
// Inserts nothing when the webhook is gone, which is how AddDeliveries drops those deliveries.
constexpr std::string_view kInsertDelivery =
    "INSERT INTO webhook_deliveries(" ARGUS_DELIVERY_COLUMNS
    ") SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15"
    " WHERE EXISTS (SELECT 1 FROM webhooks WHERE id = ?2)";

// A second report of the same attempt (a lease that expired while the first sender was still
// waiting) replaces the row rather than failing the whole batch.
constexpr std::string_view kInsertAttempt =
    "INSERT INTO webhook_attempts(" ARGUS_ATTEMPT_COLUMNS
    ") VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(delivery_id, attempt) DO UPDATE SET"
    " at = excluded.at, status_code = excluded.status_code, latency_ms = excluded.latency_ms,"
    " error = excluded.error";
// The outcome is decided in the statement (one per attempt, no read before it): succeeded, failed
// when the attempt was the last allowed, else pending again until the retry.
constexpr std::string_view kFinishAttempt =
    "UPDATE webhook_deliveries SET"
    " status = CASE WHEN ?1 THEN 'succeeded' WHEN attempts >= max_attempts THEN 'failed'"
    " ELSE 'pending' END,"
    " next_attempt_at = CASE WHEN NOT ?1 AND attempts < max_attempts THEN ?2"
    " ELSE next_attempt_at END,"
    " last_status_code = ?3, last_error = ?4, last_latency_ms = ?5, updated_at = ?6 WHERE id = ?7"
    " RETURNING webhook_id, attempts";
// A batch of successes only: most often nothing to change.
constexpr std::string_view kWebhookSucceeded =
    "UPDATE webhooks SET consecutive_failures = 0 WHERE id = ? AND consecutive_failures <> 0";
constexpr std::string_view kWebhookFailureState =
    "SELECT consecutive_failures, enabled FROM webhooks WHERE id = ?";
constexpr std::string_view kSaveWebhookFailures =
    "UPDATE webhooks SET consecutive_failures = ? WHERE id = ?";
constexpr std::string_view kDisableWebhook =
    "UPDATE webhooks SET consecutive_failures = ?, enabled = 0, disabled_reason = ?,"
    " updated_at = ? WHERE id = ?";

// A std::string, not a default string_view: BindText binds NULL for a null data pointer.
const std::string kNoError;

// Whether the delivery was inserted (false: its webhook is gone).
Result<bool> InsertDelivery(SqliteDatabase& db, const WebhookDelivery& d) {
  ARGUS_ASSIGN_OR_RETURN(auto stmt, db.Prepare(kInsertDelivery, "add webhook deliveries"));
  stmt->BindText(1, d.id);
  stmt->BindText(2, d.webhook_id);
  stmt->BindText(3, d.namespace_id);
  stmt->BindText(4, d.event_id);
  stmt->BindText(5, d.event_type);
  stmt->BindText(6, d.payload);
  stmt->BindText(7, DeliveryStatusName(d.status));
  stmt->BindInt64(8, d.attempts);
  stmt->BindInt64(9, d.max_attempts);
  stmt->BindInt64(10, d.next_attempt_at);
  stmt->BindInt64(11, d.last_status_code);
  stmt->BindText(12, d.last_error);
  stmt->BindDouble(13, d.last_latency_ms);
  stmt->BindInt64(14, d.created_at);
  stmt->BindInt64(15, d.updated_at);
  Status status = stmt->Run();
  if (status.code() == StatusCode::kAlreadyExists) {
    return AlreadyExistsError("a webhook delivery with id '" + d.id + "' already exists");
  }
  ARGUS_RETURN_IF_ERROR(status);
  return stmt->Changes() > 0;
}

Status InsertAttempt(SqliteDatabase& w, const AttemptResult& result, int64_t attempt) {
  ARGUS_ASSIGN_OR_RETURN(auto stmt, w.Prepare(kInsertAttempt, "record webhook attempts"));
  stmt->BindText(1, result.delivery_id);
  stmt->BindInt64(2, attempt);
  stmt->BindInt64(3, result.at);
  stmt->BindInt64(4, result.status_code);
  stmt->BindDouble(5, result.latency_ms);
  stmt->BindText(6, result.success ? kNoError : result.error);
  return stmt->Run();
}

// Records one result on a delivery stored before: its row and an attempt row. Returns the
// delivery's webhook, nullopt when the delivery is gone.
Result<std::optional<std::string>> RecordOne(SqliteDatabase& w, const AttemptResult& result) {
  constexpr std::string_view kOperation = "record webhook attempts";
  const std::string& error = result.success ? kNoError : result.error;
  std::string webhook_id;
  int64_t attempt = 0;
  {
    ARGUS_ASSIGN_OR_RETURN(auto stmt, w.Prepare(kFinishAttempt, kOperation));
    stmt->BindInt64(1, result.success ? 1 : 0);
    stmt->BindInt64(2, result.retry_at);
    stmt->BindInt64(3, result.status_code);
    stmt->BindText(4, error);
    stmt->BindDouble(5, result.latency_ms);
    stmt->BindInt64(6, result.at);
    stmt->BindText(7, result.delivery_id);
    ARGUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) return std::optional<std::string>();  // deleted or purged while the attempt ran
    webhook_id = stmt->ColumnText(0);
    attempt = stmt->ColumnInt64(1);
    // Step to the end so the statement completes.
    ARGUS_RETURN_IF_ERROR(stmt->Run());
  }
  ARGUS_RETURN_IF_ERROR(InsertAttempt(w, result, attempt));
  return std::optional<std::string>(std::move(webhook_id));
}

// What kFinishAttempt does to a delivery's row, on a copy not yet stored.
void ApplyAttempt(WebhookDelivery& d, const AttemptResult& result) {
  const bool retry = !result.success && d.attempts < d.max_attempts;
  d.status = result.success                 ? DeliveryStatus::kSucceeded
             : d.attempts >= d.max_attempts ? DeliveryStatus::kFailed
                                            : DeliveryStatus::kPending;
  if (retry) d.next_attempt_at = result.retry_at;
  d.last_status_code = result.status_code;
  d.last_error = result.success ? kNoError : result.error;
  d.last_latency_ms = result.latency_ms;
  d.updated_at = result.at;
}

// What a batch of attempts did to one webhook, in the order they were reported.
struct WebhookOutcomes {
  std::vector<bool> successes;
  std::vector<TimestampUs> at;  // when each attempt started
};

// Applies one webhook's outcomes of a RecordAttempts call, in order, to its consecutive_failures
// (one write); appends its id to `disabled` if they disabled it.
Status CountFailures(SqliteDatabase& w, const std::string& webhook_id, const WebhookOutcomes& o,
                     int disable_after_failures, std::vector<std::string>& disabled) {
  constexpr std::string_view kOperation = "record webhook attempts";
  const std::vector<bool>& successes = o.successes;
  if (std::all_of(successes.begin(), successes.end(), [](bool s) { return s; })) {
    ARGUS_ASSIGN_OR_RETURN(auto stmt, w.Prepare(kWebhookSucceeded, kOperation));
    stmt->BindText(1, webhook_id);
    return stmt->Run();
  }
  int64_t failures = 0;
  bool enabled = false;
  {
    ARGUS_ASSIGN_OR_RETURN(auto stmt, w.Prepare(kWebhookFailureState, kOperation));
    stmt->BindText(1, webhook_id);
    ARGUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
    // The deliveries exist, so their webhook does (ON DELETE CASCADE).
    if (!row) return OkStatus();
    failures = stmt->ColumnInt64(0);
    enabled = stmt->ColumnInt64(1) != 0;
  }
  std::optional<size_t> disabled_by;  // the attempt whose failure reached the threshold
  int64_t failures_then = 0;
  for (size_t i = 0; i < successes.size(); ++i) {
    failures = successes[i] ? 0 : failures + 1;
    if (enabled && !disabled_by && disable_after_failures > 0 &&
        failures >= disable_after_failures) {
      disabled_by = i;
      failures_then = failures;
    }
  }
  if (!disabled_by) {
    ARGUS_ASSIGN_OR_RETURN(auto stmt, w.Prepare(kSaveWebhookFailures, kOperation));
    stmt->BindInt64(1, failures);
    stmt->BindText(2, webhook_id);
    return stmt->Run();
  }
  ARGUS_ASSIGN_OR_RETURN(auto stmt, w.Prepare(kDisableWebhook, kOperation));
  stmt->BindInt64(1, failures);
  stmt->BindText(
      2, "disabled after " + std::to_string(failures_then) + " consecutive failed attempts");
  stmt->BindInt64(3, o.at[*disabled_by]);
  stmt->BindText(4, webhook_id);
  ARGUS_RETURN_IF_ERROR(stmt->Run());
  disabled.push_back(webhook_id);
  return OkStatus();
}

}  // namespace

Status WriteDeliveryRows(SqliteDatabase& w, const std::vector<WebhookDelivery>& deliveries,
                         std::optional<int64_t> cursor, const std::vector<AttemptResult>& results,
                         int disable_after_failures, std::vector<std::string>& disabled) {
  // The deliveries added here that results are reported for, by id: copies in their state after
  // those results, stored instead of the originals.
  std::unordered_map<std::string_view, size_t> finished_index;
  std::vector<WebhookDelivery> finished;
  if (!deliveries.empty() && !results.empty()) {
    std::unordered_map<std::string_view, size_t> added;
    for (size_t i = 0; i < deliveries.size(); ++i) added.emplace(deliveries[i].id, i);
    for (const AttemptResult& result : results) {
      auto it = added.find(result.delivery_id);
      if (it == added.end()) continue;
      auto [f, fresh] = finished_index.try_emplace(it->first, finished.size());
      if (fresh) finished.push_back(deliveries[it->second]);
      ApplyAttempt(finished[f->second], result);
    }
  }
  for (const WebhookDelivery& d : deliveries) {
    auto f = finished_index.find(d.id);
    const bool changed = f != finished_index.end();
    ARGUS_ASSIGN_OR_RETURN(bool inserted, InsertDelivery(w, changed ? finished[f->second] : d));
    // Dropped with its webhook: its results are ignored, as for any delivery that is gone.
    if (changed && !inserted) finished[f->second].id.clear();
  }
  if (cursor) {
    ARGUS_ASSIGN_OR_RETURN(auto stmt, w.Prepare(kUpdateCursor, "move webhook dispatch cursor"));
    stmt->BindInt64(1, *cursor);
    ARGUS_RETURN_IF_ERROR(stmt->Run());
  }
  // Deliveries first; then each webhook's counter once per call, replayed in order so the outcome
  // is that of one call per result.
  std::map<std::string, WebhookOutcomes> outcomes;
  for (const AttemptResult& result : results) {
    std::optional<std::string> webhook_id;
    if (auto f = finished_index.find(result.delivery_id); f != finished_index.end()) {
      const WebhookDelivery& d = finished[f->second];
      if (d.id.empty()) continue;
      ARGUS_RETURN_IF_ERROR(InsertAttempt(w, result, d.attempts));
      webhook_id = d.webhook_id;
    } else {
      ARGUS_ASSIGN_OR_RETURN(webhook_id, RecordOne(w, result));
      if (!webhook_id) continue;
    }
    WebhookOutcomes& o = outcomes[*webhook_id];
    o.successes.push_back(result.success);
    o.at.push_back(result.at);
  }
  for (const auto& [webhook_id, o] : outcomes) {
    ARGUS_RETURN_IF_ERROR(CountFailures(w, webhook_id, o, disable_after_failures, disabled));
  }
  return OkStatus();
}

}  // namespace argus::store::sqlite
