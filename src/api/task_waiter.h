#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "store/event_bus.h"
#include "store/task_queue.h"

namespace argus::api {

/// Wakes HTTP calls that wait for tasks, without polling the database: `Prefer: wait` calls
/// wait for their task's terminal event, and long-polling external workers try their lease
/// again when an event of their queues is published (a task created, retried or finished, a
/// queue resumed, kind limits changed) or when a scheduled task they could take comes due. Both
/// learn of events through the EventBus, so waiting costs no database reads at all. One thread
/// resolves waits and runs the lease attempts. Thread-safe.
class TaskWaiter {
 public:
  using Clock = std::chrono::steady_clock;
  using Done = std::function<void(bool terminal)>;

  /// What a long poll's attempt did.
  struct PollResult {
    bool done = false;  ///< it answered its caller
    /// Nothing to take yet: when a scheduled task it could take comes due (nullopt: none).
    std::optional<Clock::time_point> retry_at;
  };
  /// Tries once; must answer its caller when it returns done, or when called with final = true.
  using Attempt = std::function<PollResult(bool final)>;

  /// `tasks` and `bus` are borrowed and outlive this.
  TaskWaiter(store::TaskQueue* tasks, store::EventBus* bus);
  ~TaskWaiter();

  /// Calls `done(true)` once task `id` (of `namespace_id`) is terminal, or `done(false)` at
  /// `deadline`, exactly once, on the waiter's thread (or at once on this thread when the task
  /// is terminal already or the waiter is shut down).
  void Wait(const std::string& namespace_id, const std::string& id, Clock::time_point deadline,
            Done done);

  /// Long polls for `queues` (empty: all) of `namespace_id` (empty: all): `attempt(false)` runs
  /// on the waiter's thread at once, then after each relevant event (at most every few ms) and
  /// at its retry_at, until it is done; `attempt(true)` runs once at `deadline` (or shutdown).
  void Poll(Clock::time_point deadline, std::string namespace_id, std::vector<std::string> queues,
            Attempt attempt);

  /// Resolves every pending wait with `done(false)` and refuses new ones (they resolve at once).
  /// Call before the HTTP server stops, so no waiter outlives its connection.
  void Shutdown();

  /// Lease attempts run by long polls so far.
  int64_t AttemptsForTest() const;

 private:
  struct Waiter {
    Clock::time_point deadline;
    Done done;
  };
  struct Poller {
    Clock::time_point deadline;
    std::string namespace_id;
    std::vector<std::string> queues;
    Attempt attempt;
    Clock::time_point next_try;  // the earliest the next attempt may run (now, retry_at, ...)
    bool woken = true;           // an event arrived (or it is new) since its last attempt
    bool running = false;        // its attempt runs now (on the waiter's thread)
  };
  void OnEvents(const store::EventBatch& batch);
  bool Wants(const Poller& p, const store::Event& e) const;
  /// Runs one attempt; nothing it throws escapes. Called without mu_ held.
  static PollResult Try(Poller& p, bool final);
  /// Calls `done`; nothing it throws escapes. Called without mu_ held.
  static void Resolve(const Done& done, bool terminal);
  void Run();

  store::TaskQueue* tasks_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::multimap<std::string, Waiter> waiters_;    // by task id, GUARDED_BY(mu_)
  std::vector<std::pair<Done, bool>> ready_;      // GUARDED_BY(mu_): resolved, to call
  std::vector<std::shared_ptr<Poller>> pollers_;  // GUARDED_BY(mu_)
  bool stopping_ = false;                         // GUARDED_BY(mu_)
  int64_t attempts_ = 0;                          // GUARDED_BY(mu_)
  std::unique_ptr<store::EventBus::Subscription> subscription_;
  std::thread thread_;
};

}  // namespace argus::api
