// WebhookStore conformance (src/store/webhook_store.h), part 1: webhooks, the cursor, leases,
// attempts, the delivery log. The fixture is webhook_store_contract_test.h; part 2 is
// webhook_store_batching_contract_test.cc.

#include "tests/contract/webhook_store_contract_test.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/config.h"
#include "store/sqlite/register.h"
#include "store/store_registry.h"
#include "store/webhook_store.h"

namespace argus::store {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

template <typename T>
std::vector<std::string> IdsOf(const std::vector<T>& items) {
  std::vector<std::string> ids;
  for (const auto& item : items) ids.push_back(item.id);
  return ids;
}

void ExpectSameWebhook(const Webhook& got, const Webhook& want) {
  EXPECT_EQ(got.id, want.id);
  EXPECT_EQ(got.namespace_id, want.namespace_id);
  EXPECT_EQ(got.url, want.url);
  EXPECT_EQ(got.description, want.description);
  EXPECT_EQ(got.events, want.events);
  EXPECT_EQ(got.enabled, want.enabled);
  EXPECT_EQ(got.secret, want.secret);
  EXPECT_EQ(got.previous_secret, want.previous_secret);
  EXPECT_EQ(got.previous_secret_expires_at, want.previous_secret_expires_at);
  EXPECT_EQ(got.consecutive_failures, want.consecutive_failures);
  EXPECT_EQ(got.disabled_reason, want.disabled_reason);
  EXPECT_EQ(got.created_at, want.created_at);
  EXPECT_EQ(got.updated_at, want.updated_at);
}

TEST_P(WebhookStoreContractTest, CreateThenGetReturnsEveryField) {
  Webhook w = MakeWebhook();
  w.events = {"task.failed", "task.*", "*"};
  w.enabled = false;
  w.previous_secret = "whsec_old";
  w.previous_secret_expires_at = Now() + 5 * kSecondUs;
  w.consecutive_failures = 3;
  w.disabled_reason = "manual";
  w.updated_at = Now() + 7;
  auto created = store_->CreateWebhook(w);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  ExpectSameWebhook(*created, w);
  ExpectSameWebhook(MustGet(w), w);
}

TEST_P(WebhookStoreContractTest, CallsTakingANamespaceHideOtherNamespaces) {
  Webhook w = MustCreate("ns1");
  WebhookDelivery d = MustAddOne(w);
  auto is_not_found = [&](const Status& status) {
    EXPECT_EQ(status.code(), StatusCode::kNotFound) << status.ToString();
    EXPECT_THAT(std::string(status.message()), HasSubstr(w.id));
  };
  is_not_found(store_->GetWebhook("ns2", w.id).status());
  is_not_found(store_->UpdateWebhook("ns2", w.id, {.description = "x"}, Now()).status());
  is_not_found(store_->RotateSecret("ns2", w.id, "whsec_new", Now(), Now()).status());
  is_not_found(store_->ListDeliveries("ns2", w.id, std::nullopt, {}).status());
  is_not_found(store_->GetDelivery("ns2", w.id, d.id).status());
  is_not_found(store_->Redeliver("ns2", w.id, d.id, 3, Now()).status());
  is_not_found(store_->DeleteWebhook("ns2", w.id));
  EXPECT_EQ(store_->GetWebhook("ns1", "no-such-webhook").status().code(), StatusCode::kNotFound);

  // A delivery id under the wrong webhook is not found either, naming the delivery.
  Webhook other = MustCreate("ns1");
  auto wrong = store_->GetDelivery("ns1", other.id, d.id);
  EXPECT_EQ(wrong.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(std::string(wrong.status().message()), HasSubstr(d.id));
  EXPECT_EQ(store_->Redeliver("ns1", other.id, d.id, 3, Now()).status().code(),
            StatusCode::kNotFound);

  // Nothing above changed the webhook or its delivery.
  ExpectSameWebhook(MustGet(w), w);
  EXPECT_EQ(MustGetDelivery(w, d.id).next_attempt_at, d.next_attempt_at);
}

TEST_P(WebhookStoreContractTest, ListWebhooksIsOldestFirstPerNamespaceAndPaginates) {
  std::vector<Webhook> ns1;
  for (int i = 0; i < 5; ++i) {
    ns1.push_back(MustCreate("ns1"));
    MustCreate("ns2");
  }
  std::vector<std::string> seen;
  PageRequest page{.limit = 2};
  for (int round = 0; round < 5; ++round) {
    auto got = store_->ListWebhooks("ns1", page);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    for (const Webhook& w : got->items) seen.push_back(w.id);
    if (got->next_after_id.empty()) break;
    EXPECT_EQ(got->next_after_id, got->items.back().id);
    page.after_id = got->next_after_id;
  }
  EXPECT_EQ(seen, IdsOf(ns1));
  EXPECT_EQ(store_->ListWebhooks("ns1", {.limit = 0}).status().code(),
            StatusCode::kInvalidArgument);
  auto empty = store_->ListWebhooks("ns3", {});
  ASSERT_TRUE(empty.ok());
  EXPECT_THAT(empty->items, IsEmpty());
}

TEST_P(WebhookStoreContractTest, ListEnabledWebhooksSpansNamespacesAndSkipsDisabled) {
  Webhook a = MustCreate("ns1");
  Webhook b = MustCreate("ns2");
  Webhook c = MustCreate("ns1");
  ASSERT_TRUE(store_->UpdateWebhook("ns2", b.id, {.enabled = false}, Now()).ok());
  auto enabled = store_->ListEnabledWebhooks();
  ASSERT_TRUE(enabled.ok()) << enabled.status().ToString();
  std::vector<std::string> ids = IdsOf(*enabled);
  std::sort(ids.begin(), ids.end());
  EXPECT_THAT(ids, ElementsAre(a.id, c.id));
}

TEST_P(WebhookStoreContractTest, UpdateChangesOnlyTheGivenFields) {
  Webhook w = MustCreate();
  clock_.AdvanceUs(kSecondUs);
  auto updated = store_->UpdateWebhook(
      "ns1", w.id, {.url = "https://new.example.com/h", .events = std::vector<std::string>{"*"}},
      Now());
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  Webhook want = w;
  want.url = "https://new.example.com/h";
  want.events = {"*"};
  want.updated_at = Now();
  ExpectSameWebhook(*updated, want);
  ExpectSameWebhook(MustGet(w), want);
}

// The dispatcher learns of webhook changes from the store, whoever made them (the API, another
// process), never from a callback of the API.
TEST_P(WebhookStoreContractTest, ChangesToWebhooksAndRedeliveriesTellTheWatchersFailuresDoNot) {
  std::atomic<int> seen{0};
  auto watch = store_->WatchChanges([&] { ++seen; });
  Webhook w = MustCreate();
  EXPECT_EQ(seen.load(), 1);
  ASSERT_TRUE(store_->UpdateWebhook("ns1", w.id, {.description = "d"}, Now()).ok());
  EXPECT_EQ(seen.load(), 2);
  ASSERT_TRUE(store_->RotateSecret("ns1", w.id, "whsec_next", Now() + kSecondUs, Now()).ok());
  EXPECT_EQ(seen.load(), 3);
  WebhookDelivery d = MustAddOne(w);
  EXPECT_EQ(seen.load(), 3) << "deliveries the dispatcher adds are not webhook changes";
  ASSERT_TRUE(store_->Redeliver("ns1", w.id, d.id, 2, Now()).ok());
  EXPECT_EQ(seen.load(), 4);
  // Failed calls change nothing and tell nobody.
  EXPECT_FALSE(store_->UpdateWebhook("ns2", w.id, {.description = "x"}, Now()).ok());
  EXPECT_FALSE(store_->DeleteWebhook("ns1", "no-such-webhook").ok());
  EXPECT_FALSE(store_->CreateWebhook(w).ok());
  EXPECT_EQ(seen.load(), 4);
  ASSERT_TRUE(store_->DeleteWebhook("ns1", w.id).ok());
  EXPECT_EQ(seen.load(), 5);
  MustCreate("ns9");
  ASSERT_TRUE(store_->DeleteNamespaceWebhooks("ns9").ok());
  EXPECT_EQ(seen.load(), 7);
  // An ended watch is not called again; another one still is.
  std::atomic<int> other{0};
  auto second = store_->WatchChanges([&] { ++other; });
  watch.reset();
  MustCreate();
  EXPECT_EQ(seen.load(), 7);
  EXPECT_EQ(other.load(), 1);
}

TEST_P(WebhookStoreContractTest, EnablingResetsFailuresAndReasonButDisablingKeepsThem) {
  Webhook w = MustCreate();
  WebhookDelivery d = MustAddOne(w);
  ASSERT_EQ(LeasedIds(LeaseNow()).size(), 1u);
  ASSERT_EQ(MustRecord({Failure(d.id, Now())}, 1), std::vector<std::string>{w.id});
  Webhook disabled = MustGet(w);
  ASSERT_FALSE(disabled.enabled);
  ASSERT_EQ(disabled.consecutive_failures, 1);

  auto still = store_->UpdateWebhook("ns1", w.id, {.enabled = false}, Now());
  ASSERT_TRUE(still.ok());
  EXPECT_EQ(still->consecutive_failures, 1);
  EXPECT_EQ(still->disabled_reason, disabled.disabled_reason);

  auto enabled = store_->UpdateWebhook("ns1", w.id, {.enabled = true}, Now());
  ASSERT_TRUE(enabled.ok());
  EXPECT_TRUE(enabled->enabled);
  EXPECT_EQ(enabled->consecutive_failures, 0);
  EXPECT_EQ(enabled->disabled_reason, "");
  Webhook got = MustGet(w);
  EXPECT_TRUE(got.enabled);
  EXPECT_EQ(got.consecutive_failures, 0);
  EXPECT_EQ(got.disabled_reason, "");
}

TEST_P(WebhookStoreContractTest, RotatedSecretIsLeasedWithThePreviousOneOnlyWithinGrace) {
  Webhook w = MustCreate();
  const TimestampUs grace_end = Now() + 10 * kSecondUs;
  auto rotated = store_->RotateSecret("ns1", w.id, "whsec_next", grace_end, Now());
  ASSERT_TRUE(rotated.ok()) << rotated.status().ToString();
  EXPECT_EQ(rotated->secret, "whsec_next");
  EXPECT_EQ(rotated->previous_secret, "whsec_current");
  EXPECT_EQ(rotated->previous_secret_expires_at, grace_end);
  EXPECT_EQ(rotated->updated_at, Now());
  ExpectSameWebhook(MustGet(w), *rotated);

  MustAddOne(w);
  std::vector<LeasedDelivery> leased = MustLease({.now = Now(), .lease_s = 1});
  ASSERT_EQ(leased.size(), 1u);
  EXPECT_EQ(leased[0].url, w.url);
  EXPECT_EQ(leased[0].secret, "whsec_next");
  EXPECT_EQ(leased[0].previous_secret, "whsec_current");

  // The lease runs out after the grace period: the old secret is no longer handed out.
  clock_.AdvanceUs(11 * kSecondUs);
  leased = MustLease(LeaseNow());
  ASSERT_EQ(leased.size(), 1u);
  EXPECT_EQ(leased[0].secret, "whsec_next");
  EXPECT_EQ(leased[0].previous_secret, "");
}

TEST_P(WebhookStoreContractTest, DeleteWebhookTakesItsDeliveriesAndAttempts) {
  Webhook w = MustCreate();
  Webhook keep = MustCreate();
  WebhookDelivery d = MustAddOne(w);
  WebhookDelivery kept = MustAddOne(keep);
  ASSERT_EQ(MustLease(LeaseNow()).size(), 2u);
  MustRecord({Failure(d.id, Now()), Failure(kept.id, Now())});
  ASSERT_EQ(MustListAttempts(d.id).size(), 1u);

  ASSERT_TRUE(store_->DeleteWebhook("ns1", w.id).ok());
  EXPECT_EQ(store_->GetWebhook("ns1", w.id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->DeleteWebhook("ns1", w.id).code(), StatusCode::kNotFound);
  EXPECT_THAT(MustListAttempts(d.id), IsEmpty());
  EXPECT_EQ(MustListAttempts(kept.id).size(), 1u);
  // Its pending delivery is gone, not merely hidden: only the other webhook's is leased.
  EXPECT_THAT(LeasedIds(LeaseNow()), ElementsAre(kept.id));
  // A late result for the deleted delivery is ignored.
  EXPECT_THAT(MustRecord({Success(d.id)}), IsEmpty());
  EXPECT_THAT(MustListAttempts(d.id), IsEmpty());
}

TEST_P(WebhookStoreContractTest, DeleteNamespaceWebhooksLeavesOtherNamespaces) {
  Webhook a = MustCreate("ns1");
  Webhook b = MustCreate("ns1");
  Webhook other = MustCreate("ns2");
  MustAddOne(a);
  WebhookDelivery kept = MustAddOne(other);
  ASSERT_TRUE(store_->DeleteNamespaceWebhooks("ns1").ok());
  EXPECT_EQ(store_->GetWebhook("ns1", a.id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->GetWebhook("ns1", b.id).status().code(), StatusCode::kNotFound);
  ExpectSameWebhook(MustGet(other), other);
  EXPECT_THAT(LeasedIds(LeaseNow()), ElementsAre(kept.id));
  EXPECT_TRUE(store_->DeleteNamespaceWebhooks("ns-without-webhooks").ok());
}

TEST_P(WebhookStoreContractTest, CursorStartsAtZeroAndMovesWithItsDeliveries) {
  auto cursor = store_->DispatchCursor();
  ASSERT_TRUE(cursor.ok()) << cursor.status().ToString();
  EXPECT_EQ(*cursor, 0);
  Webhook w = MustCreate();
  WebhookDelivery d = MakeDelivery(w);
  ASSERT_TRUE(store_->AddDeliveries({d}, 42).ok());
  EXPECT_EQ(store_->DispatchCursor().value_or(-1), 42);
  // Events that matched no webhook still move the cursor.
  ASSERT_TRUE(store_->AddDeliveries({}, 57).ok());
  EXPECT_EQ(store_->DispatchCursor().value_or(-1), 57);
  EXPECT_THAT(DeliveryIds(w), ElementsAre(d.id));
}

TEST_P(WebhookStoreContractTest, AddDeliveriesDropsThoseOfDeletedWebhooks) {
  Webhook live = MustCreate();
  Webhook gone = MustCreate();
  WebhookDelivery a = MakeDelivery(live);
  WebhookDelivery b = MakeDelivery(gone);
  WebhookDelivery c = MakeDelivery(live);
  ASSERT_TRUE(store_->DeleteWebhook("ns1", gone.id).ok());
  Status status = store_->AddDeliveries({a, b, c}, 9);
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(store_->DispatchCursor().value_or(-1), 9);
  EXPECT_THAT(DeliveryIds(live), ElementsAre(c.id, a.id));
  EXPECT_THAT(LeasedIds(LeaseNow()), ElementsAre(a.id, c.id));
}

TEST_P(WebhookStoreContractTest, AddDeliveriesAppliesAllOrNothing) {
  Webhook w = MustCreate();
  WebhookDelivery first = MustAddOne(w);
  ASSERT_EQ(store_->DispatchCursor().value_or(-1), 1);
  // The second batch repeats a stored delivery id after a new one.
  WebhookDelivery fresh = MakeDelivery(w);
  Status status = store_->AddDeliveries({fresh, first}, 2);
  if (status.ok()) {
    EXPECT_EQ(store_->DispatchCursor().value_or(-1), 2);
    EXPECT_THAT(DeliveryIds(w), ElementsAre(fresh.id, first.id));
  } else {
    EXPECT_EQ(store_->DispatchCursor().value_or(-1), 1);
    EXPECT_THAT(DeliveryIds(w), ElementsAre(first.id));
  }
}

TEST_P(WebhookStoreContractTest, LeaseReturnsDueDeliveriesOldestDueFirst) {
  Webhook a = MustCreate();
  Webhook b = MustCreate();
  const TimestampUs now = Now();
  WebhookDelivery late = MakeDelivery(a, now - 1 * kSecondUs);
  WebhookDelivery early = MakeDelivery(b, now - 3 * kSecondUs);
  WebhookDelivery tie_first = MakeDelivery(a, now - 2 * kSecondUs);
  WebhookDelivery tie_second = MakeDelivery(b, now - 2 * kSecondUs);
  WebhookDelivery future = MakeDelivery(a, now + 1);
  MustAdd({late, tie_second, future, early, tie_first});
  EXPECT_THAT(LeasedIds({.now = now}), ElementsAre(early.id, tie_first.id, tie_second.id, late.id));
  EXPECT_THAT(LeasedIds({.now = now}), IsEmpty());
  EXPECT_THAT(LeasedIds({.now = now + 1}), ElementsAre(future.id));
}

TEST_P(WebhookStoreContractTest, LeaseMarksTheDeliveryAndReturnsItsWebhook) {
  Webhook w = MustCreate();
  WebhookDelivery d = MustAddOne(w);
  clock_.AdvanceUs(kSecondUs);
  std::vector<LeasedDelivery> leased = MustLease({.now = Now(), .lease_s = 30});
  ASSERT_EQ(leased.size(), 1u);
  const LeasedDelivery& l = leased[0];
  EXPECT_EQ(l.url, w.url);
  EXPECT_EQ(l.secret, "whsec_current");
  EXPECT_EQ(l.previous_secret, "");
  EXPECT_EQ(l.delivery.id, d.id);
  EXPECT_EQ(l.delivery.webhook_id, w.id);
  EXPECT_EQ(l.delivery.namespace_id, "ns1");
  EXPECT_EQ(l.delivery.event_id, d.event_id);
  EXPECT_EQ(l.delivery.event_type, d.event_type);
  EXPECT_EQ(l.delivery.payload, d.payload);
  EXPECT_EQ(l.delivery.status, DeliveryStatus::kPending);
  EXPECT_EQ(l.delivery.attempts, 1);
  EXPECT_EQ(l.delivery.max_attempts, 3);
  EXPECT_EQ(l.delivery.next_attempt_at, Now() + 30 * kSecondUs);
  EXPECT_EQ(l.delivery.created_at, d.created_at);
  EXPECT_EQ(l.delivery.updated_at, Now());

  WebhookDelivery stored = MustGetDelivery(w, d.id);
  EXPECT_EQ(stored.attempts, 1);
  EXPECT_EQ(stored.next_attempt_at, Now() + 30 * kSecondUs);
  EXPECT_EQ(stored.updated_at, Now());
}

TEST_P(WebhookStoreContractTest, LostLeaseIsLeasedAgainOnlyAfterItRunsOut) {
  Webhook w = MustCreate();
  WebhookDelivery d = MustAddOne(w);
  ASSERT_THAT(LeasedIds({.now = Now(), .lease_s = 60}), ElementsAre(d.id));
  // The sender died without reporting: nothing is due until the lease runs out.
  clock_.AdvanceUs(59 * kSecondUs);
  EXPECT_THAT(LeasedIds(LeaseNow()), IsEmpty());
  clock_.AdvanceUs(1 * kSecondUs);
  std::vector<LeasedDelivery> again = MustLease(LeaseNow());
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].delivery.id, d.id);
  EXPECT_EQ(again[0].delivery.attempts, 2);
}

TEST_P(WebhookStoreContractTest, LeaseSkipsDisabledWebhooksUntilReenabled) {
  Webhook on = MustCreate();
  Webhook off = MustCreate();
  WebhookDelivery skipped = MustAddOne(off);
  WebhookDelivery leased = MustAddOne(on);
  ASSERT_TRUE(store_->UpdateWebhook("ns1", off.id, {.enabled = false}, Now()).ok());
  EXPECT_THAT(LeasedIds(LeaseNow()), ElementsAre(leased.id));
  EXPECT_EQ(MustGetDelivery(off, skipped.id).attempts, 0);
  ASSERT_TRUE(store_->UpdateWebhook("ns1", off.id, {.enabled = true}, Now()).ok());
  EXPECT_THAT(LeasedIds(LeaseNow()), ElementsAre(skipped.id));
}

TEST_P(WebhookStoreContractTest, LeaseRespectsMaxAndThePerWebhookCap) {
  Webhook a = MustCreate();
  Webhook b = MustCreate();
  std::vector<WebhookDelivery> batch;
  for (int i = 0; i < 4; ++i) batch.push_back(MakeDelivery(a));
  for (int i = 0; i < 4; ++i) batch.push_back(MakeDelivery(b));
  MustAdd(batch);

  // a already has 2 in flight, so with a cap of 3 it gets one more; b gets 3.
  std::vector<LeasedDelivery> leased =
      MustLease({.now = Now(), .max = 10, .in_flight = {{a.id, 2}}, .max_per_webhook = 3});
  std::vector<std::string> ids;
  for (const LeasedDelivery& l : leased) ids.push_back(l.delivery.id);
  EXPECT_THAT(ids, ElementsAre(batch[0].id, batch[4].id, batch[5].id, batch[6].id));

  // max bounds the total.
  EXPECT_THAT(LeasedIds({.now = Now(), .max = 2}), ElementsAre(batch[1].id, batch[2].id));
  EXPECT_THAT(LeasedIds({.now = Now(), .max = 0}), IsEmpty());
}

TEST_P(WebhookStoreContractTest, AWebhookAtItsCapDoesNotStarveOthers) {
  Webhook slow = MustCreate();
  Webhook other = MustCreate();
  std::vector<WebhookDelivery> backlog;
  for (int i = 0; i < 200; ++i) backlog.push_back(MakeDelivery(slow));
  MustAdd(backlog);
  WebhookDelivery newer = MustAddOne(other);
  EXPECT_THAT(LeasedIds({.now = Now(), .max = 2, .in_flight = {{slow.id, 4}}}),
              ElementsAre(newer.id));
}

TEST_P(WebhookStoreContractTest, SuccessMarksSucceededAndResetsWebhookFailures) {
  Webhook w = MustCreate();
  WebhookDelivery first = MustAddOne(w);
  WebhookDelivery second = MustAddOne(w);
  ASSERT_EQ(MustLease(LeaseNow()).size(), 2u);
  MustRecord({Failure(first.id, Now() + kSecondUs)});
  ASSERT_EQ(MustGet(w).consecutive_failures, 1);

  clock_.AdvanceUs(kSecondUs);
  AttemptResult ok = Success(second.id);
  EXPECT_THAT(MustRecord({ok}), IsEmpty());
  WebhookDelivery got = MustGetDelivery(w, second.id);
  EXPECT_EQ(got.status, DeliveryStatus::kSucceeded);
  EXPECT_EQ(got.attempts, 1);
  EXPECT_EQ(got.last_status_code, 204);
  EXPECT_EQ(got.last_error, "");
  EXPECT_EQ(got.last_latency_ms, 12.5);
  EXPECT_EQ(got.updated_at, ok.at);
  EXPECT_EQ(MustGet(w).consecutive_failures, 0);
  // A succeeded delivery is never leased again.
  clock_.AdvanceUs(600 * kSecondUs);
  EXPECT_THAT(LeasedIds(LeaseNow()), ElementsAre(first.id));
}

TEST_P(WebhookStoreContractTest, FailureWithAttemptsLeftIsRetriedAtRetryAt) {
  Webhook w = MustCreate();
  WebhookDelivery d = MustAddOne(w);
  ASSERT_EQ(MustLease({.now = Now(), .lease_s = 60}).size(), 1u);
  const TimestampUs retry_at = Now() + 5 * kSecondUs;
  AttemptResult failed = Failure(d.id, retry_at);
  EXPECT_THAT(MustRecord({failed}, 10), IsEmpty());

  WebhookDelivery got = MustGetDelivery(w, d.id);
  EXPECT_EQ(got.status, DeliveryStatus::kPending);
  EXPECT_EQ(got.next_attempt_at, retry_at);
  EXPECT_EQ(got.last_status_code, 503);
  EXPECT_EQ(got.last_error, "HTTP 503");
  EXPECT_EQ(got.last_latency_ms, 40.25);
  EXPECT_EQ(got.updated_at, failed.at);
  Webhook hook = MustGet(w);
  EXPECT_EQ(hook.consecutive_failures, 1);
  EXPECT_TRUE(hook.enabled);

  // Due at retry_at, well before the 60 s lease would have run out.
  clock_.AdvanceUs(5 * kSecondUs - 1);
  EXPECT_THAT(LeasedIds(LeaseNow()), IsEmpty());
  clock_.AdvanceUs(1);
  EXPECT_THAT(LeasedIds(LeaseNow()), ElementsAre(d.id));
}

TEST_P(WebhookStoreContractTest, FailureOfTheLastAttemptFailsTheDelivery) {
  Webhook w = MustCreate();
  WebhookDelivery d = MakeDelivery(w);
  d.max_attempts = 2;
  MustAdd({d});
  for (int attempt = 1; attempt <= 2; ++attempt) {
    std::vector<LeasedDelivery> leased = MustLease(LeaseNow());
    ASSERT_EQ(leased.size(), 1u) << "attempt " << attempt;
    EXPECT_EQ(leased[0].delivery.attempts, attempt);
    MustRecord({Failure(d.id, Now())});
  }
  WebhookDelivery got = MustGetDelivery(w, d.id);
  EXPECT_EQ(got.status, DeliveryStatus::kFailed);
  EXPECT_EQ(got.attempts, 2);
  EXPECT_EQ(got.last_error, "HTTP 503");
  clock_.AdvanceUs(600 * kSecondUs);
  EXPECT_THAT(LeasedIds(LeaseNow()), IsEmpty());
}

TEST_P(WebhookStoreContractTest, ReachingTheFailureThresholdDisablesTheWebhookOnce) {
  Webhook w = MustCreate();
  Webhook healthy = MustCreate();
  std::vector<WebhookDelivery> batch;
  for (int i = 0; i < 4; ++i) batch.push_back(MakeDelivery(w));
  WebhookDelivery h = MakeDelivery(healthy);
  batch.push_back(h);
  MustAdd(batch);
  ASSERT_EQ(MustLease(LeaseNow()).size(), 5u);

  EXPECT_THAT(MustRecord({Failure(batch[0].id, Now()), Failure(h.id, Now())}, 3), IsEmpty());
  // The third consecutive failure disables it; the fourth, in the same call, does not report it
  // again.
  std::vector<std::string> disabled = MustRecord(
      {Failure(batch[1].id, Now()), Failure(batch[2].id, Now()), Failure(batch[3].id, Now())}, 3);
  EXPECT_THAT(disabled, ElementsAre(w.id));
  Webhook got = MustGet(w);
  EXPECT_FALSE(got.enabled);
  EXPECT_EQ(got.consecutive_failures, 4);
  EXPECT_THAT(got.disabled_reason, HasSubstr("3"));
  EXPECT_TRUE(MustGet(healthy).enabled);
  EXPECT_EQ(MustGet(healthy).consecutive_failures, 1);

  auto enabled = store_->ListEnabledWebhooks();
  ASSERT_TRUE(enabled.ok());
  EXPECT_THAT(IdsOf(*enabled), ElementsAre(healthy.id));
  // Its retries wait while it is disabled.
  EXPECT_THAT(LeasedIds(LeaseNow()), ElementsAre(h.id));
}

TEST_P(WebhookStoreContractTest, ZeroThresholdNeverDisables) {
  Webhook w = MustCreate();
  WebhookDelivery d = MakeDelivery(w);
  d.max_attempts = 10;
  MustAdd({d});
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(MustLease(LeaseNow()).size(), 1u);
    EXPECT_THAT(MustRecord({Failure(d.id, Now())}, 0), IsEmpty());
  }
  Webhook got = MustGet(w);
  EXPECT_TRUE(got.enabled);
  EXPECT_EQ(got.consecutive_failures, 5);
  EXPECT_EQ(got.disabled_reason, "");
}

TEST_P(WebhookStoreContractTest, ResultsForUnknownDeliveriesAreIgnored) {
  Webhook w = MustCreate();
  WebhookDelivery d = MustAddOne(w);
  ASSERT_EQ(MustLease(LeaseNow()).size(), 1u);
  EXPECT_THAT(MustRecord({Failure("no-such-delivery", Now()), Success(d.id)}, 1), IsEmpty());
  EXPECT_EQ(MustGetDelivery(w, d.id).status, DeliveryStatus::kSucceeded);
  EXPECT_THAT(MustListAttempts("no-such-delivery"), IsEmpty());
  EXPECT_EQ(MustGet(w).consecutive_failures, 0);
}

TEST_P(WebhookStoreContractTest, AttemptLogIsOldestFirstWithEveryField) {
  Webhook w = MustCreate();
  WebhookDelivery d = MustAddOne(w);
  ASSERT_EQ(MustLease(LeaseNow()).size(), 1u);
  AttemptResult first = Failure(d.id, Now());
  first.status_code = 0;
  first.error = "connection refused";
  MustRecord({first});
  clock_.AdvanceUs(kSecondUs);
  ASSERT_EQ(MustLease(LeaseNow()).size(), 1u);
  AttemptResult second = Success(d.id);
  MustRecord({second});

  std::vector<DeliveryAttempt> attempts = MustListAttempts(d.id);
  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_EQ(attempts[0].delivery_id, d.id);
  EXPECT_EQ(attempts[0].attempt, 1);
  EXPECT_EQ(attempts[0].at, first.at);
  EXPECT_EQ(attempts[0].status_code, 0);
  EXPECT_EQ(attempts[0].latency_ms, 40.25);
  EXPECT_EQ(attempts[0].error, "connection refused");
  EXPECT_EQ(attempts[1].delivery_id, d.id);
  EXPECT_EQ(attempts[1].attempt, 2);
  EXPECT_EQ(attempts[1].at, second.at);
  EXPECT_EQ(attempts[1].status_code, 204);
  EXPECT_EQ(attempts[1].latency_ms, 12.5);
  EXPECT_EQ(attempts[1].error, "");
}

TEST_P(WebhookStoreContractTest, ListDeliveriesIsNewestFirstFilteredAndPaged) {
  Webhook w = MustCreate();
  Webhook other = MustCreate();
  std::vector<WebhookDelivery> batch;
  for (int i = 0; i < 5; ++i) batch.push_back(MakeDelivery(w));
  batch.push_back(MakeDelivery(other));
  MustAdd(batch);
  // Deliveries 1 and 3 succeed.
  ASSERT_EQ(MustLease({.now = Now(), .max_per_webhook = 10}).size(), 6u);
  MustRecord({Success(batch[1].id), Success(batch[3].id)});

  std::vector<std::string> seen;
  PageRequest page{.limit = 2};
  for (int round = 0; round < 5; ++round) {
    auto got = store_->ListDeliveries("ns1", w.id, std::nullopt, page);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    for (const WebhookDelivery& d : got->items) seen.push_back(d.id);
    if (got->next_after_id.empty()) break;
    page.after_id = got->next_after_id;
  }
  EXPECT_THAT(seen, ElementsAre(batch[4].id, batch[3].id, batch[2].id, batch[1].id, batch[0].id));
  EXPECT_THAT(DeliveryIds(w, DeliveryStatus::kSucceeded), ElementsAre(batch[3].id, batch[1].id));
  EXPECT_THAT(DeliveryIds(w, DeliveryStatus::kPending),
              ElementsAre(batch[4].id, batch[2].id, batch[0].id));
  EXPECT_THAT(DeliveryIds(w, DeliveryStatus::kFailed), IsEmpty());

  auto filtered_page = store_->ListDeliveries("ns1", w.id, DeliveryStatus::kPending,
                                              {.after_id = batch[4].id, .limit = 1});
  ASSERT_TRUE(filtered_page.ok());
  EXPECT_THAT(IdsOf(filtered_page->items), ElementsAre(batch[2].id));
  EXPECT_EQ(filtered_page->next_after_id, batch[2].id);

  for (int limit : {0, 1001}) {
    EXPECT_EQ(store_->ListDeliveries("ns1", w.id, std::nullopt, {.limit = limit}).status().code(),
              StatusCode::kInvalidArgument)
        << limit;
  }
}

TEST_P(WebhookStoreContractTest, RedeliverGivesAFailedDeliveryMoreAttempts) {
  Webhook w = MustCreate();
  WebhookDelivery d = MakeDelivery(w);
  d.max_attempts = 1;
  MustAdd({d});
  ASSERT_EQ(MustLease(LeaseNow()).size(), 1u);
  MustRecord({Failure(d.id, Now())});
  ASSERT_EQ(MustGetDelivery(w, d.id).status, DeliveryStatus::kFailed);

  clock_.AdvanceUs(kSecondUs);
  auto redelivered = store_->Redeliver("ns1", w.id, d.id, 2, Now());
  ASSERT_TRUE(redelivered.ok()) << redelivered.status().ToString();
  EXPECT_EQ(redelivered->status, DeliveryStatus::kPending);
  EXPECT_EQ(redelivered->attempts, 1);
  EXPECT_EQ(redelivered->max_attempts, 3);
  EXPECT_EQ(redelivered->next_attempt_at, Now());
  EXPECT_EQ(redelivered->updated_at, Now());
  EXPECT_EQ(redelivered->event_id, d.event_id);
  EXPECT_EQ(MustGetDelivery(w, d.id).max_attempts, 3);

  std::vector<LeasedDelivery> leased = MustLease(LeaseNow());
  ASSERT_EQ(leased.size(), 1u);
  EXPECT_EQ(leased[0].delivery.attempts, 2);
  EXPECT_EQ(leased[0].delivery.event_id, d.event_id);
  // Two attempts are left after the redelivery: this failure is retried.
  MustRecord({Failure(d.id, Now())});
  EXPECT_EQ(MustGetDelivery(w, d.id).status, DeliveryStatus::kPending);
}

TEST_P(WebhookStoreContractTest, PurgeDeletesFinishedDeliveriesUpdatedBeforeTheCutoff) {
  Webhook w = MustCreate();
  WebhookDelivery old_ok = MakeDelivery(w);
  WebhookDelivery old_failed = MakeDelivery(w);
  old_failed.max_attempts = 1;
  WebhookDelivery old_pending = MakeDelivery(w);
  WebhookDelivery new_ok = MakeDelivery(w);
  MustAdd({old_ok, old_failed, old_pending, new_ok});
  ASSERT_EQ(MustLease(LeaseNow()).size(), 4u);
  MustRecord({Success(old_ok.id), Failure(old_failed.id, Now()), Failure(old_pending.id, Now())});
  const TimestampUs cutoff = Now() + 1;
  clock_.AdvanceUs(kSecondUs);
  MustRecord({Success(new_ok.id)});

  auto purged = store_->Purge(cutoff);
  ASSERT_TRUE(purged.ok()) << purged.status().ToString();
  EXPECT_EQ(*purged, 2);
  EXPECT_THAT(DeliveryIds(w), ElementsAre(new_ok.id, old_pending.id));
  EXPECT_THAT(MustListAttempts(old_ok.id), IsEmpty());
  EXPECT_THAT(MustListAttempts(old_failed.id), IsEmpty());
  EXPECT_EQ(MustListAttempts(old_pending.id).size(), 1u);
  EXPECT_EQ(MustListAttempts(new_ok.id).size(), 1u);
  EXPECT_EQ(store_->Purge(cutoff).value_or(-1), 0);
}

TEST_P(WebhookStoreContractTest, EverythingSurvivesReopening) {
  Webhook w = MustCreate();
  ASSERT_TRUE(store_->RotateSecret("ns1", w.id, "whsec_next", Now() + kSecondUs, Now()).ok());
  Webhook stored = MustGet(w);
  WebhookDelivery done = MustAddOne(w);
  ASSERT_EQ(MustLease(LeaseNow()).size(), 1u);
  MustRecord({Success(done.id)});
  WebhookDelivery leased = MustAddOne(w);
  ASSERT_THAT(LeasedIds({.now = Now(), .lease_s = 30}), ElementsAre(leased.id));
  const int64_t cursor = cursor_;

  OpenStore();
  ExpectSameWebhook(MustGet(w), stored);
  EXPECT_EQ(store_->DispatchCursor().value_or(-1), cursor);
  EXPECT_EQ(MustGetDelivery(w, done.id).status, DeliveryStatus::kSucceeded);
  EXPECT_EQ(MustListAttempts(done.id).size(), 1u);
  // The lease taken before the restart still holds, then runs out.
  EXPECT_THAT(LeasedIds(LeaseNow()), IsEmpty());
  clock_.AdvanceUs(30 * kSecondUs);
  EXPECT_THAT(LeasedIds(LeaseNow()), ElementsAre(leased.id));
}

INSTANTIATE_TEST_SUITE_P(Backends, WebhookStoreContractTest, testing::Values("sqlite"),
                         [](const testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace argus::store
