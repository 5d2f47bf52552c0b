#include "engine/worker/worker_pool.h"

#include <algorithm>
#include <deque>
#include <exception>

#include "core/log.h"
#include "core/thread_name.h"

namespace argus::engine {
namespace {

// A run at least this long waits for its completion to be written before its slot goes on.
constexpr double kSlowRunSeconds = 0.01;

using SteadyClock = std::chrono::steady_clock;

std::chrono::duration<double> Seconds(double s) { return std::chrono::duration<double>(s); }

SteadyClock::duration Ticks(double seconds) {
  return std::chrono::duration_cast<SteadyClock::duration>(Seconds(seconds));
}

// Bad input and missing kinds will fail the same way again: do not retry them.
bool Retryable(StatusCode code) {
  return code != StatusCode::kInvalidArgument && code != StatusCode::kUnimplemented &&
         code != StatusCode::kFailedPrecondition;
}

}  // namespace

struct WorkerPool::Queue {
  Queue(std::string queue_name, int slot_count, KindTimings::Options prefetch)
      : name(std::move(queue_name)),
        worker_id("serve/" + name),
        slots(slot_count),
        timings(prefetch) {}

  const std::string name;
  const std::string worker_id;
  const int slots;
  std::vector<std::thread> threads;
  std::atomic<int64_t> running{0};
  std::atomic<int64_t> completed{0};
  std::atomic<TimestampUs> last_heartbeat{0};

  std::mutex mu;
  std::condition_variable cv;
  std::deque<Leased> buffer;           // GUARDED_BY(mu): leased, not started
  int idle = 0;                        // GUARDED_BY(mu): slots waiting for a task
  bool leasing = false;                // GUARDED_BY(mu): one slot leases for all
  SteadyClock::time_point next_lease;  // GUARDED_BY(mu): back-off after an empty lease
  double idle_s = 0.001;               // GUARDED_BY(mu): the current back-off
  int prefetch = 0;                    // GUARDED_BY(mu): leased ahead by the last lease
  bool woken = true;                   // GUARDED_BY(mu): an event since the last lease
  bool refill_dry = false;             // GUARDED_BY(mu): a refill came back short
  KindTimings timings;                 // GUARDED_BY(mu)
};

WorkerPool::WorkerPool(store::TaskQueue* queue, const TaskKindRegistry* kinds,
                       WorkerPoolOptions options, const Clock* clock, MetricsRegistry* metrics,
                       store::EventBus* bus, store::EventLog* events)
    : queue_(queue),
      kinds_(kinds),
      bus_(bus),
      events_(events),
      options_(std::move(options)),
      clock_(clock) {
  for (const auto& [name, n] : options_.concurrency) {
    if (n > 0) queues_.push_back(std::make_unique<Queue>(name, n, options_.prefetch));
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
  for (const auto& q : queues_) {
    // Whatever a worker id still holds at start-up was held when the previous run died: the
    // tasks it had started count a crash. "serve/<queue>/<n>" are the ids of older versions.
    std::vector<std::string> ids = {q->worker_id};
    for (int i = 0; i < q->slots; ++i) ids.push_back(q->worker_id + "/" + std::to_string(i));
    for (const std::string& id : ids) {
      auto recovered = queue_->RecoverWorker(id, options_.max_crash_attempts);
      if (!recovered.ok()) return recovered.status();
      if (*recovered > 0) {
        log::Warn("recovered the tasks a previous run held when it stopped abruptly",
                  {{"worker", id}, {"tasks", *recovered}});
      }
    }
  }
  completions_ = std::make_unique<CompletionWriter>(queue_);
  if (bus_ != nullptr) {
    subscription_ = bus_->Subscribe([this](const store::EventBatch& b) { OnEvents(b); });
  }
  for (const auto& q : queues_) {
    Queue* raw = q.get();
    for (int i = 0; i < q->slots; ++i)
      q->threads.emplace_back([this, raw] {
        SetThreadName("argus-slot");
        RunSlot(raw);
      });
  }
  sweeper_ = std::thread([this] {
    SetThreadName("argus-sweeper");
    Sweep();
  });
  started_ = true;
  return OkStatus();
}

void WorkerPool::Stop(std::chrono::milliseconds drain) {
  if (stop_leasing_.exchange(true)) return;
  subscription_.reset();
  sweep_cv_.notify_all();
  for (const auto& q : queues_) {
    std::lock_guard lock(q->mu);
    q->cv.notify_all();
  }
  auto until = SteadyClock::now() + drain;
  auto busy = [this] {
    for (const auto& q : queues_) {
      if (q->running.load() > 0) return true;
    }
    return false;
  };
  while (busy() && SteadyClock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  stop_tasks_ = true;
  for (auto& q : queues_) {
    for (auto& t : q->threads) {
      if (t.joinable()) t.join();
    }
  }
  if (sweeper_.joinable()) sweeper_.join();
  if (!started_) return;
  // Completions first: a finished task handed back below would run a second time.
  completions_.reset();
  // Hand back whatever is still leased (tasks stopped mid-way, leased ahead and never started).
  for (const auto& q : queues_) queue_->ReleaseWorker(q->worker_id).status().IgnoreError();
}

// On the publishing thread (the database writer): flags and signals only.
void WorkerPool::OnEvents(const store::EventBatch& batch) {
  bool sweep = false;
  for (const auto& q : queues_) {
    bool wake = false;
    for (const store::Event& e : *batch) {
      const std::string& t = e.type;
      if (t == "task.started" || t == "task.created") sweep = true;
      if (t == "kind_limits.updated") {
        wake = true;
      } else if (e.queue == q->name &&
                 (t == "task.created" || t == "task.retrying" || t == "task.succeeded" ||
                  t == "task.failed" || t == "task.cancelled" || t == "queue.resumed")) {
        wake = true;  // runnable now, or a kind limit's slot came free
      }
    }
    if (!wake) continue;
    {
      std::lock_guard lock(q->mu);
      if (q->idle == 0) continue;  // busy slots lease again by themselves
      q->woken = true;
    }
    q->cv.notify_all();
  }
  {
    std::lock_guard lock(sweep_mu_);
    activity_ = true;
    if (!sweep) return;
    sweep_woken_ = true;
  }
  sweep_cv_.notify_all();
}

void WorkerPool::Notify() {
  for (const auto& q : queues_) {
    {
      std::lock_guard lock(q->mu);
      q->woken = true;
      q->idle_s = 0.001;
    }
    q->cv.notify_all();
  }
}

std::vector<WorkerInfo> WorkerPool::Workers() const {
  std::vector<WorkerInfo> out;
  for (const auto& q : queues_) {
    WorkerInfo i;
    i.id = q->worker_id;
    i.queue = q->name;
    i.slots = q->slots;
    i.running = q->running.load();
    i.completed = q->completed.load();
    i.last_heartbeat = q->last_heartbeat.load();
    i.state = stop_leasing_.load() ? "stopping" : (i.running > 0 ? "busy" : "idle");
    out.push_back(std::move(i));
  }
  return out;
}

void WorkerPool::RunSlot(Queue* q) {
  Leased leased;
  for (;;) {
    try {
      if (!NextTask(q, &leased)) return;
      RunTask(q, std::move(leased));
    } catch (const std::exception& e) {
      // RunTask catches what handlers throw; this is the pool's own code failing. The task (if
      // any) stays leased and runs again when its lease expires.
      log::Error("a worker slot failed; it goes on",
                 {{"worker", q->worker_id}, {"error", e.what()}});
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
}

bool WorkerPool::NextTask(Queue* q, Leased* out) {
  std::unique_lock lock(q->mu);
  ++q->idle;
  for (;;) {
    // Stopping comes first: a task leased ahead is handed back rather than started.
    if (stop_leasing_.load()) {
      --q->idle;
      return false;
    }
    // Quick tasks run faster than a lease round trip: the buffer is refilled when it runs low,
    // by one slot while the others go on with what is left.
    const bool low = !q->buffer.empty() && q->prefetch > 0 && !q->refill_dry &&
                     static_cast<int>(q->buffer.size()) * 2 <= q->prefetch;
    if (low && !q->leasing) {
      LeaseInto(q, lock);
      continue;
    }
    if (!q->buffer.empty()) {
      *out = std::move(q->buffer.front());
      q->buffer.pop_front();
      --q->idle;
      return true;
    }
    if (q->leasing || (!q->woken && q->next_lease == SteadyClock::time_point::max())) {
      q->cv.wait(lock);
    } else if (!q->woken && SteadyClock::now() < q->next_lease) {
      q->cv.wait_until(lock, q->next_lease);
    } else {
      LeaseInto(q, lock);
    }
  }
}

void WorkerPool::LeaseInto(Queue* q, std::unique_lock<std::mutex>& lock) {
  store::LeaseRequest req;
  req.worker_id = q->worker_id;
  req.queues = {q->name};
  req.kinds = kinds_->Names();
  req.prefetch = q->prefetch = q->timings.Prefetch();
  req.prefetch_kinds = q->timings.QuickKinds();
  const bool refill = !q->buffer.empty();
  if (!refill) {
    req.max_tasks = q->idle;  // every slot waiting now, this one included
  } else {
    // A refill while the slots still have work: quick tasks ahead only, up to the target.
    req.max_tasks = 0;
    req.prefetch -= static_cast<int>(q->buffer.size());
    if (req.prefetch <= 0) {
      q->refill_dry = true;
      return;
    }
  }
  req.lease_s = options_.lease_s;
  q->leasing = true;
  if (!refill) q->woken = false;  // an event from here on asks for another lease
  lock.unlock();
  q->last_heartbeat = clock_->NowUs();
  auto leased = queue_->Lease(req);
  const auto now = SteadyClock::now();
  lock.lock();
  q->leasing = false;
  // A short refill means the quick tasks ran out (or a slow one is next): no more refills
  // until the buffer is empty again.
  q->refill_dry = refill && (!leased.ok() || static_cast<int>(leased->size()) < req.prefetch);
  if (!leased.ok()) {
    log::Warn("lease failed", {{"worker", q->worker_id}, {"error", leased.status().ToString()}});
    if (!refill) q->next_lease = now + std::chrono::milliseconds(200);
  } else if (leased->empty()) {
    if (refill) {
      q->cv.notify_all();
      return;
    }
    if (bus_ != nullptr) {
      // Nothing to do: sleep until an event of this queue (OnEvents) or its next scheduled
      // task (an event published while this lease ran has set `woken`: lease again).
      q->next_lease = SteadyClock::time_point::max();
      if (!q->woken) {
        lock.unlock();
        auto due = queue_->NextRunAt("", {q->name});
        lock.lock();
        if (!due.ok()) {
          q->next_lease = now + std::chrono::milliseconds(200);
        } else if (due->has_value()) {
          q->next_lease =
              now + std::chrono::microseconds(std::max<TimestampUs>(0, **due - clock_->NowUs()));
        }
      }
    } else {
      // No bus: back off gently so an idle server costs little, but a new task still starts
      // within max_idle_poll_s (or at once after Notify).
      q->next_lease = now + std::chrono::duration_cast<SteadyClock::duration>(Seconds(q->idle_s));
      q->idle_s = std::min(q->idle_s * 2, options_.max_idle_poll_s);
    }
  } else {
    q->idle_s = 0.001;
    q->next_lease = {};  // there may be more: lease again as soon as the buffer runs dry
    for (auto& task : *leased) q->buffer.push_back({std::move(task), now});
  }
  q->cv.notify_all();
}

void WorkerPool::RunTask(Queue* q, Leased leased) {
  store::Task& task = leased.task;
  std::optional<TimestampUs> started_at;
  if (!task.started_at) {
    // Leased ahead. After a long wait in the buffer the lease is renewed, so the task gets its
    // whole lease from its start; otherwise the start is recorded with the completion.
    if (SteadyClock::now() - leased.at > Seconds(options_.lease_s / 10)) {
      auto renewed = queue_->Start(task.id, task.lease_id, options_.lease_s);
      if (!renewed.ok()) {
        log::Info("a task leased ahead was lost before it started",
                  {{"task", task.id}, {"reason", renewed.status().ToString()}});
        return;
      }
      task = std::move(renewed).value();
    } else {
      started_at = clock_->NowUs();
    }
  }
  q->running.fetch_add(1);
  const TaskKind* kind = kinds_->Find(task.kind);
  const auto start = SteadyClock::now();
  TaskContext ctx(
      task,
      [this, &task, q](std::optional<double> progress, std::optional<std::string> message) {
        q->last_heartbeat = clock_->NowUs();
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
    } catch (...) {
      result = InternalError("task handler threw something that is not an exception");
    }
  }
  const double seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
  task_seconds_->WithLabels({task.kind}).Observe(seconds);
  {
    std::lock_guard lock(q->mu);
    q->timings.Observe(task.kind, seconds);
  }
  q->completed.fetch_add(1);
  q->running.fetch_sub(1);
  if (result.ok()) {
    tasks_total_->WithLabels({task.kind, "succeeded"}).Inc();
    completions_->Add(std::move(task), std::move(result).value(), started_at);
    // A slow task's slot takes the next one only once this completion is written: otherwise the
    // next task's start can commit first and a reader briefly sees more tasks running than there
    // are slots. The wait is one group commit, small next to a run of 10 ms or more; quick tasks
    // do not wait (their throughput is the group commit's).
    if (seconds >= kSlowRunSeconds) completions_->Flush();
    return;
  }
  RecordFailure(task, result.status(), ctx);
}

void WorkerPool::RecordFailure(const store::Task& task, const Status& s, const TaskContext& ctx) {
  if (ctx.lease_lost()) return;  // someone else owns it now; nothing to record
  if (stop_tasks_.load() && !ctx.cancelled()) return;  // shutdown: Stop() hands it back
  store::TaskError error{std::string(StatusCodeName(s.code())), std::string(s.message()),
                         task.attempt};
  auto failed = queue_->Fail(task.id, task.lease_id, std::move(error), Retryable(s.code()));
  if (!failed.ok()) {
    log::Warn("recording a task failure failed; the task runs again when its lease expires",
              {{"task", task.id}, {"error", failed.status().ToString()}});
    return;
  }
  tasks_total_->WithLabels({task.kind, std::string(store::TaskStatusName(failed->status))}).Inc();
  if (failed->status == store::TaskStatus::kScheduled) retries_total_->Inc();
}

void WorkerPool::Sweep() {
  std::unique_lock lock(sweep_mu_);
  auto next_purge = SteadyClock::now();
  while (!stop_leasing_.load()) {
    lock.unlock();
    SteadyClock::time_point next = SteadyClock::now() + Ticks(options_.sweep_interval_s);
    try {
      next = SweepOnce(next_purge);
    } catch (const std::exception& e) {
      log::Error("the task sweeper failed; it goes on", {{"error", e.what()}});
    }
    lock.lock();
    if (bus_ != nullptr) {
      // Until the next deadline; a task that starts (or is created) may bring an earlier one,
      // looked for at most every sweep_interval_s.
      sweep_cv_.wait_until(lock, std::min(next, next_purge),
                           [this] { return stop_leasing_.load() || sweep_woken_; });
      if (sweep_woken_) {
        sweep_woken_ = false;
        sweep_cv_.wait_for(lock, Seconds(options_.sweep_interval_s),
                           [this] { return stop_leasing_.load(); });
      }
    } else {
      sweep_cv_.wait_for(lock, Seconds(options_.sweep_interval_s),
                         [this] { return stop_leasing_.load(); });
    }
  }
}

SteadyClock::time_point WorkerPool::SweepOnce(SteadyClock::time_point& next_purge) {
  const auto steady_now = SteadyClock::now();
  const TimestampUs now = clock_->NowUs();
  auto swept = queue_->Sweep(now);
  if (!swept.ok()) log::Warn("task sweep failed", {{"error", swept.status().ToString()}});
  if (swept.ok() && *swept > 0) Notify();  // tasks back in pending
  if (options_.retention_s > 0 && steady_now >= next_purge) {
    {
      std::lock_guard lock(sweep_mu_);
      if (activity_) last_activity_ = steady_now;
      activity_ = false;
    }
    // Every minute (or every half retention, when that is shorter) until what happened last
    // has aged past the retention and is gone; after that an idle server looks once an hour.
    const double every = std::min(60.0, options_.retention_s / 2);
    const bool settled =
        bus_ != nullptr && steady_now - last_activity_ > Ticks(options_.retention_s + 2 * every);
    next_purge = steady_now + Ticks(settled ? 3600.0 : every);
    auto cutoff = now - static_cast<TimestampUs>(options_.retention_s * 1e6);
    auto purged = queue_->Purge(cutoff);
    if (!purged.ok()) {
      log::Warn("task purge failed", {{"error", purged.status().ToString()}});
    } else if (*purged > 0) {
      log::Info("purged finished tasks past retention", {{"tasks", *purged}});
    }
    if (events_ != nullptr) {
      auto events = events_->Purge(cutoff);
      if (!events.ok()) log::Warn("event purge failed", {{"error", events.status().ToString()}});
    }
  }
  if (bus_ == nullptr) return steady_now + Ticks(options_.sweep_interval_s);
  auto due = queue_->NextSweepAt();
  if (!due.ok()) return steady_now + std::chrono::seconds(1);
  if (!due->has_value()) return SteadyClock::time_point::max();
  const TimestampUs in_us = std::max<TimestampUs>(0, **due - clock_->NowUs());
  // Deadlines are judged in whole microseconds; one more keeps the sweep from coming early.
  return SteadyClock::now() + std::chrono::microseconds(in_us + 1);
}

}  // namespace argus::engine
