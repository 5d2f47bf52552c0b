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
#include "engine/worker/task_kinds.h"
#include "store/task_queue.h"

namespace argus::engine {

struct WorkerPoolOptions {
  /// Worker threads per queue, e.g. {"cpu": 2, "io": 4}.
  std::map<std::string, int> concurrency = {{"cpu", 2}, {"io", 2}};
  int lease_batch = 256;           ///< tasks leased per round trip
  double lease_s = 30;             ///< visibility timeout; heartbeats extend it
  double max_idle_poll_s = 0.05;   ///< longest sleep between empty lease attempts
  double sweep_interval_s = 0.25;  ///< how often leases and timeouts are checked
  /// Finished tasks and events older than this are purged (0: keep forever); checked about
  /// once a minute, or every sweep when the retention is shorter than that.
  double retention_s = 7 * 24 * 3600;
};

/// A worker as /v1/workers shows it.
struct WorkerInfo {
  std::string id;
  std::string queue;
  std::string state;  ///< "idle", "busy", "stopping"
  int64_t running = 0;
  int64_t completed = 0;
  TimestampUs last_heartbeat = 0;
};

/// The in-process workers of `argus serve`: threads per queue that lease batches of tasks,
/// run their kind's handler, and record the outcome (completions grouped into one transaction
/// per batch). Also runs the sweeper that applies lease expiry and timeouts.
/// Worker ids are stable across restarts ("serve/<queue>/<n>"), so Start() can hand back at once
/// whatever a crashed previous run held. Thread-safe; Start and Stop once each.
class WorkerPool {
 public:
  WorkerPool(store::TaskQueue* queue, const TaskKindRegistry* kinds, WorkerPoolOptions options,
             const Clock* clock, MetricsRegistry* metrics);
  ~WorkerPool();

  /// Releases the previous run's leases, then starts the threads.
  Status Start();
  /// Stops leasing; running tasks get `drain` to finish, then are told to stop (their handlers
  /// see Heartbeat() == false) and whatever is still leased is handed back. Joins the threads.
  void Stop(std::chrono::milliseconds drain);

  std::vector<WorkerInfo> Workers() const;

 private:
  struct Worker;
  void Run(Worker* w);
  void RunTask(Worker* w, const store::Task& task, std::vector<store::TaskQueue::Completion>* done);
  void Flush(std::vector<store::TaskQueue::Completion>* done);
  void Sweep();

  store::TaskQueue* queue_;
  const TaskKindRegistry* kinds_;
  WorkerPoolOptions options_;
  const Clock* clock_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::thread sweeper_;
  std::atomic<bool> stop_leasing_{false};
  std::atomic<bool> stop_tasks_{false};
  std::mutex sweep_mu_;
  std::condition_variable sweep_cv_;
  Family<Counter>* tasks_total_;
  Family<Histogram>* task_seconds_;
  Counter* retries_total_;
};

}  // namespace argus::engine
