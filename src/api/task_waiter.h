#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/task_queue.h"

namespace argus::api {

/// Wakes HTTP calls that wait for a task to finish (`Prefer: wait`) without busy polling per
/// call: one thread follows the task event log (the outbox) and resolves every waiter of a
/// task when its terminal event appears, or at the waiter's deadline. Thread-safe.
class TaskWaiter {
 public:
  using Done = std::function<void(bool terminal)>;

  explicit TaskWaiter(store::TaskQueue* tasks);
  ~TaskWaiter();

  /// Calls `done(true)` once task `id` (of `namespace_id`) is terminal, or `done(false)` at
  /// `deadline`, exactly once, on the waiter's thread (or at once on this thread when the task
  /// is terminal already or the waiter is shut down).
  void Wait(const std::string& namespace_id, const std::string& id,
            std::chrono::steady_clock::time_point deadline, Done done);

  /// Long polls: calls `attempt(false)` on the waiter's thread about every 20 ms until it returns
  /// true, and `attempt(true)` once at `deadline` if it never did (or at shutdown). `attempt`
  /// must answer its caller when it returns true or when called with final = true.
  void Poll(std::chrono::steady_clock::time_point deadline,
            std::function<bool(bool final)> attempt);

  /// Resolves every pending wait with `done(false)` and refuses new ones (they resolve at once).
  /// Call before the HTTP server stops, so no waiter outlives its connection.
  void Shutdown();

 private:
  struct Waiter {
    std::chrono::steady_clock::time_point deadline;
    Done done;
  };
  void Run();
  void RunPollers();

  store::TaskQueue* tasks_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::multimap<std::string, Waiter> waiters_;  // by task id, GUARDED_BY(mu_)
  struct Poller {
    std::chrono::steady_clock::time_point deadline;
    std::function<bool(bool)> attempt;
  };
  std::vector<Poller> pollers_;  // GUARDED_BY(mu_)
  std::chrono::steady_clock::time_point next_poll_;
  bool stopping_ = false;  // GUARDED_BY(mu_)
  int64_t after_seq_ = 0;
  std::thread thread_;
};

}  // namespace argus::api
