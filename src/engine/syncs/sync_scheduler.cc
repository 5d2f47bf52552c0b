#include "engine/syncs/sync_scheduler.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <limits>

#include "core/log.h"
#include "core/thread_name.h"

namespace argus::engine {

SyncScheduler::SyncScheduler(store::SyncStore* syncs, store::TaskQueue* tasks,
                             const SyncRunner* runner, SyncSchedulerOptions options,
                             const Clock* clock, store::EventBus* bus)
    : syncs_(syncs),
      tasks_(tasks),
      runner_(runner),
      options_(std::move(options)),
      clock_(clock),
      bus_(bus) {}

SyncScheduler::~SyncScheduler() { Stop(); }

void SyncScheduler::Start() {
  if (bus_ != nullptr) {
    subscription_ = bus_->Subscribe([this](const store::EventBatch& batch) {
      for (const store::Event& e : *batch) {
        if (e.type.rfind("sync.", 0) != 0) continue;
        {
          std::lock_guard lock(mu_);
          woken_ = true;
        }
        cv_.notify_all();
        return;
      }
    });
  }
  thread_ = std::thread([this] {
    SetThreadName("argus-syncs");
    std::unique_lock lock(mu_);
    while (!stop_) {
      woken_ = false;
      lock.unlock();
      TimestampUs next = std::numeric_limits<TimestampUs>::max();
      try {
        next = Tick();
      } catch (const std::exception& e) {
        log::Error("the sync scheduler failed a step; it goes on", {{"error", e.what()}});
      }
      lock.lock();
      const auto tick = std::chrono::duration<double>(options_.tick_s);
      if (bus_ == nullptr) {
        cv_.wait_for(lock, tick, [this] { return stop_; });
      } else if (next == std::numeric_limits<TimestampUs>::max()) {
        cv_.wait(lock, [this] { return stop_ || woken_; });
      } else {
        const TimestampUs in_us = std::max<TimestampUs>(0, next - clock_->NowUs());
        cv_.wait_for(lock, std::chrono::microseconds(in_us), [this] { return stop_ || woken_; });
      }
    }
  });
}

void SyncScheduler::Stop() {
  subscription_.reset();
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  watches_.clear();
}

void SyncScheduler::Nudge(const std::string& sync_id) {
  {
    std::lock_guard lock(mu_);
    nudged_.emplace(sync_id, clock_->NowUs());  // keeps the first change: debounce from there
    woken_ = true;
  }
  cv_.notify_all();
}

void SyncScheduler::KeepWatch(const store::Sync& sync, TimestampUs now) {
  if (watches_.count(sync.id)) return;
  auto retry = watch_retry_.find(sync.id);
  if (retry != watch_retry_.end() && retry->second > now) return;
  auto later = [&](const Status& s) {
    watch_retry_[sync.id] = now + 60'000'000;
    log::Warn("cannot watch a sync's source; it is polled",
              {{"sync", sync.id}, {"error", s.ToString()}});
  };
  auto source = runner_->SourceOf(sync);
  if (!source.ok()) return later(source.status());
  std::string id = sync.id;
  auto watch = (*source)->Watch([this, id] { Nudge(id); });
  if (!watch.ok()) return later(watch.status());
  if (*watch == nullptr) {
    watch_retry_[sync.id] = now + 3600'000'000LL;  // not watchable: only polled
    return;
  }
  watch_retry_.erase(sync.id);
  watches_[sync.id] = Watched{std::move(source).value(), std::move(watch).value()};
}

TimestampUs SyncScheduler::MaybeEnqueue(const store::Sync& sync, TimestampUs now) {
  bool due = sync.next_run_at <= now;
  TimestampUs next = sync.next_run_at;
  {
    std::lock_guard lock(mu_);
    auto it = nudged_.find(sync.id);
    if (it != nudged_.end()) {
      const TimestampUs settled = it->second + static_cast<TimestampUs>(options_.debounce_s * 1e6);
      if (now >= settled) {
        due = true;
      } else {
        next = std::min(next, settled);
      }
    }
  }
  if (!due) return next;
  if (!sync.run_task_id.empty()) {
    auto last = tasks_->Get(sync.namespace_id, sync.run_task_id);
    // One run at a time: look again in a second (only while a run is in flight).
    if (last.ok() && !store::IsTerminal(last->status)) {
      return now + static_cast<TimestampUs>(options_.tick_s * 1e6);
    }
  }
  store::NewTask task;
  task.namespace_id = sync.namespace_id;
  task.kind = kSyncRunKind;
  task.queue = options_.queue;
  task.input = Json{{"sync_id", sync.id}};
  task.retry.max_attempts = 1;  // the sync's own schedule is its retry
  {
    std::lock_guard lock(mu_);
    nudged_.erase(sync.id);  // changes from now on need another run
  }
  // The next periodic run is recorded before the task exists: the run may start (and finish)
  // at once, and it brings next_run_at forward when files were still changing; written after
  // it, the interval would push that back. (A crash in between costs one run: the next comes
  // after the interval.)
  const TimestampUs next_interval = now + static_cast<TimestampUs>(sync.interval_s * 1e6);
  store::SyncUpdate schedule;
  schedule.next_run_at = next_interval;
  if (auto s = syncs_->UpdateSync(sync.id, schedule, now); !s.ok()) {
    log::Warn("could not schedule a sync's next run",
              {{"sync", sync.id}, {"error", s.status().ToString()}});
    return now + static_cast<TimestampUs>(options_.tick_s * 1e6);
  }
  auto enqueued = tasks_->Enqueue({task}, 0);
  if (!enqueued.ok() || enqueued->empty()) {
    log::Warn("could not start a sync run",
              {{"sync", sync.id},
               {"error", enqueued.ok() ? "nothing enqueued" : enqueued.status().ToString()}});
    return now + static_cast<TimestampUs>(options_.tick_s * 1e6);
  }
  store::SyncUpdate started;
  started.run_task_id = enqueued->front().task.id;
  if (auto s = syncs_->UpdateSync(sync.id, started, now); !s.ok()) {
    log::Warn("could not record a sync run's task",
              {{"sync", sync.id}, {"error", s.status().ToString()}});
  }
  return next_interval;
}

TimestampUs SyncScheduler::Tick() {
  const TimestampUs now = clock_->NowUs();
  TimestampUs next = std::numeric_limits<TimestampUs>::max();
  std::set<std::string> live;
  store::PageRequest page{.after_id = "", .limit = 1000};
  while (true) {
    auto syncs = syncs_->ListSyncs("", page);
    if (!syncs.ok()) {
      log::Warn("cannot list syncs", {{"error", syncs.status().ToString()}});
      return now + static_cast<TimestampUs>(options_.tick_s * 1e6);
    }
    for (const auto& sync : syncs->items) {
      if (sync.paused) continue;
      live.insert(sync.id);
      KeepWatch(sync, now);
      next = std::min(next, MaybeEnqueue(sync, now));
      if (auto retry = watch_retry_.find(sync.id); retry != watch_retry_.end()) {
        next = std::min(next, retry->second);
      }
    }
    if (syncs->next_after_id.empty()) break;
    page.after_id = syncs->next_after_id;
  }
  for (auto it = watches_.begin(); it != watches_.end();) {
    it = live.count(it->first) ? std::next(it) : watches_.erase(it);
  }
  std::lock_guard lock(mu_);  // changes seen for syncs now deleted or paused are forgotten
  for (auto it = nudged_.begin(); it != nudged_.end();) {
    it = live.count(it->first) ? std::next(it) : nudged_.erase(it);
  }
  return next;
}

}  // namespace argus::engine
