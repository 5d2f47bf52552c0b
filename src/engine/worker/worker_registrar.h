#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "engine/worker/task_kinds.h"
#include "engine/worker/worker_pool.h"
#include "store/task_catalog.h"

namespace argus::engine {

struct RegistrarOptions {
  double heartbeat_s = 2;  ///< how often the workers' figures are looked at (written if changed)
  /// Unchanged registrations are written this often: an idle server writes (almost) nothing.
  double idle_heartbeat_s = 60;
  double forget_after_s = 3600;  ///< registrations silent this long are deleted
  std::string host;              ///< shown with the workers (empty: this machine's name)
};

/// Tells the task catalog what this process runs, so the API (in this process or another) never
/// asks the engine: at Start it publishes every kind of `kinds` (name, description, input
/// schema, internal, the queues `pool` serves) and registers the pool's workers; then it
/// writes their registrations again when their figures changed (looked at every heartbeat_s) or
/// idle_heartbeat_s after the last write, and forgets registrations that went silent; Stop
/// deregisters them.
///
/// Everything is borrowed and outlives the registrar. Start and Stop once each, from one thread;
/// its own thread catches everything.
class WorkerRegistrar {
 public:
  WorkerRegistrar(store::TaskCatalog* catalog, const TaskKindRegistry* kinds,
                  const WorkerPool* pool, RegistrarOptions options, const Clock* clock);
  ~WorkerRegistrar();

  /// Publishes the kinds and the first heartbeat (an error stops start-up), then starts the
  /// refresh thread.
  Status Start();
  void Stop();

  /// The registrations the pool's workers have now (what the next heartbeat writes).
  std::vector<store::WorkerRecord> Records() const;

 private:
  /// `written`: the registrations Start wrote.
  void Run(std::vector<store::WorkerRecord> written);

  store::TaskCatalog* catalog_;
  const TaskKindRegistry* kinds_;
  const WorkerPool* pool_;
  RegistrarOptions options_;
  const Clock* clock_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace argus::engine
