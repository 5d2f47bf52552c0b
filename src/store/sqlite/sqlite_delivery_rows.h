#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "store/sqlite/sqlite_database.h"
#include "store/webhook_store.h"

// Row-level writes of webhook deliveries and their attempts in metadata.db for
// SqliteWebhookStore: how AddDeliveries, RecordAttempts and AddDeliveriesAndRecordAttempts change
// the webhook_deliveries, webhook_attempts, webhooks and dispatch_cursor tables. Each function
// runs on the connection it is given (the writer's), inside the transaction the caller holds.

// Column lists as macros so each statement is one constexpr literal (the SQL text is the
// statement-cache key), without non-trivially-destructible globals.
#define ARGUS_DELIVERY_COLUMNS                                                                   \
  "id, webhook_id, namespace_id, event_id, event_type, payload, status, attempts, max_attempts," \
  " next_attempt_at, last_status_code, last_error, last_latency_ms, created_at, updated_at"
#define ARGUS_ATTEMPT_COLUMNS "delivery_id, attempt, at, status_code, latency_ms, error"

namespace argus::store::sqlite {

/// Inserts `deliveries` (those whose webhook is gone are dropped), moves the dispatch cursor to
/// `cursor` (nullopt: leaves it), then records `results` in order as WebhookStore::RecordAttempts
/// does, appending the webhooks they disabled to `disabled`. A delivery inserted here that results
/// are reported for is inserted in its state after them: one row write instead of an insert and
/// an update that moves it between indexes. The outcome is that of the two calls in that order.
Status WriteDeliveryRows(SqliteDatabase& w, const std::vector<WebhookDelivery>& deliveries,
                         std::optional<int64_t> cursor, const std::vector<AttemptResult>& results,
                         int disable_after_failures, std::vector<std::string>& disabled);

}  // namespace argus::store::sqlite
