// WebhookStore conformance, part 2: what the dispatcher's speed rests on. Leases per webhook
// (each window asks for its own, whatever another's backlog), deliveries added already leased
// (sent at once, made again only after their lease), and attempts recorded in batches that act as
// one call per result. The fixture is webhook_store_contract_test.h; the suite is instantiated in
// webhook_store_contract_test.cc.

#include <gmock/gmock.h>

#include "tests/contract/webhook_store_contract_test.h"

namespace argus::store {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

TEST_P(WebhookStoreContractTest, PerWebhookLeaseTakesEachListedWebhooksOldestDue) {
  Webhook slow = MustCreate();
  Webhook other = MustCreate();
  Webhook off = MustCreate();
  Webhook unlisted = MustCreate();
  const TimestampUs now = Now();
  std::vector<WebhookDelivery> backlog;
  for (int i = 0; i < 200; ++i) backlog.push_back(MakeDelivery(slow, now - 10 * kSecondUs + i));
  WebhookDelivery other_due = MakeDelivery(other, now - 5 * kSecondUs);
  WebhookDelivery other_later = MakeDelivery(other, now + kSecondUs);
  WebhookDelivery off_due = MakeDelivery(off, now - 20 * kSecondUs);
  WebhookDelivery unlisted_due = MakeDelivery(unlisted, now - 20 * kSecondUs);
  backlog.insert(backlog.end(), {other_due, other_later, off_due, unlisted_due});
  MustAdd(backlog);
  ASSERT_TRUE(store_->UpdateWebhook("ns1", off.id, {.enabled = false}, now).ok());

  // The per-webhook counts replace in_flight and max_per_webhook; the result is in due order.
  std::vector<LeasedDelivery> leased = MustLease(
      {.now = now,
       .max = 100,
       .max_per_webhook = 0,
       .per_webhook = {{slow.id, 2}, {other.id, 5}, {off.id, 3}, {"no-such-webhook", 1}}});
  std::vector<std::string> ids;
  for (const LeasedDelivery& l : leased) ids.push_back(l.delivery.id);
  EXPECT_THAT(ids, ElementsAre(backlog[0].id, backlog[1].id, other_due.id));
  for (const LeasedDelivery& l : leased) {
    EXPECT_EQ(l.delivery.attempts, 1);
    EXPECT_EQ(l.url, l.delivery.webhook_id == slow.id ? slow.url : other.url);
  }
  // max bounds the total, keeping the oldest due.
  EXPECT_THAT(LeasedIds({.now = now, .max = 1, .per_webhook = {{slow.id, 5}, {other.id, 5}}}),
              ElementsAre(backlog[2].id));
  EXPECT_THAT(LeasedIds({.now = now, .per_webhook = {{other.id, 5}}}), IsEmpty());
}

TEST_P(WebhookStoreContractTest, NextDueAtIsAWebhooksEarliestPendingDeliveryOrLease) {
  Webhook w = MustCreate();
  Webhook other = MustCreate();
  EXPECT_EQ(store_->NextDueAt(w.id).value_or(0), std::nullopt);
  const TimestampUs now = Now();
  WebhookDelivery soon = MakeDelivery(w, now + 5 * kSecondUs);
  MustAdd({MakeDelivery(w, now + 9 * kSecondUs), soon, MakeDelivery(other, now + kSecondUs)});
  EXPECT_EQ(store_->NextDueAt(w.id).value_or(0), now + 5 * kSecondUs);
  EXPECT_EQ(store_->NextDueAt(other.id).value_or(0), now + kSecondUs);
  // A leased delivery is due again when its lease ends; finished ones are never due.
  clock_.AdvanceUs(5 * kSecondUs);
  ASSERT_EQ(MustLease({.now = Now(), .lease_s = 1, .per_webhook = {{w.id, 1}}}).size(), 1u);
  EXPECT_EQ(store_->NextDueAt(w.id).value_or(0), Now() + kSecondUs);
  MustRecord({Success(soon.id)});
  EXPECT_EQ(store_->NextDueAt(w.id).value_or(0), now + 9 * kSecondUs);
  EXPECT_EQ(store_->NextDueAt("no-such-webhook").value_or(0), std::nullopt);
}

TEST_P(WebhookStoreContractTest, ADeliveryAddedLeasedIsRetriedOnlyAfterItsLease) {
  Webhook w = MustCreate();
  // The dispatcher adds deliveries it sends at once with their first attempt already taken.
  WebhookDelivery sent = MakeDelivery(w, Now() + 60 * kSecondUs);
  sent.attempts = 1;
  WebhookDelivery lost = MakeDelivery(w, Now() + 60 * kSecondUs);
  lost.attempts = 1;
  MustAdd({sent, lost});
  EXPECT_THAT(LeasedIds(LeaseNow()), IsEmpty());
  EXPECT_THAT(MustRecord({Success(sent.id)}), IsEmpty());
  WebhookDelivery got = MustGetDelivery(w, sent.id);
  EXPECT_EQ(got.status, DeliveryStatus::kSucceeded);
  EXPECT_EQ(got.attempts, 1);
  std::vector<DeliveryAttempt> attempts = MustListAttempts(sent.id);
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_EQ(attempts[0].attempt, 1);
  // The other one's sender died without reporting: it is made again once the lease runs out.
  clock_.AdvanceUs(60 * kSecondUs);
  std::vector<LeasedDelivery> again = MustLease(LeaseNow());
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].delivery.id, lost.id);
  EXPECT_EQ(again[0].delivery.attempts, 2);
}

TEST_P(WebhookStoreContractTest, ABatchOfResultsActsAsOneCallPerResultInOrder) {
  Webhook w = MustCreate();
  Webhook other = MustCreate();
  std::vector<WebhookDelivery> batch;
  for (int i = 0; i < 8; ++i) batch.push_back(MakeDelivery(w));
  WebhookDelivery o = MakeDelivery(other);
  batch.push_back(o);
  MustAdd(batch);
  ASSERT_EQ(MustLease({.now = Now(), .per_webhook = {{w.id, 8}, {other.id, 1}}}).size(), 9u);
  const TimestampUs retry_at = Now() + kSecondUs;

  // Failure, success, failure, failure: the success reset the count, two failures follow it.
  EXPECT_THAT(
      MustRecord({Failure(batch[0].id, retry_at), Success(batch[1].id),
                  Failure(batch[2].id, retry_at), Success(o.id), Failure(batch[3].id, retry_at)},
                 3),
      IsEmpty());
  EXPECT_EQ(MustGet(w).consecutive_failures, 2);
  EXPECT_EQ(MustGet(other).consecutive_failures, 0);
  EXPECT_EQ(MustGetDelivery(w, batch[0].id).status, DeliveryStatus::kPending);
  EXPECT_EQ(MustGetDelivery(w, batch[0].id).next_attempt_at, retry_at);
  EXPECT_EQ(MustGetDelivery(w, batch[1].id).status, DeliveryStatus::kSucceeded);

  // The threshold is reached at the third failure in a row, then a success resets the count but
  // the webhook stays disabled (once, with the count that disabled it).
  clock_.AdvanceUs(kSecondUs);
  AttemptResult third = Failure(batch[4].id, retry_at);
  EXPECT_THAT(MustRecord({third, Failure(batch[5].id, retry_at), Success(batch[6].id)}, 3),
              ElementsAre(w.id));
  Webhook got = MustGet(w);
  EXPECT_FALSE(got.enabled);
  EXPECT_EQ(got.consecutive_failures, 0);
  EXPECT_THAT(got.disabled_reason, HasSubstr("3 consecutive"));
  EXPECT_EQ(got.updated_at, third.at);
  for (int i : {0, 1, 2, 3, 4, 5, 6}) {
    EXPECT_EQ(MustListAttempts(batch[i].id).size(), 1u) << i;
  }
  EXPECT_THAT(MustListAttempts(batch[7].id), IsEmpty());
}

TEST_P(WebhookStoreContractTest, ALargeBatchRecordsEveryAttempt) {
  Webhook w = MustCreate();
  std::vector<WebhookDelivery> batch;
  for (int i = 0; i < 500; ++i) batch.push_back(MakeDelivery(w));
  MustAdd(batch);
  ASSERT_EQ(MustLease({.now = Now(), .max = 500, .per_webhook = {{w.id, 500}}}).size(), 500u);
  std::vector<AttemptResult> results;
  for (const WebhookDelivery& d : batch) results.push_back(Success(d.id));
  EXPECT_THAT(MustRecord(results), IsEmpty());
  auto page = store_->ListDeliveries("ns1", w.id, DeliveryStatus::kSucceeded, {.limit = 1000});
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ(page->items.size(), 500u);
  for (const WebhookDelivery& d : {batch.front(), batch[250], batch.back()}) {
    std::vector<DeliveryAttempt> attempts = MustListAttempts(d.id);
    ASSERT_EQ(attempts.size(), 1u);
    EXPECT_EQ(attempts[0].status_code, 204);
  }
}

}  // namespace
}  // namespace argus::store
