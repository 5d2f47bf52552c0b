// A user's own models: manifest entries over tiny ONNX graphs generated for the test
// (tests/models/make_tiny_models.py), next to entries that must fail without hurting the rest.
#include "engine/runtime/model_pool.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <thread>

#include "core/crypto.h"
#include "engine/runtime/inference_runtime.h"

namespace argus::engine {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string FileSha256(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return HexEncode(Sha256(bytes));
}

class UserModelsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("argus-user-models-" + std::to_string(getpid()));
    std::string cmd =
        "/usr/bin/python3 " ARGUS_SOURCE_DIR "/tests/models/make_tiny_models.py " + dir_.string();
    ASSERT_EQ(std::system(cmd.c_str()), 0);
    Json manifest = {
        {"format", 1},
        {"models",
         {{{"name", "tiny_embed"},
           {"version", "0.1"},
           {"task", "image_embedding"},
           {"file", "embed.onnx"},
           {"sha256", FileSha256(dir_ / "embed.onnx")},
           {"batchable", true},
           {"inputs", {{{"name", "image"}, {"shape", {"N", 8, 8, 3}}, {"layout", "NHWC"}}}},
           {"outputs", {{{"name", "embedding"}, {"shape", {"N", 3}}}}},
           {"preprocessing", {{"size", {8, 8}}, {"color", "RGB"}, {"scale", 1.0 / 255}}}},
          {{"name", "tiny_double"},
           {"version", "1"},
           {"task", "custom"},
           {"file", "double.onnx"},
           {"sha256", FileSha256(dir_ / "double.onnx")},
           {"inputs", {{{"name", "x"}, {"shape", {"N", 3}}}}},
           {"outputs", {{{"name", "y"}, {"shape", {"N", 3}}}}}},
          {{"name", "tampered"},
           {"version", "1"},
           {"task", "custom"},
           {"file", "fixed.onnx"},
           {"sha256", std::string(64, '0')}},
          {{"name", "gone"},
           {"version", "1"},
           {"task", "custom"},
           {"file", "nowhere.onnx"},
           {"sha256", std::string(64, 'a')}},
          {{"version", "1"}, {"file", "double.onnx"}}}}};
    std::ofstream(dir_ / "manifest.json") << manifest.dump(2);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<InferenceRuntime> Runtime() {
    auto manifest = LoadManifest(dir_.string());
    EXPECT_TRUE(manifest.ok()) << manifest.status().ToString();
    auto runtime = std::make_unique<InferenceRuntime>(
        std::make_unique<ModelPool>(std::move(manifest).value(), ModelPoolOptions{}, nullptr),
        InferenceRuntimeOptions{.request_threads = 2});
    runtime->Start(/*preload=*/true);
    for (int i = 0; i < 100 && !runtime->Warm(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_TRUE(runtime->Warm());
    return runtime;
  }

  fs::path dir_;
};

TEST_F(UserModelsTest, ManifestEntriesLoadOrFailOneByOne) {
  auto runtime = Runtime();
  std::map<std::string, store::InferenceTarget> by_name;
  for (auto& t : runtime->Targets()) by_name[t.name] = t;
  EXPECT_EQ(by_name["tiny_embed"].state, "ready");
  EXPECT_EQ(by_name["tiny_double"].state, "ready");
  EXPECT_EQ(by_name["tampered"].state, "failed");
  EXPECT_NE(by_name["tampered"].error.find("SHA-256"), std::string::npos);
  EXPECT_EQ(by_name["gone"].state, "failed");
  EXPECT_NE(by_name["gone"].error.find("missing"), std::string::npos);
  EXPECT_EQ(by_name["?"].state, "failed");  // the entry without a name
  EXPECT_TRUE(by_name["tiny_embed"].details["batchable"].get<bool>());
}

TEST_F(UserModelsTest, UserImageEmbedderAnswersThroughTheRuntime) {
  auto runtime = Runtime();
  cv::Mat img(40, 60, CV_8UC3, cv::Scalar(255, 0, 0));  // BGR: pure blue
  std::vector<unsigned char> png;
  cv::imencode(".png", img, png);
  auto r = runtime->Infer({.name = "tiny_embed", .media = std::string(png.begin(), png.end())});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)["model"], "tiny_embed@0.1");
  ASSERT_EQ((*r)["embedding"].size(), 3u);
  // The mean colour in RGB order, L2-normalised: blue → (0, 0, 1).
  EXPECT_NEAR((*r)["embedding"][0].get<double>(), 0.0, 1e-5);
  EXPECT_NEAR((*r)["embedding"][2].get<double>(), 1.0, 1e-5);
  auto refused = runtime->Infer({.name = "tampered", .media = std::string(png.begin(), png.end())});
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable);
  auto not_image =
      runtime->Infer({.name = "tiny_double", .media = std::string(png.begin(), png.end())});
  EXPECT_EQ(not_image.status().code(), StatusCode::kInvalidArgument);  // no image input
}

TEST_F(UserModelsTest, ConcurrentRunsOfABatchableModelAreBatched) {
  auto manifest = LoadManifest(dir_.string());
  ASSERT_TRUE(manifest.ok());
  MetricsRegistry metrics;
  ModelPool pool(std::move(manifest).value(),
                 {.sessions_per_model = 1, .max_batch = 8, .max_wait_us = 20000}, &metrics);
  pool.StartLoading();
  for (int i = 0; i < 100 && !pool.loaded(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::vector<std::thread> callers;
  std::vector<float> got(16, -1);
  for (int i = 0; i < 16; ++i) {
    callers.emplace_back([&, i] {
      float v = static_cast<float>(i);
      auto r = pool.Run("tiny_double", {Tensor{{1, 3}, {v, v, v}}},
                        Clock::now() + std::chrono::seconds(5));
      if (r.ok()) got[i] = (*r)[0].data[0];
    });
  }
  for (auto& t : callers) t.join();
  for (int i = 0; i < 16; ++i) EXPECT_EQ(got[i], 2.0f * i) << i;
  std::string rendered = metrics.Render();
  // Fewer runs than requests: some batches held more than one.
  auto count_at = rendered.find("argus_inference_batch_size_count{model=\"tiny_double\"}");
  ASSERT_NE(count_at, std::string::npos) << rendered;
  int runs = std::stoi(rendered.substr(rendered.find('}', count_at) + 2));
  EXPECT_LT(runs, 16);
  EXPECT_EQ(pool.Run("nope", {}, Clock::now()).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace argus::engine
