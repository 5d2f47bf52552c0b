#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/json.h"
#include "store/task_queue.h"

namespace argus::engine {

/// Records task completions in group commits, so a finished task is durable and visible (its
/// status, task.succeeded event, webhooks, `Prefer: wait`) about one commit after it finished,
/// whichever worker ran it, while the workers never wait for the write.
///
/// Workers Add() a completion and go on to their next task. One thread writes everything that
/// has accumulated with one TaskQueue::CompleteMany call; what arrives while that write is in
/// flight goes into the next one, so the batch grows with the load and a lone completion is
/// written at once (no timer). A write that fails is logged and dropped: the tasks stay leased
/// and run again once their leases expire (at-least-once, as after a crash).
///
/// Thread-safe. The destructor writes whatever is still queued, then stops the thread.
class CompletionWriter {
 public:
  /// Most completions per CompleteMany call.
  static constexpr size_t kMaxBatch = 1024;

  /// `queue` is borrowed and must outlive this writer.
  explicit CompletionWriter(store::TaskQueue* queue);
  ~CompletionWriter();
  CompletionWriter(const CompletionWriter&) = delete;
  CompletionWriter& operator=(const CompletionWriter&) = delete;

  /// Queues `task` (as leased) as succeeded with `result`; `started_at` is when a task leased
  /// ahead started (nullopt when its record has it already).
  void Add(store::Task task, Json result, std::optional<TimestampUs> started_at);
  /// Returns once everything added before the call has been written (or its write failed).
  void Flush();

  /// Completions whose write failed so far.
  int64_t FailedForTest() const;

 private:
  struct Item {
    store::Task task;
    Json result;
    std::optional<TimestampUs> started_at;
  };
  void Loop();
  void Write(std::vector<Item>& batch);

  store::TaskQueue* const queue_;
  mutable std::mutex mu_;
  std::condition_variable work_;
  std::condition_variable written_;
  std::vector<Item> pending_;  // GUARDED_BY(mu_)
  int64_t added_ = 0;          // GUARDED_BY(mu_)
  int64_t done_ = 0;           // written or failed, GUARDED_BY(mu_)
  int64_t failed_ = 0;         // GUARDED_BY(mu_)
  bool stopping_ = false;      // GUARDED_BY(mu_)
  std::thread thread_;         // last: starts once the state above exists
};

}  // namespace argus::engine
