#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/metrics.h"
#include "engine/runtime/batcher.h"
#include "engine/runtime/model_manifest.h"

namespace argus::engine {

struct ModelPoolOptions {
  int threads = 0;             ///< the inference thread budget; 0: one per core
  int sessions_per_model = 2;  ///< concurrent runs per model (one intra-op thread each)
  int max_batch = 8;           ///< for models whose graph has a symbolic batch dimension
  int64_t max_wait_us = 2000;
  int max_queue = 64;
};

/// A model's state as /v1/models shows it.
struct ModelState {
  std::string name, version, task;
  std::string state = "loading";  ///< "loading", "ready", "failed"
  std::string error;
  bool batchable = false;
  double load_ms = 0;
  int64_t runs = 0;        ///< model runs (batches) since start
  int64_t requests = 0;    ///< requests those runs answered
  double mean_run_ms = 0;  ///< per run
  Json entry;              ///< the manifest entry
};

/// The models of a manifest, each behind a Batcher over its ONNX Runtime sessions. Loading
/// (SHA-256 check, sessions, a warm-up run) happens on a background thread so the server listens
/// at once; a model that fails stays "failed" and everything else works. Thread-safe.
class ModelPool {
 public:
  ModelPool(ModelManifest manifest, ModelPoolOptions options, MetricsRegistry* metrics);
  ~ModelPool();

  /// Starts loading every model in the background; later calls do nothing. Run() calls it too,
  /// so a pool nobody preloaded loads on first use (answering Unavailable meanwhile).
  void StartLoading();
  /// True once every model is ready or failed.
  bool loaded() const { return loaded_.load(); }
  std::vector<ModelState> States() const;
  const ModelSpec* Spec(std::string_view name) const { return manifest_.Find(name); }

  /// OK when the model can run now; NotFound / Unavailable (loading, failed) as Run says.
  Status Ready(std::string_view name);
  /// The input shapes the model's graph declares (-1: symbolic), in its order. Ready()'s errors
  /// while it is not loaded.
  Result<std::vector<std::vector<int64_t>>> GraphInputShapes(std::string_view name);
  /// Runs one request on the named model (inputs with batch 1). NotFound for an unknown
  /// model; Unavailable while it loads or when it failed; the Batcher's errors otherwise.
  Result<std::vector<Tensor>> Run(std::string_view name, std::vector<Tensor> inputs,
                                  std::chrono::steady_clock::time_point deadline);

 private:
  struct Loaded;
  void LoadAll();
  Status Load(const ModelSpec& spec, Loaded& slot);

  ModelManifest manifest_;
  ModelPoolOptions options_;
  MetricsRegistry* metrics_;
  ThreadBudget budget_;
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Loaded>, std::less<>> models_;
  std::atomic<bool> loaded_{false};
  std::atomic<bool> stop_{false};
  std::once_flag started_;
  std::thread loader_;
};

}  // namespace argus::engine
