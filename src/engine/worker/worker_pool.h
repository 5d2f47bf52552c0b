#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/metrics.h"
#include "engine/worker/completion_writer.h"
#include "engine/worker/kind_timings.h"
#include "engine/worker/task_kinds.h"
#include "store/event_bus.h"
#include "store/event_log.h"
#include "store/task_queue.h"

namespace argus::engine {

struct WorkerPoolOptions {
  /// Slots (threads) per queue, e.g. {"cpu": 2, "io": 4}: how many tasks of that queue run at
  /// once in this process.
  std::map<std::string, int> concurrency = {{"cpu", 2}, {"io", 2}};
  /// Leasing ahead of free slots, for quick kinds only (KindTimings).
  KindTimings::Options prefetch;
  double lease_s = 30;  ///< visibility timeout; heartbeats extend it
  /// Without an event bus: the longest sleep between empty lease attempts. With one, idle
  /// workers sleep until an event of their queue or their next scheduled task.
  double max_idle_poll_s = 0.05;
  /// Without an event bus: how often leases and timeouts are checked. With one, the sweeper
  /// sleeps until the next deadline, and looks for new ones at most this often while tasks start.
  double sweep_interval_s = 0.25;
  /// Finished tasks and events older than this are purged (0: keep forever); checked about
  /// once a minute, or every sweep when the retention is shorter than that.
  double retention_s = 7 * 24 * 3600;
  /// A task that was running when the process died more often than this ends failed
  /// (worker_crashed) at the next start instead of running again (tasks.max_crash_attempts).
  int max_crash_attempts = 3;
};

/// A worker as /v1/workers shows it: one per queue this process serves.
struct WorkerInfo {
  std::string id;
  std::string queue;
  std::string state;  ///< "idle", "busy", "stopping"
  int slots = 0;      ///< tasks it runs at once
  int64_t running = 0;
  int64_t completed = 0;
  TimestampUs last_heartbeat = 0;
};

/// The in-process workers of `argus serve`. Per queue, `concurrency` slot threads share one
/// worker id ("serve/<queue>") and a small buffer of leased tasks:
/// - A slot that finds the buffer empty leases for every idle slot at once: as many tasks as
///   there are idle slots, plus, for kinds that run in microseconds, a few more leased ahead
///   (KindTimings). Nothing is leased that cannot start soon, so a slow task's lease clock
///   effectively starts when it starts, and priorities hold across workers and processes.
/// - A task leased ahead that waited long in the buffer has its lease renewed when it starts
///   (TaskQueue::Start), so waiting never costs it its lease.
/// - Each completion goes to a CompletionWriter and is durable and visible about one group
///   commit after the task finished, shared with every other worker's completions; the slot
///   does not wait for it. Failures are recorded by the slot directly (they are rare).
/// Also runs the sweeper that applies lease expiry, timeouts and retention (tasks, and events
/// when given the EventLog).
///
/// Waiting costs nothing: idle slots sleep until the EventBus reports an event of their queue
/// (a task created or retried, a task finished that held a kind limit, a queue resumed, kind
/// limits changed) or their next scheduled task comes due (TaskQueue::NextRunAt); the sweeper
/// sleeps until the next deadline (TaskQueue::NextSweepAt). An idle server reads nothing.
///
/// Thread-safe; Start and Stop once each. Every thread it starts catches what a handler throws.
class WorkerPool {
 public:
  /// Everything is borrowed and outlives the pool; `bus` and `events` may be null (then idle
  /// workers and the sweeper poll, and events are not purged).
  WorkerPool(store::TaskQueue* queue, const TaskKindRegistry* kinds, WorkerPoolOptions options,
             const Clock* clock, MetricsRegistry* metrics, store::EventBus* bus = nullptr,
             store::EventLog* events = nullptr);
  ~WorkerPool();

  /// Recovers what a previous run that died held (TaskQueue::RecoverWorker: crash counts,
  /// poison tasks), then starts the threads.
  Status Start();
  /// Stops leasing; running tasks get `drain` to finish, then are told to stop (their handlers
  /// see Heartbeat() == false); completions are written and whatever is still leased is handed
  /// back. Joins the threads.
  void Stop(std::chrono::milliseconds drain);
  /// Tells idle slots that new tasks may be runnable (lease now instead of after the back-off).
  void Notify();

  std::vector<WorkerInfo> Workers() const;

 private:
  struct Queue;
  struct Leased {
    store::Task task;
    std::chrono::steady_clock::time_point at;
  };
  void RunSlot(Queue* q);
  /// Blocks until a task is available to this slot (leasing when no other slot is); false once
  /// the pool stops leasing.
  bool NextTask(Queue* q, Leased* out);
  void LeaseInto(Queue* q, std::unique_lock<std::mutex>& lock);
  void RunTask(Queue* q, Leased leased);
  void RecordFailure(const store::Task& task, const Status& s, const TaskContext& ctx);
  void OnEvents(const store::EventBatch& batch);
  void Sweep();
  /// One sweep (and a purge when due); returns when the next one is due.
  std::chrono::steady_clock::time_point SweepOnce(
      std::chrono::steady_clock::time_point& next_purge);

  store::TaskQueue* queue_;
  const TaskKindRegistry* kinds_;
  store::EventBus* bus_;
  store::EventLog* events_;
  std::unique_ptr<store::EventBus::Subscription> subscription_;
  WorkerPoolOptions options_;
  const Clock* clock_;
  std::vector<std::unique_ptr<Queue>> queues_;
  std::unique_ptr<CompletionWriter> completions_;
  std::thread sweeper_;
  std::atomic<bool> started_{false};
  std::atomic<bool> stop_leasing_{false};
  std::atomic<bool> stop_tasks_{false};
  std::mutex sweep_mu_;
  std::condition_variable sweep_cv_;
  bool sweep_woken_ = false;  // GUARDED_BY(sweep_mu_): a task started or was created
  bool activity_ = true;      // GUARDED_BY(sweep_mu_): events since the last purge
  std::chrono::steady_clock::time_point last_activity_;  // sweeper thread only
  Family<Counter>* tasks_total_;
  Family<Histogram>* task_seconds_;
  Counter* retries_total_;
};

}  // namespace argus::engine
