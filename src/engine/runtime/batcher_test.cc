#include "engine/runtime/batcher.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace argus::engine {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

Tensor Scalar1(float v) { return Tensor{{1, 1}, {v}}; }

// A model that doubles its input, recording batch sizes and how many runs overlap.
struct Doubler {
  std::mutex mu;
  std::vector<int64_t> batch_sizes;
  std::atomic<int> running{0}, max_running{0};
  std::chrono::milliseconds hold{0};

  BatchFn Fn() {
    return [this](const std::vector<Tensor>& in) -> Result<std::vector<Tensor>> {
      int now = ++running;
      int seen = max_running.load();
      while (now > seen && !max_running.compare_exchange_weak(seen, now)) {
      }
      std::this_thread::sleep_for(hold);
      Tensor out = in[0];
      for (float& v : out.data) v *= 2;
      {
        std::lock_guard lock(mu);
        batch_sizes.push_back(in[0].shape[0]);
      }
      --running;
      return std::vector<Tensor>{out};
    };
  }
};

TEST(BatcherTest, ConcurrentRequestsShareABatchAndGetTheirOwnSlice) {
  Doubler model;
  model.hold = 20ms;
  ThreadBudget budget(2);
  Batcher batcher("double", {model.Fn()}, {.max_batch = 4, .max_wait_us = 50'000}, &budget, {});
  std::vector<std::thread> callers;
  std::vector<float> got(8, -1);
  for (int i = 0; i < 8; ++i) {
    callers.emplace_back([&, i] {
      auto r = batcher.Run({Scalar1(static_cast<float>(i))}, Clock::now() + 5s);
      if (r.ok()) got[i] = (*r)[0].data[0];
    });
  }
  for (auto& t : callers) t.join();
  for (int i = 0; i < 8; ++i) EXPECT_EQ(got[i], 2.0f * i) << i;
  int64_t largest = 0, total = 0;
  for (int64_t b : model.batch_sizes) {
    largest = std::max(largest, b);
    total += b;
  }
  EXPECT_EQ(total, 8);
  EXPECT_GT(largest, 1);  // requests were grouped
  EXPECT_LE(largest, 4);  // never above max_batch
}

TEST(BatcherTest, FullQueueIsResourceExhaustedAndLateIsDeadlineExceeded) {
  Doubler model;
  model.hold = 300ms;
  ThreadBudget budget(1);
  Batcher batcher("slow", {model.Fn()}, {.max_batch = 1, .max_queue = 1}, &budget, {});
  std::thread first([&] { (void)batcher.Run({Scalar1(1)}, Clock::now() + 5s); });
  while (model.running.load() == 0) std::this_thread::sleep_for(1ms);  // the worker holds it
  std::thread second([&] { (void)batcher.Run({Scalar1(2)}, Clock::now() + 5s); });
  while (batcher.queued() == 0) std::this_thread::sleep_for(1ms);
  auto refused = batcher.Run({Scalar1(3)}, Clock::now() + 5s);
  EXPECT_EQ(refused.status().code(), StatusCode::kResourceExhausted);
  first.join();
  second.join();

  std::thread busy([&] { (void)batcher.Run({Scalar1(4)}, Clock::now() + 5s); });
  while (model.running.load() == 0) std::this_thread::sleep_for(1ms);
  auto late = batcher.Run({Scalar1(5)}, Clock::now() + 50ms);
  EXPECT_EQ(late.status().code(), StatusCode::kDeadlineExceeded);
  busy.join();
  std::this_thread::sleep_for(50ms);
  std::lock_guard lock(model.mu);
  EXPECT_EQ(model.batch_sizes.size(), 3u);  // the late request never ran
}

TEST(BatcherTest, SessionsRunInParallelWithinTheThreadBudget) {
  Doubler two;
  two.hold = 50ms;
  ThreadBudget wide(2);
  {
    Batcher batcher("two", {two.Fn(), two.Fn()}, {.max_batch = 1}, &wide, {});
    std::vector<std::thread> callers;
    for (int i = 0; i < 6; ++i) {
      callers.emplace_back([&] { (void)batcher.Run({Scalar1(1)}, Clock::now() + 5s); });
    }
    for (auto& t : callers) t.join();
  }
  EXPECT_EQ(two.max_running.load(), 2);

  Doubler one;
  one.hold = 20ms;
  ThreadBudget narrow(1);
  {
    Batcher batcher("one", {one.Fn(), one.Fn()}, {.max_batch = 1}, &narrow, {});
    std::vector<std::thread> callers;
    for (int i = 0; i < 6; ++i) {
      callers.emplace_back([&] { (void)batcher.Run({Scalar1(1)}, Clock::now() + 5s); });
    }
    for (auto& t : callers) t.join();
  }
  EXPECT_EQ(one.max_running.load(), 1);  // two sessions, one thread of budget
}

// Inputs of different sizes (OCR's lines, say) never share a batch; each size still batches.
TEST(BatcherTest, OnlyEqualShapesShareABatch) {
  Doubler model;
  model.hold = 20ms;
  ThreadBudget budget(1);
  Batcher batcher("sizes", {model.Fn()}, {.max_batch = 8, .max_wait_us = 50'000}, &budget, {});
  std::vector<std::thread> callers;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i) {
    callers.emplace_back([&, i] {
      const int64_t width = 2 + i % 2;
      Tensor t{{1, width}, std::vector<float>(static_cast<size_t>(width), static_cast<float>(i))};
      auto r = batcher.Run({t}, Clock::now() + 5s);
      if (r.ok() && (*r)[0].shape[1] == width && (*r)[0].data[0] == 2.0f * i) ++ok;
    });
  }
  for (auto& t : callers) t.join();
  EXPECT_EQ(ok.load(), 8);
  std::lock_guard lock(model.mu);
  EXPECT_LT(model.batch_sizes.size(), 8u);  // still grouped, by size
}

TEST(BatcherTest, ModelErrorsReachEveryCallerOfTheBatch) {
  ThreadBudget budget(1);
  Batcher batcher("broken", {[](const std::vector<Tensor>&) -> Result<std::vector<Tensor>> {
                    return InternalError("onnx runtime said no");
                  }},
                  {}, &budget, {});
  auto r = batcher.Run({Scalar1(1)}, Clock::now() + 5s);
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
  EXPECT_EQ(r.status().message(), "onnx runtime said no");
}

TEST(TensorTest, ConcatAndSlice) {
  Tensor a{{1, 2}, {1, 2}}, b{{2, 2}, {3, 4, 5, 6}};
  auto c = Concat({&a, &b});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->shape, (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(c->data, (std::vector<float>{1, 2, 3, 4, 5, 6}));
  Tensor mid = Slice(*c, 1, 1);
  EXPECT_EQ(mid.shape, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(mid.data, (std::vector<float>{3, 4}));
  Tensor odd{{1, 3}, {1, 2, 3}};
  EXPECT_FALSE(Concat({&a, &odd}).ok());
}

}  // namespace
}  // namespace argus::engine
