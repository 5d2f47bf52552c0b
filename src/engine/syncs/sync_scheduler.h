#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "core/clock.h"
#include "engine/syncs/sync_runner.h"
#include "store/event_bus.h"
#include "store/object_source.h"
#include "store/sync_store.h"
#include "store/task_queue.h"

namespace argus::engine {

struct SyncSchedulerOptions {
  /// Without an event bus: how often due syncs are looked for. With one, the scheduler sleeps
  /// until the next sync is due, a sync changes (sync.* events) or a watched source changes.
  double tick_s = 1;
  double debounce_s = 0.5;   ///< after a watched change, wait this long for more
  std::string queue = "io";  ///< where sync.run tasks go
};

/// Starts sync runs as tasks: a sync is due when its next_run_at has passed (its interval, or
/// "run now") or its watched source reported a change. At most one run per sync is in flight:
/// the next is enqueued only once the previous run's task is terminal. Keeps a SourceWatch
/// (inotify for folders) for every running watchable sync. Thread-safe; Start and Stop once.
class SyncScheduler {
 public:
  /// Everything is borrowed and outlives the scheduler; `bus` may be null (then it polls).
  SyncScheduler(store::SyncStore* syncs, store::TaskQueue* tasks, const SyncRunner* runner,
                SyncSchedulerOptions options, const Clock* clock, store::EventBus* bus = nullptr);
  ~SyncScheduler();

  void Start();
  void Stop();
  /// One scheduling step (the thread's loop body; tests call it directly). Returns when the
  /// next step is due by the clock (a sync's next_run_at, a debounce, a run still in flight),
  /// INT64_MAX when only a change can make one due.
  TimestampUs Tick();

 private:
  struct Watched {
    std::unique_ptr<store::ObjectSource> source;  // outlives its watch
    std::unique_ptr<store::SourceWatch> watch;
  };
  void Nudge(const std::string& sync_id);
  void KeepWatch(const store::Sync& sync, TimestampUs now);
  /// Starts a run when `sync` is due; returns when it should be looked at again.
  TimestampUs MaybeEnqueue(const store::Sync& sync, TimestampUs now);

  store::SyncStore* syncs_;
  store::TaskQueue* tasks_;
  const SyncRunner* runner_;
  SyncSchedulerOptions options_;
  const Clock* clock_;
  store::EventBus* bus_;
  std::unique_ptr<store::EventBus::Subscription> subscription_;

  std::map<std::string, Watched> watches_;          // tick thread only
  std::map<std::string, TimestampUs> watch_retry_;  // tick thread only: no watch before then

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool woken_ = false;                         // a sync changed since the last tick; under mu_
  std::map<std::string, TimestampUs> nudged_;  // sync id → first change not yet run; under mu_
  std::thread thread_;
};

}  // namespace argus::engine
