#include "api/http/blocking_pool.h"

#include <algorithm>
#include <exception>

#include "core/log.h"
#include "core/thread_name.h"

namespace argus::api {

namespace {

// Nothing may escape a pool thread or a strand step: log it and go on with the next task.
void RunGuarded(const std::function<void()>& task) {
  try {
    task();
  } catch (const std::exception& e) {
    log::Error("a blocking task threw", {{"error", e.what()}});
  } catch (...) {
    log::Error("a blocking task threw a non-exception");
  }
}

}  // namespace

BlockingPool::BlockingPool(Options options) : options_(options) {
  options_.threads = std::max(1, options_.threads);
  options_.max_queued = std::max(0, options_.max_queued);
  threads_.reserve(static_cast<size_t>(options_.threads));
  for (int i = 0; i < options_.threads; ++i)
    threads_.emplace_back([this] {
      SetThreadName("argus-blocking");
      Run();
    });
}

BlockingPool::~BlockingPool() { Stop(); }

bool BlockingPool::TrySubmit(std::function<void()> task) {
  {
    std::lock_guard lock(mu_);
    // Follow-up steps count too: while they pile up, new requests wait at the door.
    if (stopping_ || queue_.size() >= idle_threads_ + static_cast<size_t>(options_.max_queued)) {
      refused_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    queue_.push_back(std::move(task));
  }
  cv_.notify_one();
  return true;
}

void BlockingPool::Submit(std::function<void()> task) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_) {
      queue_.push_back(std::move(task));
      cv_.notify_one();
      return;
    }
  }
  RunGuarded(task);
}

void BlockingPool::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

size_t BlockingPool::queued() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

void BlockingPool::Run() {
  std::unique_lock lock(mu_);
  for (;;) {
    ++idle_threads_;
    cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    --idle_threads_;
    // Stopping still drains the queue: queued steps include clean-ups (aborting a blob write).
    if (queue_.empty()) return;
    std::function<void()> task = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    busy_.fetch_add(1, std::memory_order_relaxed);
    RunGuarded(task);
    busy_.fetch_sub(1, std::memory_order_relaxed);
    task = nullptr;  // release what it holds before waiting again
    lock.lock();
  }
}

bool BlockingStrand::Post(std::function<void()> step, bool admit) {
  std::unique_lock lock(mu_);
  pending_.fetch_add(1, std::memory_order_acq_rel);
  steps_.push_back(std::move(step));
  if (scheduled_) return true;  // the step runs after those before it
  scheduled_ = true;
  lock.unlock();
  auto run = [self = shared_from_this()] { self->RunOne(); };
  if (!admit) {
    pool_->Submit(std::move(run));
    return true;
  }
  if (pool_->TrySubmit(std::move(run))) return true;
  lock.lock();
  // Nothing ran, and nothing else can have been queued meanwhile: the connection posts its steps
  // from one thread, and waits for an admission before posting more.
  steps_.pop_back();
  scheduled_ = false;
  pending_.fetch_sub(1, std::memory_order_acq_rel);
  return false;
}

// A few steps per pool task: a long upload's chunks follow one another on the thread that has
// them in cache, without a wake-up per chunk, and still take turns with other connections' work
// (the task goes back to the end of the pool's queue after kStepsPerTurn).
void BlockingStrand::RunOne() {
  constexpr int kStepsPerTurn = 8;
  for (int turn = 0;; ++turn) {
    std::function<void()> step;
    {
      std::lock_guard lock(mu_);
      step = std::move(steps_.front());
      steps_.pop_front();
    }
    RunGuarded(step);
    step = nullptr;
    bool more;
    {
      std::lock_guard lock(mu_);
      more = !steps_.empty();
      scheduled_ = more;
    }
    pending_.fetch_sub(1, std::memory_order_acq_rel);
    wake_();
    if (!more) return;
    if (turn + 1 == kStepsPerTurn) {
      pool_->Submit([self = shared_from_this()] { self->RunOne(); });
      return;
    }
  }
}

}  // namespace argus::api
