// WebhookStore conformance, part 2: what the dispatcher's speed rests on. Leases per webhook
// (each window asks for its own, whatever another's backlog), deliveries added already leased
// (sent at once, made again only after their lease), and attempts recorded in batches that act as
// one call per result, and additions with results in one call. The fixture is
// webhook_store_contract_test.h; the suite is instantiated in webhook_store_contract_test.cc.

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

// What the dispatcher does when attempts end before their deliveries are stored: one call adds
// and records. Each webhook gets the same deliveries and results, one through two calls, one
// through the single call; everything stored must come out the same.
TEST_P(WebhookStoreContractTest, AddingAndRecordingInOneCallActsAsTheTwoCalls) {
  struct Run {
    Webhook w;
    WebhookDelivery older, sent, retried, last_try, waiting;
    std::vector<WebhookDelivery> added;
    std::vector<AttemptResult> results;
  };
  const TimestampUs lease_end = Now() + 60 * kSecondUs;
  const TimestampUs retry_at = Now() + 5 * kSecondUs;
  auto prepare = [&] {
    Run r;
    r.w = MustCreate();
    r.older = MustAddOne(r.w);  // stored and leased before
    EXPECT_EQ(MustLease({.now = Now(), .per_webhook = {{r.w.id, 1}}}).size(), 1u);
    for (WebhookDelivery* d : {&r.sent, &r.retried, &r.last_try}) {
      *d = MakeDelivery(r.w, lease_end);
      d->attempts = 1;  // leased from birth
    }
    r.last_try.max_attempts = 1;
    r.waiting = MakeDelivery(r.w);  // to be leased later: no result
    r.added = {r.sent, r.retried, r.last_try, r.waiting};
    // Two failures in a row at the end: with disable_after_failures 2 the webhook is disabled.
    r.results = {Success(r.older.id), Success(r.sent.id), Failure(r.retried.id, retry_at),
                 Failure(r.last_try.id, retry_at)};
    return r;
  };
  Run two = prepare();
  Run one = prepare();
  clock_.AdvanceUs(kSecondUs);
  for (AttemptResult* a : {&two.results[0], &two.results[1], &two.results[2], &two.results[3],
                           &one.results[0], &one.results[1], &one.results[2], &one.results[3]}) {
    a->at = Now();
  }
  MustAdd(two.added);
  EXPECT_THAT(MustRecord(two.results, 2), ElementsAre(two.w.id));
  auto disabled = store_->AddDeliveriesAndRecordAttempts(one.added, 77, one.results, 2);
  ASSERT_TRUE(disabled.ok()) << disabled.status().ToString();
  EXPECT_THAT(*disabled, ElementsAre(one.w.id));
  EXPECT_EQ(store_->DispatchCursor().value_or(0), 77);

  EXPECT_FALSE(MustGet(one.w).enabled);
  EXPECT_EQ(MustGet(one.w).consecutive_failures, MustGet(two.w).consecutive_failures);
  // Each run's older and waiting deliveries were made (and the older one leased) at their own
  // times: theirs are compared from their creation; the others' are the same instants.
  struct Pair {
    WebhookDelivery a, b;
    bool from_creation;
  };
  const std::vector<Pair> pairs = {{two.older, one.older, true},
                                   {two.sent, one.sent, false},
                                   {two.retried, one.retried, false},
                                   {two.last_try, one.last_try, false},
                                   {two.waiting, one.waiting, true}};
  for (const auto& [a, b, from_creation] : pairs) {
    WebhookDelivery x = MustGetDelivery(two.w, a.id);
    WebhookDelivery y = MustGetDelivery(one.w, b.id);
    const TimestampUs x0 = from_creation ? a.created_at : 0;
    const TimestampUs y0 = from_creation ? b.created_at : 0;
    EXPECT_EQ(x.status, y.status) << b.id;
    EXPECT_EQ(x.attempts, y.attempts) << b.id;
    EXPECT_EQ(x.next_attempt_at - x0, y.next_attempt_at - y0) << b.id;
    EXPECT_EQ(x.last_status_code, y.last_status_code) << b.id;
    EXPECT_EQ(x.last_error, y.last_error) << b.id;
    EXPECT_EQ(x.last_latency_ms, y.last_latency_ms) << b.id;
    EXPECT_EQ(x.updated_at - (a.id == two.waiting.id ? x0 : 0),
              y.updated_at - (b.id == one.waiting.id ? y0 : 0))
        << b.id;
    std::vector<DeliveryAttempt> xa = MustListAttempts(a.id);
    std::vector<DeliveryAttempt> ya = MustListAttempts(b.id);
    ASSERT_EQ(xa.size(), ya.size()) << b.id;
    for (size_t i = 0; i < xa.size(); ++i) {
      EXPECT_EQ(xa[i].attempt, ya[i].attempt) << b.id;
      EXPECT_EQ(xa[i].at, ya[i].at) << b.id;
      EXPECT_EQ(xa[i].status_code, ya[i].status_code) << b.id;
      EXPECT_EQ(xa[i].error, ya[i].error) << b.id;
    }
  }
  // The outcomes themselves, so that two equally wrong paths cannot pass.
  EXPECT_EQ(MustGetDelivery(one.w, one.sent.id).status, DeliveryStatus::kSucceeded);
  EXPECT_EQ(MustGetDelivery(one.w, one.older.id).status, DeliveryStatus::kSucceeded);
  WebhookDelivery retried = MustGetDelivery(one.w, one.retried.id);
  EXPECT_EQ(retried.status, DeliveryStatus::kPending);
  EXPECT_EQ(retried.next_attempt_at, retry_at);
  EXPECT_EQ(retried.last_error, "HTTP 503");
  EXPECT_EQ(MustGetDelivery(one.w, one.last_try.id).status, DeliveryStatus::kFailed);
  EXPECT_EQ(MustGetDelivery(one.w, one.waiting.id).status, DeliveryStatus::kPending);
  EXPECT_THAT(MustListAttempts(one.waiting.id), IsEmpty());
  ASSERT_EQ(MustListAttempts(one.sent.id).size(), 1u);
  EXPECT_EQ(MustListAttempts(one.sent.id)[0].attempt, 1);
}

TEST_P(WebhookStoreContractTest, AddingAndRecordingInOneCallDropsWhatAGoneWebhookHad) {
  Webhook w = MustCreate();
  Webhook gone = MustCreate();
  WebhookDelivery kept = MakeDelivery(w, Now() + 60 * kSecondUs);
  kept.attempts = 1;
  WebhookDelivery dropped = MakeDelivery(gone, Now() + 60 * kSecondUs);
  dropped.attempts = 1;
  ASSERT_TRUE(store_->DeleteWebhook(gone.namespace_id, gone.id).ok());
  auto disabled = store_->AddDeliveriesAndRecordAttempts(
      {kept, dropped}, 5, {Failure(dropped.id, Now()), Success(kept.id)}, 1);
  ASSERT_TRUE(disabled.ok()) << disabled.status().ToString();
  EXPECT_THAT(*disabled, IsEmpty());
  EXPECT_EQ(MustGetDelivery(w, kept.id).status, DeliveryStatus::kSucceeded);
  EXPECT_THAT(MustListAttempts(dropped.id), IsEmpty());
  EXPECT_EQ(store_->DispatchCursor().value_or(0), 5);
}

}  // namespace
}  // namespace argus::store
