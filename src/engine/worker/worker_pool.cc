#include "engine/worker/worker_pool.h"

#include <algorithm>
#include <condition_variable>

#include "core/log.h"

namespace argus::engine {

struct WorkerPool::Worker {
  std::string id;
  std::string queue;
  std::thread thread;
  std::atomic<int64_t> running{0};
  std::atomic<int64_t> completed{0};
  std::atomic<TimestampUs> last_heartbeat{0};
};

WorkerPool::WorkerPool(store::TaskQueue* queue, const TaskKindRegistry* kinds,
                       WorkerPoolOptions options, const Clock* clock, MetricsRegistry* metrics)
    : queue_(queue), kinds_(kinds), options_(std::move(options)), clock_(clock) {
  for (const auto& [q, n] : options_.concurrency) {
    for (int i = 0; i < n; ++i) {
      auto w = std::make_unique<Worker>();
      w->id = "serve/" + q + "/" + std::to_string(i);
      w->queue = q;
      workers_.push_back(std::move(w));
    }
  }
  tasks_total_ = &metrics->AddCounter(
      "argus_tasks_total", "Task attempts finished, by kind and outcome.", {"kind", "status"});
  task_seconds_ = &metrics->AddHistogram("argus_task_duration_seconds",
                                         "Run time of one task attempt.", {"kind"});
  retries_total_ = &metrics
                        ->AddCounter("argus_task_retries_total",
                                     "Task attempts that failed and were scheduled again.")
                        .WithLabels({});
}

WorkerPool::~WorkerPool() { Stop(std::chrono::milliseconds(0)); }

Status WorkerPool::Start() {
  for (const auto& w : workers_) {
    auto released = queue_->ReleaseWorker(w->id);
    if (!released.ok()) return released.status();
    if (*released > 0) {
      log::Info("re-queued tasks held by the previous run",
                {{"worker", w->id}, {"tasks", *released}});
    }
  }
  for (const auto& w : workers_) {
    Worker* raw = w.get();
    w->thread = std::thread([this, raw] { Run(raw); });
  }
  sweeper_ = std::thread([this] { Sweep(); });
  return OkStatus();
}

void WorkerPool::Stop(std::chrono::milliseconds drain) {
  if (stop_leasing_.exchange(true)) return;
  sweep_cv_.notify_all();
  auto until = std::chrono::steady_clock::now() + drain;
  auto busy = [this] {
    for (const auto& w : workers_) {
      if (w->running.load() > 0) return true;
    }
    return false;
  };
  while (busy() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  stop_tasks_ = true;
  for (auto& w : workers_) {
    if (w->thread.joinable()) w->thread.join();
  }
  if (sweeper_.joinable()) sweeper_.join();
  // Hand back whatever is still leased (tasks stopped mid-way, leased but never started).
  for (const auto& w : workers_) queue_->ReleaseWorker(w->id).status().IgnoreError();
}

std::vector<WorkerInfo> WorkerPool::Workers() const {
  std::vector<WorkerInfo> out;
  for (const auto& w : workers_) {
    WorkerInfo i;
    i.id = w->id;
    i.queue = w->queue;
    i.running = w->running.load();
    i.completed = w->completed.load();
    i.last_heartbeat = w->last_heartbeat.load();
    i.state = stop_leasing_.load() ? "stopping" : (i.running > 0 ? "busy" : "idle");
    out.push_back(std::move(i));
  }
  return out;
}

void WorkerPool::Run(Worker* w) {
  store::LeaseRequest req;
  req.worker_id = w->id;
  req.queues = {w->queue};
  req.kinds = kinds_->Names();
  req.max_tasks = options_.lease_batch;
  req.lease_s = options_.lease_s;
  double idle_s = 0.001;
  while (!stop_leasing_.load()) {
    w->last_heartbeat = clock_->NowUs();
    auto leased = queue_->Lease(req);
    if (!leased.ok()) {
      log::Warn("lease failed", {{"worker", w->id}, {"error", leased.status().ToString()}});
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      continue;
    }
    if (leased->empty()) {
      // Nothing to do: back off gently so an idle server costs nothing, but a new task still
      // starts within max_idle_poll_s.
      std::this_thread::sleep_for(std::chrono::duration<double>(idle_s));
      idle_s = std::min(idle_s * 2, options_.max_idle_poll_s);
      continue;
    }
    idle_s = 0.001;
    w->running = static_cast<int64_t>(leased->size());
    std::vector<store::TaskQueue::Completion> done;
    for (const auto& task : *leased) {
      if (stop_tasks_.load()) break;  // the rest are handed back by Stop()
      RunTask(w, task, &done);
      w->running.fetch_sub(1);
    }
    Flush(&done);
    w->running = 0;
  }
}

void WorkerPool::RunTask(Worker* w, const store::Task& task,
                         std::vector<store::TaskQueue::Completion>* done) {
  const TaskKind* kind = kinds_->Find(task.kind);
  auto start = std::chrono::steady_clock::now();
  TaskContext ctx(
      task,
      [this, &task, w](std::optional<double> progress, std::optional<std::string> message) {
        w->last_heartbeat = clock_->NowUs();
        return queue_->Heartbeat(task.id, task.lease_id, options_.lease_s, progress,
                                 std::move(message));
      },
      &stop_tasks_);
  Result<Json> result = InternalError("no handler");
  if (kind == nullptr) {
    result = UnimplementedError("this server has no task kind '" + task.kind + "'");
  } else {
    try {
      result = kind->handler(ctx);
    } catch (const std::exception& e) {
      result = InternalError(std::string("task handler threw: ") + e.what());
    }
  }
  task_seconds_->WithLabels({task.kind})
      .Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  w->completed.fetch_add(1);
  if (result.ok()) {
    done->push_back({task.id, task.lease_id, std::move(result).value(), &task});
    tasks_total_->WithLabels({task.kind, "succeeded"}).Inc();
    return;
  }
  if (ctx.lease_lost()) return;  // someone else owns it now; nothing to record
  // Completions queued so far go first, so their order matches execution.
  Flush(done);
  if (stop_tasks_.load() && !ctx.cancelled()) return;  // shutdown: Stop() hands it back
  const Status& s = result.status();
  store::TaskError error{std::string(StatusCodeName(s.code())), std::string(s.message()),
                         task.attempt};
  // Bad input and missing kinds will fail the same way again: do not retry them.
  bool retryable = s.code() != StatusCode::kInvalidArgument &&
                   s.code() != StatusCode::kUnimplemented &&
                   s.code() != StatusCode::kFailedPrecondition;
  auto failed = queue_->Fail(task.id, task.lease_id, std::move(error), retryable);
  if (failed.ok()) {
    tasks_total_->WithLabels({task.kind, std::string(store::TaskStatusName(failed->status))}).Inc();
    if (failed->status == store::TaskStatus::kScheduled) retries_total_->Inc();
  }
}

void WorkerPool::Flush(std::vector<store::TaskQueue::Completion>* done) {
  if (done->empty()) return;
  auto r = queue_->CompleteMany(*done);
  if (!r.ok()) {
    // The tasks stay leased and come back after their lease expires: at-least-once.
    log::Warn("recording completions failed", {{"error", r.status().ToString()}});
  }
  done->clear();
}

void WorkerPool::Sweep() {
  std::unique_lock lock(sweep_mu_);
  auto next_purge = std::chrono::steady_clock::now();
  auto purge_every = std::chrono::duration<double>(std::min(60.0, options_.retention_s / 2));
  while (!stop_leasing_.load()) {
    sweep_cv_.wait_for(lock, std::chrono::duration<double>(options_.sweep_interval_s));
    if (stop_leasing_.load()) break;
    auto swept = queue_->Sweep(clock_->NowUs());
    if (!swept.ok()) log::Warn("task sweep failed", {{"error", swept.status().ToString()}});
    if (options_.retention_s > 0 && std::chrono::steady_clock::now() >= next_purge) {
      next_purge = std::chrono::steady_clock::now() +
                   std::chrono::duration_cast<std::chrono::steady_clock::duration>(purge_every);
      auto cutoff = clock_->NowUs() - static_cast<TimestampUs>(options_.retention_s * 1e6);
      auto purged = queue_->Purge(cutoff);
      if (!purged.ok()) {
        log::Warn("task purge failed", {{"error", purged.status().ToString()}});
      } else if (*purged > 0) {
        log::Info("purged finished tasks past retention", {{"tasks", *purged}});
      }
    }
  }
}

}  // namespace argus::engine
