// Admission of inference requests: a flood for one slow target is refused past its own bound
// (inference.max_waiting_per_model) while the other targets keep their waiting places.

#include "engine/runtime/inference_runtime.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <opencv2/imgcodecs.hpp>

#include "engine/runtime/extractor.h"

namespace argus::engine {
namespace {

// Holds every call until released: a target whose runs take as long as the test wants.
class GateExtractor final : public Extractor {
 public:
  struct Gate {
    std::mutex mu;
    std::condition_variable cv;
    bool open = false;
    std::atomic<int> entered{0};
  };
  GateExtractor(std::string name, Gate* gate) : gate_(gate) {
    info_.name = std::move(name);
    info_.version =
        std::to_string(1);  // (a literal here trips GCC 12's -Wstringop-overflow at -O3)
  }
  const ExtractorInfo& info() const override { return info_; }
  Result<Json> Extract(const DecodedImage&, const Json&, ExtractContext&) const override {
    gate_->entered.fetch_add(1);
    std::unique_lock lock(gate_->mu);
    gate_->cv.wait(lock, [this] { return gate_->open; });
    return Json{{"ok", info_.name}};
  }

 private:
  ExtractorInfo info_;
  Gate* gate_;
};

std::string TinyPng() {
  std::vector<uchar> png;
  cv::imencode(".png", cv::Mat(4, 4, CV_8UC3, cv::Scalar(10, 20, 30)), png);
  return std::string(reinterpret_cast<const char*>(png.data()), png.size());
}

TEST(InferenceRuntimeTest, OneTargetCannotTakeEveryWaitingPlace) {
  GateExtractor::Gate gate;
  InferenceRuntime runtime(nullptr,
                           {.request_threads = 1, .max_waiting = 10, .max_waiting_per_target = 2});
  ASSERT_TRUE(runtime.Register(std::make_unique<GateExtractor>("slow", &gate)).ok());
  ASSERT_TRUE(runtime.Register(std::make_unique<GateExtractor>("other", &gate)).ok());
  runtime.Start(false);
  const std::string png = TinyPng();
  std::mutex mu;
  std::vector<Result<Json>> answers;
  std::condition_variable answered;
  auto submit = [&](const std::string& name) {
    runtime.InferAsync({.name = name, .media = png}, [&](Result<Json> r) {
      std::lock_guard lock(mu);
      answers.push_back(std::move(r));
      answered.notify_all();
    });
  };
  submit("slow");  // runs on the only thread, held at the gate
  while (gate.entered.load() < 1) std::this_thread::yield();
  submit("slow");
  submit("slow");  // two waiting: slow's bound
  submit("slow");  // refused at once
  {
    std::unique_lock lock(mu);
    answered.wait(lock, [&] { return answers.size() == 1; });
    EXPECT_EQ(answers[0].status().code(), StatusCode::kResourceExhausted);
    EXPECT_NE(answers[0].status().message().find("'slow'"), std::string::npos);
  }
  submit("other");  // another target still finds a place
  {
    std::lock_guard lock(gate.mu);
    gate.open = true;
  }
  gate.cv.notify_all();
  std::unique_lock lock(mu);
  ASSERT_TRUE(
      answered.wait_for(lock, std::chrono::seconds(10), [&] { return answers.size() == 5; }));
  int ok = 0;
  for (const auto& a : answers) ok += a.ok();
  EXPECT_EQ(ok, 4);
  EXPECT_EQ(gate.entered.load(), 4);
}

}  // namespace
}  // namespace argus::engine
