#include "api/task_waiter.h"

#include "core/log.h"

namespace argus::api {

namespace {

constexpr auto kPollInterval = std::chrono::milliseconds(5);

bool IsTerminalEvent(const std::string& type) {
  return type == "task.succeeded" || type == "task.failed" || type == "task.cancelled";
}

}  // namespace

TaskWaiter::TaskWaiter(store::TaskQueue* tasks) : tasks_(tasks) {
  auto last = tasks_->LastEventSeq();
  after_seq_ = last.ok() ? *last : 0;
  thread_ = std::thread([this] { Run(); });
}

TaskWaiter::~TaskWaiter() {
  Shutdown();
  if (thread_.joinable()) thread_.join();
}

void TaskWaiter::Wait(const std::string& namespace_id, const std::string& id,
                      std::chrono::steady_clock::time_point deadline, Done done) {
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
  cv_.notify_all();
}

void TaskWaiter::Poll(std::chrono::steady_clock::time_point deadline,
                      std::function<bool(bool final)> attempt) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_) {
      pollers_.push_back({deadline, std::move(attempt)});
      attempt = nullptr;
    }
  }
  if (attempt) attempt(true);
  cv_.notify_all();
}

void TaskWaiter::Shutdown() {
  std::multimap<std::string, Waiter> pending;
  std::vector<Poller> polls;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    pending.swap(waiters_);
    polls.swap(pollers_);
  }
  cv_.notify_all();
  for (auto& [id, w] : pending) w.done(false);
  for (auto& p : polls) p.attempt(true);
}

void TaskWaiter::RunPollers() {
  auto now = std::chrono::steady_clock::now();
  if (now < next_poll_) return;
  next_poll_ = now + std::chrono::milliseconds(20);
  std::vector<Poller> polls;
  {
    std::lock_guard lock(mu_);
    polls.swap(pollers_);
  }
  std::vector<Poller> keep;
  for (auto& p : polls) {
    bool final = p.deadline <= now;
    if (!p.attempt(final) && !final) keep.push_back(std::move(p));
  }
  std::lock_guard lock(mu_);
  for (auto& p : keep) pollers_.push_back(std::move(p));
}

void TaskWaiter::Run() {
  for (;;) {
    {
      std::unique_lock lock(mu_);
      // Follow the log only while someone waits; otherwise just keep the cursor current.
      bool idle = waiters_.empty() && pollers_.empty();
      cv_.wait_for(lock, idle ? std::chrono::milliseconds(200) : kPollInterval);
      if (stopping_) return;
    }
    RunPollers();
    std::vector<std::pair<Done, bool>> ready;
    for (;;) {
      auto events = tasks_->ReadEvents(after_seq_, 1000);
      if (!events.ok()) {
        log::Warn("task waiter cannot read events", {{"error", events.status().ToString()}});
        break;
      }
      std::lock_guard lock(mu_);
      for (const auto& e : *events) {
        after_seq_ = e.seq;
        if (!IsTerminalEvent(e.type)) continue;
        auto [b, end] = waiters_.equal_range(e.task_id);
        for (auto it = b; it != end; ++it) ready.emplace_back(std::move(it->second.done), true);
        waiters_.erase(b, end);
      }
      if (events->size() < 1000) break;
    }
    auto now = std::chrono::steady_clock::now();
    {
      std::lock_guard lock(mu_);
      for (auto it = waiters_.begin(); it != waiters_.end();) {
        if (it->second.deadline <= now) {
          ready.emplace_back(std::move(it->second.done), false);
          it = waiters_.erase(it);
        } else {
          ++it;
        }
      }
    }
    for (auto& [done, terminal] : ready) done(terminal);
  }
}

}  // namespace argus::api
