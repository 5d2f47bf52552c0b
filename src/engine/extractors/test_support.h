// Shared by the extractor tests that run real weights (each beside its extractor): where the
// model directory is, reading a media file, a started, warmed-up InferenceRuntime over a
// manifest, and a suite fixture that starts one for its extractors.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "engine/extractors/extractors.h"
#include "engine/runtime/inference_runtime.h"

namespace argus::engine::testing {

/// $ARGUS_MODEL_DIR, else the directory scripts/models.sh made in the source tree.
inline std::string ModelDir() {
  const char* env = std::getenv("ARGUS_MODEL_DIR");
  return env != nullptr && *env ? env : ARGUS_SOURCE_DIR "/models";
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

/// A runtime over `manifest` with `extractors` registered, its models loaded and warmed up
/// (waits up to 60 s). Adds a test failure and returns null when that does not happen.
inline std::unique_ptr<InferenceRuntime> StartRuntime(
    ModelManifest manifest, std::vector<std::unique_ptr<Extractor>> extractors) {
  auto runtime = std::make_unique<InferenceRuntime>(
      std::make_unique<ModelPool>(std::move(manifest), ModelPoolOptions{}, nullptr),
      InferenceRuntimeOptions{.request_threads = 4});
  for (auto& e : extractors) {
    Status s = runtime->Register(std::move(e));
    if (!s.ok()) {
      ADD_FAILURE() << s.ToString();
      return nullptr;
    }
  }
  runtime->Start(/*preload=*/true);
  for (int i = 0; i < 600 && !runtime->Warm(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (!runtime->Warm()) {
    ADD_FAILURE() << "the models did not warm up within 60 s";
    return nullptr;
  }
  return runtime;
}

/// opencv-doc's sample images.
inline const std::string kOpenCvData = "/usr/share/doc/opencv-doc/examples/data/";

/// `file` resized by `scale` and recompressed as JPEG of `quality`.
inline std::string JpegVariant(const std::string& file, double scale, int quality) {
  cv::Mat img = cv::imread(file), out;
  cv::resize(img, out, cv::Size(), scale, scale, cv::INTER_AREA);
  std::vector<unsigned char> buf;
  cv::imencode(".jpg", out, buf, {cv::IMWRITE_JPEG_QUALITY, quality});
  return std::string(buf.begin(), buf.end());
}

/// The dot product (the cosine of L2-normalised vectors).
inline float Cosine(const std::vector<float>& a, const std::vector<float>& b) {
  float dot = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) dot += a[i] * b[i];
  return dot;
}

/// A suite over a runtime with the extractors `Factories` make, on the model directory's
/// manifest, started once for the suite.
template <ExtractorFactory... Factories>
class RuntimeSuite : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto manifest = LoadManifest(ModelDir());
    ASSERT_TRUE(manifest.ok()) << manifest.status().ToString() << " (run scripts/models.sh)";
    std::vector<std::unique_ptr<Extractor>> extractors;
    (extractors.push_back(Factories()), ...);
    runtime_ = StartRuntime(std::move(manifest).value(), std::move(extractors)).release();
    ASSERT_NE(runtime_, nullptr);
  }
  static void TearDownTestSuite() {
    delete runtime_;
    runtime_ = nullptr;
  }
  static Result<Json> Infer(const std::string& name, const std::string& media,
                            Json params = Json::object()) {
    return runtime_->Infer({.name = name, .media = media, .params = std::move(params)});
  }
  static inline InferenceRuntime* runtime_ = nullptr;
};

}  // namespace argus::engine::testing
