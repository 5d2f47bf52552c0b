#include "api/task_waiter.h"

#include <algorithm>
#include <exception>

#include "core/log.h"
#include "core/thread_name.h"

namespace argus::api {

namespace {

// A busy queue publishes thousands of events a second: a poller tries at most this often.
constexpr auto kMinAttemptGap = std::chrono::milliseconds(5);

bool IsTerminalEvent(const std::string& type) {
  return type == "task.succeeded" || type == "task.failed" || type == "task.cancelled";
}

}  // namespace

TaskWaiter::TaskWaiter(store::TaskQueue* tasks, store::EventBus* bus) : tasks_(tasks) {
  subscription_ = bus->Subscribe([this](const store::EventBatch& batch) { OnEvents(batch); });
  thread_ = std::thread([this] {
    SetThreadName("argus-waiter");
    Run();
  });
}

TaskWaiter::~TaskWaiter() {
  Shutdown();
  subscription_.reset();
  if (thread_.joinable()) thread_.join();
}

int64_t TaskWaiter::AttemptsForTest() const {
  std::lock_guard lock(mu_);
  return attempts_;
}

bool TaskWaiter::Wants(const Poller& p, const store::Event& e) const {
  if (e.type == "kind_limits.updated") return true;  // a limit lifted may free a task anywhere
  if (!p.namespace_id.empty() && !e.namespace_id.empty() && e.namespace_id != p.namespace_id) {
    return false;
  }
  if (e.queue.empty()) return false;
  return p.queues.empty() || std::find(p.queues.begin(), p.queues.end(), e.queue) != p.queues.end();
}

// On the publishing thread: only bookkeeping under the lock, then a signal.
void TaskWaiter::OnEvents(const store::EventBatch& batch) {
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    for (const store::Event& e : *batch) {
      if (IsTerminalEvent(e.type) && !waiters_.empty()) {
        auto [b, end] = waiters_.equal_range(e.subject_id);
        for (auto it = b; it != end; ++it) ready_.emplace_back(std::move(it->second.done), true);
        if (b != end) wake = true;
        waiters_.erase(b, end);
      }
      for (auto& p : pollers_) {
        if (!p->woken && Wants(*p, e)) {
          p->woken = true;
          wake = true;
        }
      }
    }
  }
  if (wake) cv_.notify_one();
}

void TaskWaiter::Wait(const std::string& namespace_id, const std::string& id,
                      Clock::time_point deadline, Done done) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_) {
      waiters_.emplace(id, Waiter{deadline, std::move(done)});
      done = nullptr;
    }
  }
  if (done) {
    done(false);
    return;
  }
  // The task may have finished before we registered: look once, now that any later terminal
  // event is sure to find us.
  auto task = tasks_->Get(namespace_id, id);
  if (task.ok() && store::IsTerminal(task->status)) {
    std::vector<Done> ready;
    {
      std::lock_guard lock(mu_);
      auto [b, e] = waiters_.equal_range(id);
      for (auto it = b; it != e; ++it) ready.push_back(std::move(it->second.done));
      waiters_.erase(b, e);
    }
    for (auto& d : ready) d(true);
  }
  cv_.notify_one();  // its deadline may be the next one
}

void TaskWaiter::Poll(Clock::time_point deadline, std::string namespace_id,
                      std::vector<std::string> queues, Attempt attempt) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_) {
      auto p = std::make_shared<Poller>();
      p->deadline = deadline;
      p->namespace_id = std::move(namespace_id);
      p->queues = std::move(queues);
      p->attempt = std::move(attempt);
      p->next_try = Clock::now();
      pollers_.push_back(std::move(p));
      attempt = nullptr;
    }
  }
  if (attempt) {
    attempt(true);
    return;
  }
  cv_.notify_one();
}

void TaskWaiter::Shutdown() {
  std::multimap<std::string, Waiter> pending;
  std::vector<std::shared_ptr<Poller>> polls;
  std::vector<std::pair<Done, bool>> ready;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    pending.swap(waiters_);
    ready.swap(ready_);
    // A poll whose attempt is running is the waiter thread's to finish.
    for (auto& p : pollers_) {
      if (!p->running) polls.push_back(p);
    }
    std::erase_if(pollers_, [](const std::shared_ptr<Poller>& p) { return !p->running; });
  }
  cv_.notify_all();
  for (auto& [done, terminal] : ready) done(terminal);
  for (auto& [id, w] : pending) w.done(false);
  for (auto& p : polls) p->attempt(true);
}

void TaskWaiter::Resolve(const Done& done, bool terminal) {
  try {
    done(terminal);
  } catch (const std::exception& e) {  // an answer's own path: log, keep serving the others
    log::Error("answering a waiting request threw", {{"error", e.what()}});
  }
}

TaskWaiter::PollResult TaskWaiter::Try(Poller& p, bool final) {
  PollResult r;
  try {
    r = p.attempt(final);
  } catch (const std::exception& e) {
    log::Error("a long poll attempt threw", {{"error", e.what()}});
    r.done = final;
  }
  if (final) r.done = true;  // it has answered, as its contract says
  return r;
}

void TaskWaiter::Run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    const auto now = Clock::now();
    // What is due now: resolved waits, expired waits, and pollers to try.
    std::vector<std::pair<Done, bool>> ready;
    ready.swap(ready_);
    for (auto it = waiters_.begin(); it != waiters_.end();) {
      if (it->second.deadline <= now) {
        ready.emplace_back(std::move(it->second.done), false);
        it = waiters_.erase(it);
      } else {
        ++it;
      }
    }
    std::vector<std::shared_ptr<Poller>> due;
    for (auto& p : pollers_) {
      if (p->deadline <= now || (p->woken && p->next_try <= now)) {
        p->woken = false;  // an event during the attempt wakes it again
        p->running = true;
        ++attempts_;
        due.push_back(p);
      }
    }
    if (!ready.empty() || !due.empty()) {
      lock.unlock();
      for (auto& [done, terminal] : ready) Resolve(done, terminal);
      for (auto& p : due) {
        const bool final = p->deadline <= Clock::now();
        PollResult r = Try(*p, final);
        std::unique_lock relock(mu_);
        if (!r.done && stopping_) {
          // Shut down while it ran: it answers now, as Shutdown does for the others (without
          // the lock: an attempt writes to the database, whose writer publishes to OnEvents).
          relock.unlock();
          Try(*p, true);
          relock.lock();
          r.done = true;
        }
        p->running = false;
        if (r.done) {
          std::erase(pollers_, p);
          continue;
        }
        const auto after = Clock::now();
        p->next_try = std::max(after + kMinAttemptGap, r.retry_at.value_or(after));
        if (r.retry_at) p->woken = true;  // try again at retry_at even without an event
      }
      lock.lock();
      continue;
    }
    // Sleep until the next deadline or try time, or an event.
    auto wake_at = Clock::time_point::max();
    for (const auto& [id, w] : waiters_) wake_at = std::min(wake_at, w.deadline);
    for (const auto& p : pollers_) {
      wake_at = std::min(wake_at, p->deadline);
      if (p->woken) wake_at = std::min(wake_at, p->next_try);
    }
    if (wake_at == Clock::time_point::max()) {
      cv_.wait(lock);
    } else {
      cv_.wait_until(lock, wake_at);
    }
  }
}

}  // namespace argus::api
