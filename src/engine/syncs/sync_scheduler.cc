#include "engine/syncs/sync_scheduler.h"

#include <chrono>

#include "core/log.h"

namespace argus::engine {

SyncScheduler::SyncScheduler(store::MetadataStore* metadata, store::TaskQueue* tasks,
                             const SyncRunner* runner, SyncSchedulerOptions options,
                             const Clock* clock)
    : metadata_(metadata),
      tasks_(tasks),
      runner_(runner),
      options_(std::move(options)),
      clock_(clock) {}

SyncScheduler::~SyncScheduler() { Stop(); }

void SyncScheduler::Start() {
  thread_ = std::thread([this] {
    std::unique_lock lock(mu_);
    while (!stop_) {
      lock.unlock();
      Tick();
      lock.lock();
      cv_.wait_for(lock, std::chrono::duration<double>(options_.tick_s), [this] { return stop_; });
    }
  });
}

void SyncScheduler::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  watches_.clear();
}

void SyncScheduler::Nudge(const std::string& sync_id) {
  std::lock_guard lock(mu_);
  nudged_.emplace(sync_id, clock_->NowUs());  // keeps the first change: debounce from there
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

void SyncScheduler::MaybeEnqueue(const store::Sync& sync, TimestampUs now) {
  bool due = sync.next_run_at <= now;
  {
    std::lock_guard lock(mu_);
    auto it = nudged_.find(sync.id);
    if (it != nudged_.end() &&
        now - it->second >= static_cast<TimestampUs>(options_.debounce_s * 1e6)) {
      due = true;
    }
  }
  if (!due) return;
  if (!sync.run_task_id.empty()) {
    auto last = tasks_->Get(sync.namespace_id, sync.run_task_id);
    if (last.ok() && !store::IsTerminal(last->status)) return;  // one run at a time
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
  auto enqueued = tasks_->Enqueue({task}, 0);
  if (!enqueued.ok() || enqueued->empty()) {
    log::Warn("could not start a sync run",
              {{"sync", sync.id},
               {"error", enqueued.ok() ? "nothing enqueued" : enqueued.status().ToString()}});
    return;
  }
  store::SyncUpdate update;
  update.run_task_id = enqueued->front().task.id;
  update.next_run_at = now + static_cast<TimestampUs>(sync.interval_s * 1e6);
  if (auto s = metadata_->UpdateSync(sync.id, update, now); !s.ok()) {
    log::Warn("could not record a sync run's task",
              {{"sync", sync.id}, {"error", s.status().ToString()}});
  }
}

void SyncScheduler::Tick() {
  const TimestampUs now = clock_->NowUs();
  std::set<std::string> live;
  store::PageRequest page{.after_id = "", .limit = 1000};
  while (true) {
    auto syncs = metadata_->ListSyncs("", page);
    if (!syncs.ok()) {
      log::Warn("cannot list syncs", {{"error", syncs.status().ToString()}});
      return;
    }
    for (const auto& sync : syncs->items) {
      if (sync.paused) continue;
      live.insert(sync.id);
      KeepWatch(sync, now);
      MaybeEnqueue(sync, now);
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
}

}  // namespace argus::engine
