#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/metrics.h"
#include "core/result.h"
#include "engine/runtime/tensor.h"

namespace argus::engine {

/// A counting semaphore over the process's inference threads: every model run holds as many
/// permits as it uses threads, so concurrent models never oversubscribe the cores.
class ThreadBudget {
 public:
  explicit ThreadBudget(int permits) : free_(permits), total_(permits) {}
  void Acquire(int n);
  void Release(int n);
  int total() const { return total_; }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int free_;
  const int total_;
};

/// Runs one batch: one tensor per model input, each with the batch as its first dimension;
/// returns one tensor per output, batch first.
using BatchFn = std::function<Result<std::vector<Tensor>>(const std::vector<Tensor>& inputs)>;

struct BatcherOptions {
  int max_batch = 8;           ///< 1: every request runs alone
  int64_t max_wait_us = 2000;  ///< how long the first request of a batch waits for company
  int max_queue = 64;          ///< waiting requests beyond this: ResourceExhausted
  int threads_per_run = 1;     ///< budget permits one run holds
};

/// Per-model metric children (argus_inference_*{model}); null members are skipped.
struct BatcherMetrics {
  Histogram* run_seconds = nullptr;
  Histogram* batch_size = nullptr;
  Histogram* queue_seconds = nullptr;
};

/// Dynamic batching for one model: concurrent requests queue; each worker (one per session)
/// takes the oldest request and up to max_batch - 1 more that arrive within max_wait_us, runs
/// them as one batch and hands every caller its slice. Thread-safe. The destructor stops the
/// workers; requests still queued then fail with Unavailable.
class Batcher {
 public:
  Batcher(std::string model, std::vector<BatchFn> sessions, BatcherOptions options,
          ThreadBudget* budget, BatcherMetrics metrics);
  ~Batcher();
  Batcher(const Batcher&) = delete;
  Batcher& operator=(const Batcher&) = delete;

  /// Runs one request (each input with batch 1). ResourceExhausted when the queue is full;
  /// DeadlineExceeded when no answer came by `deadline` (the work is dropped if not started).
  Result<std::vector<Tensor>> Run(std::vector<Tensor> inputs,
                                  std::chrono::steady_clock::time_point deadline);

  size_t queued() const;
  const std::string& model() const { return model_; }

 private:
  struct Request;
  void Work(const BatchFn& fn);
  void RunBatch(const BatchFn& fn, std::vector<std::shared_ptr<Request>>& batch);

  std::string model_;
  std::vector<BatchFn> sessions_;
  BatcherOptions options_;
  ThreadBudget* budget_;
  BatcherMetrics metrics_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Request>> queue_;
  bool stop_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace argus::engine
