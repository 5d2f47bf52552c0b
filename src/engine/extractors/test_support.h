// Shared by the extractor tests that run real weights: where the model directory is, reading a
// media file, and a started, warmed-up InferenceRuntime over a manifest.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

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

}  // namespace argus::engine::testing
