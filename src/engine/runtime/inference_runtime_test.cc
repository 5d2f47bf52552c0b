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
  Result<Json> Extract(const MediaRef&, const Json&, ExtractContext&) const override {
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

// An extractor with a validator beyond its schema and capabilities: what a registry entry carries.
class EvenExtractor final : public Extractor {
 public:
  explicit EvenExtractor(std::vector<std::string> media_types = {"image/*"}) {
    info_.name = "even";
    info_.version = std::to_string(1);
    info_.granularity = Granularity::kRegion;
    info_.regions_field = "boxes";
    info_.vectors = {{.output = "v", .dimension = 3, .metric = "l2"}};
    info_.text_fields = {"label"};
    info_.media_types = std::move(media_types);
    info_.params_schema = {{"type", "object"}, {"properties", {{"n", {{"type", "integer"}}}}}};
  }
  const ExtractorInfo& info() const override { return info_; }
  Status ValidateParams(const Json& params) const override {
    if (params.value("n", 0) % 2 != 0) return InvalidArgumentError("n must be even");
    return OkStatus();
  }
  Result<Json> Extract(const MediaRef& media, const Json&, ExtractContext&) const override {
    ARGUS_ASSIGN_OR_RETURN(auto image, media.Image());
    return Json{{"width", image->bgr.cols}};
  }

 private:
  ExtractorInfo info_;
};

TEST(InferenceRuntimeTest, TheEntrysValidatorAndCapabilitiesApply) {
  InferenceRuntime runtime(nullptr, {.request_threads = 1});
  EXPECT_EQ(runtime.Register(std::make_unique<EvenExtractor>(std::vector<std::string>{})).code(),
            StatusCode::kInvalidArgument)
      << "an extractor must say which media it reads";
  ASSERT_TRUE(runtime.Register(std::make_unique<EvenExtractor>()).ok());
  runtime.Start(false);
  const std::string png = TinyPng();
  auto odd = runtime.Infer({.name = "even", .media = png, .params = {{"n", 3}}});
  EXPECT_EQ(odd.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(odd.status().message().find("n must be even"), std::string_view::npos);
  EXPECT_EQ(runtime.Infer({.name = "even", .media = png, .params = {{"n", "x"}}}).status().code(),
            StatusCode::kInvalidArgument)
      << "the schema first";
  auto ok = runtime.Infer({.name = "even", .media = png, .params = {{"n", 4}}});
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ((*ok)["width"], 4);
  bool listed = false;
  for (const auto& t : runtime.Targets()) {
    if (t.name != "even") continue;
    listed = true;
    EXPECT_EQ(t.details["granularity"], "region");
    EXPECT_EQ(t.details["media_types"], Json::array({"image/*"}));
    EXPECT_EQ(t.details["regions_field"], "boxes");
    EXPECT_EQ(t.details["vectors"],
              Json::parse(R"([{"output": "v", "dimension": 3, "metric": "l2"}])"));
    EXPECT_EQ(t.details["text_fields"], Json::array({"label"}));
  }
  EXPECT_TRUE(listed);
}

TEST(ExtractorTest, WhatADocumentTakesMustBeComplete) {
  ExtractorInfo info{.name = "x", .version = "1"};
  EXPECT_TRUE(CheckExtractorInfo(info).ok());
  info.granularity = Granularity::kRegion;
  EXPECT_NE(CheckExtractorInfo(info).message().find("regions_field"), std::string_view::npos);
  info.regions_field = "boxes";
  EXPECT_TRUE(CheckExtractorInfo(info).ok());
  info.vectors = {{.output = "v"}};
  EXPECT_NE(CheckExtractorInfo(info).message().find("dimension"), std::string_view::npos);
  info.vectors = {{.output = "v", .dimension = 8, .metric = "hamming"}};
  EXPECT_NE(CheckExtractorInfo(info).message().find("hamming"), std::string_view::npos);
  info.vectors = {{.output = "v", .dimension = 8, .metric = "ip"}};
  EXPECT_TRUE(CheckExtractorInfo(info).ok());
  info.media_types.clear();
  EXPECT_EQ(CheckExtractorInfo(info).code(), StatusCode::kInvalidArgument);
}

TEST(InferenceRuntimeTest, AnExtractorRefusesMediaOfATypeItDoesNotRead) {
  InferenceRuntime runtime(nullptr, {.request_threads = 1});
  ASSERT_TRUE(runtime.Register(std::make_unique<EvenExtractor>()).ok());
  runtime.Start(false);
  // Sniffed from the bytes sent.
  auto text = runtime.Infer({.name = "even", .media = "plain words, no pixels"});
  EXPECT_EQ(text.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(text.status().message().find("reads image/*; this media is text/plain"),
            std::string_view::npos)
      << text.status().ToString();
  // By reference with the type the caller knows: refused before the blob is read (this runtime
  // has no blob store, so a read would be Unavailable).
  auto video = runtime.Infer(
      {.name = "even", .blob_sha256 = std::string(64, 'a'), .media_type = "video/mp4"});
  EXPECT_EQ(video.status().code(), StatusCode::kInvalidArgument) << video.status().ToString();
  EXPECT_NE(video.status().message().find("video/mp4"), std::string_view::npos);
  auto image = runtime.Infer(
      {.name = "even", .blob_sha256 = std::string(64, 'a'), .media_type = "image/png"});
  EXPECT_EQ(image.status().code(), StatusCode::kUnavailable) << "an image is read";
  // The type the caller gives wins over sniffing: a PNG said to be text is refused.
  EXPECT_EQ(runtime.Infer({.name = "even", .media = TinyPng(), .media_type = "text/plain"})
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(runtime.Infer({.name = "even", .media = TinyPng()}).ok());
}

TEST(ExtractorTest, MediaTypesMatchExactlyOrByTheirTopLevelType) {
  const std::vector<std::string> images = {"image/*"};
  EXPECT_TRUE(AcceptsMediaType(images, "image/jpeg"));
  EXPECT_TRUE(AcceptsMediaType(images, ""));
  EXPECT_FALSE(AcceptsMediaType(images, "video/mp4"));
  EXPECT_FALSE(AcceptsMediaType(images, "imagex/png"));
  EXPECT_TRUE(AcceptsMediaType({"video/mp4"}, "video/mp4"));
  EXPECT_FALSE(AcceptsMediaType({"video/mp4"}, "video/webm"));
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
