#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace argus::api {

/// Threads for the work of a request that may block (store calls, disk writes and fsyncs, S3
/// requests with their retries), so that the HTTP I/O threads only parse, route and stream.
///
/// Bounded: TrySubmit refuses new work (the transport answers 503 with Retry-After) once every
/// thread is busy and `max_queued` tasks wait, instead of letting a queue grow without bound.
/// Submit is for the next step of work that was admitted already (the next chunk of a body, the
/// answer after it): it is never refused, so a request once accepted does not fail half-way, and
/// each connection has at most one such step queued at a time (BlockingStrand), so that part of
/// the queue is bounded by the connections with a request in progress.
///
/// Thread-safe. Tasks must not throw (an exception is caught and logged at the thread's top).
class BlockingPool {
 public:
  struct Options {
    int threads = 16;
    int max_queued = 256;  ///< tasks that may wait for a thread before new work is refused
  };
  explicit BlockingPool(Options options);
  /// Stop().
  ~BlockingPool();
  BlockingPool(const BlockingPool&) = delete;
  BlockingPool& operator=(const BlockingPool&) = delete;

  /// Queues new work unless it would wait behind `max_queued` others (false: nothing queued).
  bool TrySubmit(std::function<void()> task);
  /// Queues the next step of admitted work, whatever the queue's length. After Stop the task
  /// runs at once on the calling thread (clean-ups still happen).
  void Submit(std::function<void()> task);
  /// Runs every queued task, then joins the threads; idempotent. TrySubmit refuses afterwards.
  void Stop();

  /// Tasks waiting for a thread (admitted and follow-up steps).
  size_t queued() const;
  /// Threads running a task now.
  int busy() const { return busy_.load(std::memory_order_relaxed); }
  /// TrySubmit calls refused so far.
  uint64_t refused() const { return refused_.load(std::memory_order_relaxed); }
  const Options& options() const { return options_; }

 private:
  void Run();

  Options options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;  // GUARDED_BY(mu_)
  size_t idle_threads_ = 0;                  // waiting for a task, GUARDED_BY(mu_)
  bool stopping_ = false;                    // GUARDED_BY(mu_)
  std::atomic<int> busy_{0};
  std::atomic<uint64_t> refused_{0};
  std::vector<std::thread> threads_;
};

/// The blocking steps of one connection, run on a BlockingPool one at a time and in the order
/// posted, so a body's chunks reach their consumer in order and never concurrently, while the
/// I/O thread goes on reading the next. After each step it calls `wake` (from the pool thread):
/// the connection looks at pending() again. Thread-safe; held by shared_ptr (steps in the pool
/// keep it alive).
class BlockingStrand : public std::enable_shared_from_this<BlockingStrand> {
 public:
  BlockingStrand(BlockingPool* pool, std::function<void()> wake)
      : pool_(pool), wake_(std::move(wake)) {}

  /// Queues `step` after the steps posted before it. `admit`: the step starts new work (a
  /// request) and is refused, returning false, when the pool is full; otherwise it is the next
  /// step of admitted work and always queued.
  bool Post(std::function<void()> step, bool admit);
  /// Steps posted and not finished.
  size_t pending() const { return pending_.load(std::memory_order_acquire); }

 private:
  void RunOne();

  BlockingPool* pool_;
  std::function<void()> wake_;
  std::mutex mu_;
  std::deque<std::function<void()>> steps_;  // GUARDED_BY(mu_)
  bool scheduled_ = false;                   // a RunOne is queued or running, GUARDED_BY(mu_)
  std::atomic<size_t> pending_{0};
};

}  // namespace argus::api
