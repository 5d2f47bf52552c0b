// The webhook dispatcher against the embedded stores (SQLite event log and webhook store, the
// in-process bus) behind a FaultInjectingWebhookStore, sending to a loopback receiver: what it
// does when its store calls fail or stall.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <thread>

#include "core/config.h"
#include "core/crypto.h"
#include "core/id.h"
#include "core/metrics.h"
#include "engine/webhooks/async_delivery_store.h"
#include "engine/webhooks/keep_alive_receiver_for_test.h"
#include "engine/webhooks/webhook_dispatcher.h"
#include "store/inprocess/register.h"
#include "store/sqlite/register.h"
#include "store/store_registry.h"
#include "tests/fakes/fault_injecting_webhook_store.h"

namespace argus::engine {
namespace {

using namespace std::chrono_literals;

constexpr char kNamespace[] = "ns";

class DispatcherStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path().string() + "/argus-dispatcher-" + NewId();
    std::filesystem::create_directories(dir_);
    ASSERT_TRUE(store::sqlite::RegisterSqliteStores(registry_).ok());
    ASSERT_TRUE(store::inprocess::RegisterInProcessStores(registry_).ok());
    auto bus = registry_.event_bus.Create("inprocess", {.config = &config_, .data_dir = dir_});
    ASSERT_TRUE(bus.ok()) << bus.status().ToString();
    bus_ = std::move(bus).value();
    const store::StoreArgs args{
        .config = &config_, .data_dir = dir_, .event_bus = bus_.get(), .metrics = &metrics_};
    auto events = registry_.event_log.Create("sqlite", args);
    ASSERT_TRUE(events.ok()) << events.status().ToString();
    events_ = std::move(events).value();
    auto webhooks = registry_.webhooks.Create("sqlite", args);
    ASSERT_TRUE(webhooks.ok()) << webhooks.status().ToString();
    webhooks_ = std::move(webhooks).value();
    store_ = std::make_unique<store::FaultInjectingWebhookStore>(webhooks_.get());
    options_.sender.allow_private_targets = true;
    options_.sender.timeout_s = 2;
    options_.initial_backoff_s = 0.05;
    options_.max_backoff_s = 0.2;
  }

  void TearDown() override {
    dispatcher_.reset();
    store_.reset();
    webhooks_.reset();
    events_.reset();
    bus_.reset();
    std::filesystem::remove_all(dir_);
  }

  void StartDispatcher() {
    auto sender = WebhookSender::Create(options_.sender);
    ASSERT_TRUE(sender.ok()) << sender.status().ToString();
    dispatcher_ = std::make_unique<WebhookDispatcher>(events_.get(), bus_.get(), store_.get(),
                                                      std::move(sender).value(), options_,
                                                      &SystemClock::Get(), &metrics_);
    dispatcher_->Start();
  }

  store::Webhook CreateWebhook(const std::string& url) {
    store::Webhook w;
    w.id = NewId();
    w.namespace_id = kNamespace;
    w.url = url;
    w.events = {"task.*"};
    w.secret = "whsec_" + Base64Encode(std::string(32, 'k'));
    w.created_at = w.updated_at = SystemClock::Get().NowUs();
    auto created = webhooks_->CreateWebhook(w);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return w;
  }

  // Appends `n` task.created events; returns the seq of the last.
  int64_t AppendEvents(int n) {
    int64_t seq = 0;
    for (int i = 0; i < n; ++i) {
      auto appended = events_->Append({.type = "task.created",
                                       .namespace_id = kNamespace,
                                       .subject_id = "task-" + std::to_string(i),
                                       .queue = "cpu",
                                       .data_json = "{\"i\":" + std::to_string(i) + "}"});
      EXPECT_TRUE(appended.ok()) << appended.status().ToString();
      if (appended.ok()) seq = *appended;
    }
    return seq;
  }

  // The webhook's deliveries, every page.
  std::vector<store::WebhookDelivery> Deliveries(const std::string& webhook_id) {
    std::vector<store::WebhookDelivery> out;
    store::PageRequest page{.limit = 1000};
    for (;;) {
      auto listed = webhooks_->ListDeliveries(kNamespace, webhook_id, std::nullopt, page);
      EXPECT_TRUE(listed.ok()) << listed.status().ToString();
      if (!listed.ok()) return out;
      out.insert(out.end(), listed->items.begin(), listed->items.end());
      if (listed->next_after_id.empty()) return out;
      page.after_id = listed->next_after_id;
    }
  }

  int Succeeded(const std::string& webhook_id) {
    int n = 0;
    for (const auto& d : Deliveries(webhook_id)) n += d.status == store::DeliveryStatus::kSucceeded;
    return n;
  }

  static bool WaitFor(const std::function<bool()>& done, std::chrono::seconds timeout = 30s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (done()) return true;
      std::this_thread::sleep_for(20ms);
    }
    return done();
  }

  std::string dir_;
  Config config_;
  MetricsRegistry metrics_;
  store::StoreRegistry registry_;
  std::unique_ptr<store::EventBus> bus_;
  std::unique_ptr<store::EventLog> events_;
  std::unique_ptr<store::WebhookStore> webhooks_;
  std::unique_ptr<store::FaultInjectingWebhookStore> store_;
  DispatcherOptions options_;
  std::unique_ptr<WebhookDispatcher> dispatcher_;
};

TEST_F(DispatcherStoreTest, EveryEventGetsOneDeliveryWhenStoringDeliveriesFailsForAWhile) {
  KeepAliveReceiver receiver;
  store::Webhook hook = CreateWebhook(receiver.url());
  store_->plan().Fail("AddDeliveries", UnavailableError("injected"), 1, 3);
  StartDispatcher();
  const int64_t last = AppendEvents(300);

  ASSERT_TRUE(WaitFor([&] { return Succeeded(hook.id) == 300; }))
      << Succeeded(hook.id) << " of 300 deliveries succeeded";
  EXPECT_EQ(store_->plan().Injected("AddDeliveries"), 3);
  // Each event is one delivery in the log, and reached the receiver (attempts that started
  // before their delivery failed to be stored reach it again: at least once, same webhook-id).
  std::set<std::string> events;
  for (const auto& d : Deliveries(hook.id)) events.insert(d.event_id);
  EXPECT_EQ(events.size(), 300u);
  auto ids = receiver.ids();
  EXPECT_EQ(ids.size(), 300u);
  for (const std::string& id : events) EXPECT_GE(ids[id], 1) << id;
  dispatcher_.reset();
  auto cursor = webhooks_->DispatchCursor();
  ASSERT_TRUE(cursor.ok());
  EXPECT_EQ(*cursor, last);
}

TEST_F(DispatcherStoreTest, ABacklogInTheOutboxAtStartIsSentFromBirthNotThroughLeases) {
  // Events that waited in the outbox (a restart, webhooks.dispatch off) are fanned out once the
  // start-up lease found nothing older in the store: each delivery is stored leased and sent
  // from memory, not stored to be leased back (which took a lease call per window).
  KeepAliveReceiver receiver;
  store::Webhook hook = CreateWebhook(receiver.url());
  AppendEvents(600);
  StartDispatcher();

  ASSERT_TRUE(WaitFor([&] { return Succeeded(hook.id) == 600; }))
      << Succeeded(hook.id) << " of 600 deliveries succeeded";
  EXPECT_LE(store_->plan().Calls("LeaseDeliveries"), 2);
  EXPECT_EQ(receiver.ids().size(), 600u);
}

TEST_F(DispatcherStoreTest, AFailedAdditionDoesNotHoldBackTheResultsMergedWithIt) {
  // The results queued with additions are one store call; when the additions fail (their events
  // are fanned out again), the results of deliveries stored before are still recorded at once,
  // not made again after their leases.
  store::Webhook hook = CreateWebhook("http://127.0.0.1:9/hook");
  const TimestampUs now = SystemClock::Get().NowUs();
  auto delivery = [&](int i) {
    store::WebhookDelivery d;
    d.id = NewId();
    d.webhook_id = hook.id;
    d.namespace_id = kNamespace;
    d.event_id = "evt_" + std::to_string(i);
    d.event_type = "task.created";
    d.payload = "{}";
    d.attempts = 1;  // sent from birth
    d.next_attempt_at = now + 60'000'000;
    d.created_at = d.updated_at = now;
    return d;
  };
  const store::WebhookDelivery stored = delivery(1);
  AsyncDeliveryStore writes(store_.get(), 0, [] {});
  writes.AddDeliveries({stored}, 1);
  ASSERT_TRUE(WaitFor([&] { return webhooks_->GetDelivery(kNamespace, hook.id, stored.id).ok(); }));

  // A slow lease keeps the thread busy while an addition and a result queue up behind it.
  store_->plan().Delay("LeaseDeliveries", 300ms);
  store_->plan().Fail("AddDeliveries", UnavailableError("injected"), 1, 1);
  writes.Lease({.now = now, .max = 1, .per_webhook = {{hook.id, 1}}});
  std::this_thread::sleep_for(50ms);
  writes.AddDeliveries({delivery(2)}, 2);
  writes.RecordAttempts({{.delivery_id = stored.id,
                          .at = now,
                          .status_code = 200,
                          .latency_ms = 1,
                          .success = true}});

  DeliveryStoreReport report;
  ASSERT_TRUE(WaitFor([&] {
    DeliveryStoreReport r = writes.Take();
    report.adds_failed |= r.adds_failed;
    report.unrecorded_attempts += r.unrecorded_attempts;
    return report.adds_failed;
  }));
  EXPECT_EQ(store_->plan().Injected("AddDeliveries"), 1);
  EXPECT_EQ(report.unrecorded_attempts, 0u);
  auto got = webhooks_->GetDelivery(kNamespace, hook.id, stored.id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->status, store::DeliveryStatus::kSucceeded);
}

TEST_F(DispatcherStoreTest, AttemptsThatCannotBeRecordedAreMadeAgainAfterTheirLease) {
  KeepAliveReceiver receiver;
  store::Webhook hook = CreateWebhook(receiver.url());
  options_.sender.timeout_s = 1;
  options_.lease_margin_s = 0.5;  // a lost attempt is tried again 1.5 s after it started
  store_->plan().Fail("RecordAttempts", UnavailableError("injected"), 1, 1);
  StartDispatcher();
  AppendEvents(20);

  ASSERT_TRUE(WaitFor([&] { return Succeeded(hook.id) == 20; }))
      << Succeeded(hook.id) << " of 20 deliveries succeeded";
  EXPECT_EQ(store_->plan().Injected("RecordAttempts"), 1);
  auto ids = receiver.ids();
  EXPECT_EQ(ids.size(), 20u);
  int again = 0;
  for (const auto& [id, n] : ids) again += n >= 2;
  EXPECT_GE(again, 1) << "the attempts whose results were lost were not made again";
}

TEST_F(DispatcherStoreTest, FailedLeasesAreRetried) {
  // The first 30 answers are 500s: those deliveries are retried through leases, and the first
  // two leases fail.
  KeepAliveReceiver receiver(/*fail_first=*/30);
  store::Webhook hook = CreateWebhook(receiver.url());
  store_->plan().Fail("LeaseDeliveries", UnavailableError("injected"), 1, 2);
  StartDispatcher();
  AppendEvents(20);

  ASSERT_TRUE(WaitFor([&] { return Succeeded(hook.id) == 20; }))
      << Succeeded(hook.id) << " of 20 deliveries succeeded";
  EXPECT_EQ(store_->plan().Injected("LeaseDeliveries"), 2);
  EXPECT_GE(receiver.requests(), 50);
}

TEST_F(DispatcherStoreTest, DeliveriesGoOnWhileRecordingAttemptsStalls) {
  // Every RecordAttempts call takes 3 s: the dispatcher does not wait for it between sends.
  KeepAliveReceiver receiver;
  store::Webhook hook = CreateWebhook(receiver.url());
  StartDispatcher();
  // Once the first delivery is recorded the dispatcher knows nothing older waits in the store.
  AppendEvents(1);
  ASSERT_TRUE(WaitFor([&] { return Succeeded(hook.id) == 1; }));
  const int64_t calls_before = store_->plan().Calls("RecordAttempts");
  store_->plan().Delay("RecordAttempts", 3000ms);
  AppendEvents(200);

  ASSERT_TRUE(WaitFor([&] { return receiver.ids().size() == 201; }, 10s))
      << receiver.ids().size() << " of 201 events reached the receiver";
  // At most one more call had started (and it sleeps 3 s) when every event had been sent.
  EXPECT_LE(store_->plan().Calls("RecordAttempts") - calls_before, 1);
  ASSERT_TRUE(WaitFor([&] { return Succeeded(hook.id) == 201; }))
      << Succeeded(hook.id) << " of 201 deliveries succeeded";
  // Merged: far fewer store calls than attempts.
  EXPECT_LE(store_->plan().Calls("RecordAttempts") - calls_before, 4);
}

}  // namespace
}  // namespace argus::engine
