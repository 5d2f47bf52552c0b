#include "store/inprocess/in_process_event_bus.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace argus::store::inprocess {
namespace {

EventBatch Batch(std::vector<int64_t> seqs) {
  std::vector<Event> events;
  for (int64_t seq : seqs) events.push_back(Event{.seq = seq, .type = "task.created"});
  return std::make_shared<const std::vector<Event>>(std::move(events));
}

TEST(InProcessEventBusTest, EverySubscriberGetsEveryBatchInOrder) {
  InProcessEventBus bus;
  std::vector<int64_t> a, b;
  auto sa = bus.Subscribe([&](const EventBatch& batch) {
    for (const Event& e : *batch) a.push_back(e.seq);
  });
  bus.Publish(Batch({1, 2}));
  auto sb = bus.Subscribe([&](const EventBatch& batch) {
    for (const Event& e : *batch) b.push_back(e.seq);
  });
  bus.Publish(Batch({3}));
  bus.Publish(Batch({}));  // ignored
  bus.Publish(nullptr);    // ignored
  EXPECT_EQ(a, (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(b, (std::vector<int64_t>{3}));  // only what was published after it subscribed
  EXPECT_EQ(bus.PublishedForTest(), 2);
}

TEST(InProcessEventBusTest, SubscribersShareOneBatch) {
  InProcessEventBus bus;
  const std::vector<Event>* seen_a = nullptr;
  const std::vector<Event>* seen_b = nullptr;
  auto sa = bus.Subscribe([&](const EventBatch& batch) { seen_a = batch.get(); });
  auto sb = bus.Subscribe([&](const EventBatch& batch) { seen_b = batch.get(); });
  bus.Publish(Batch({1}));
  EXPECT_NE(seen_a, nullptr);
  EXPECT_EQ(seen_a, seen_b);
}

TEST(InProcessEventBusTest, AnEndedSubscriptionIsNeverCalledAgain) {
  InProcessEventBus bus;
  std::atomic<int> calls{0};
  std::atomic<bool> in_handler{false};
  auto sub = bus.Subscribe([&](const EventBatch&) {
    in_handler = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    calls.fetch_add(1);
    in_handler = false;
  });
  std::thread publisher([&] { bus.Publish(Batch({1})); });
  while (!in_handler.load()) std::this_thread::yield();
  sub.reset();  // waits for the running handler
  EXPECT_FALSE(in_handler.load());
  EXPECT_EQ(calls.load(), 1);
  publisher.join();
  bus.Publish(Batch({2}));
  EXPECT_EQ(calls.load(), 1);
}

}  // namespace
}  // namespace argus::store::inprocess
