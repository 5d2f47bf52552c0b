#include "engine/runtime/batcher.h"

#include <algorithm>
#include <future>

#include "core/thread_name.h"

namespace argus::engine {

using Clock = std::chrono::steady_clock;

void ThreadBudget::Acquire(int n) {
  std::unique_lock lock(mu_);
  n = std::min(n, total_);
  cv_.wait(lock, [&] { return free_ >= n; });
  free_ -= n;
}

void ThreadBudget::Release(int n) {
  {
    std::lock_guard lock(mu_);
    free_ += std::min(n, total_);
  }
  cv_.notify_all();
}

namespace {
bool SameShapes(const std::vector<Tensor>& a, const std::vector<Tensor>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].shape.size() != b[i].shape.size() ||
        !std::equal(a[i].shape.begin() + (a[i].shape.empty() ? 0 : 1), a[i].shape.end(),
                    b[i].shape.begin() + (b[i].shape.empty() ? 0 : 1))) {
      return false;
    }
  }
  return true;
}
}  // namespace

struct Batcher::Request {
  std::vector<Tensor> inputs;
  Clock::time_point deadline;
  Clock::time_point enqueued = Clock::now();
  std::promise<Result<std::vector<Tensor>>> answer;
  std::atomic<bool> abandoned{false};
};

Batcher::Batcher(std::string model, std::vector<BatchFn> sessions, BatcherOptions options,
                 ThreadBudget* budget, BatcherMetrics metrics)
    : model_(std::move(model)),
      sessions_(std::move(sessions)),
      options_(options),
      budget_(budget),
      metrics_(metrics) {
  options_.max_batch = std::max(1, options_.max_batch);
  for (const BatchFn& fn : sessions_)
    workers_.emplace_back([this, &fn] {
      SetThreadName("argus-batcher");
      Work(fn);
    });
}

Batcher::~Batcher() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (auto& w : workers_) w.join();
  for (auto& r : queue_) r->answer.set_value(UnavailableError("the model is shutting down"));
}

size_t Batcher::queued() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

Result<std::vector<Tensor>> Batcher::Run(std::vector<Tensor> inputs, Clock::time_point deadline) {
  auto request = std::make_shared<Request>();
  request->inputs = std::move(inputs);
  request->deadline = deadline;
  auto answer = request->answer.get_future();
  {
    std::lock_guard lock(mu_);
    if (stop_) return UnavailableError("the model is shutting down");
    if (static_cast<int>(queue_.size()) >= options_.max_queue) {
      return ResourceExhaustedError("model '" + model_ + "' has " + std::to_string(queue_.size()) +
                                    " requests waiting: try again shortly");
    }
    queue_.push_back(request);
  }
  cv_.notify_one();
  if (answer.wait_until(deadline) != std::future_status::ready) {
    request->abandoned = true;
    return DeadlineExceededError("model '" + model_ + "' did not answer before the deadline");
  }
  return answer.get();
}

void Batcher::Work(const BatchFn& fn) {
  std::vector<std::shared_ptr<Request>> batch;
  while (true) {
    batch.clear();
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      // The oldest request waits at most max_wait_us for others to join it.
      if (options_.max_batch > 1 && static_cast<int>(queue_.size()) < options_.max_batch) {
        auto until = queue_.front()->enqueued + std::chrono::microseconds(options_.max_wait_us);
        cv_.wait_until(lock, until, [&] {
          return stop_ || queue_.empty() || static_cast<int>(queue_.size()) >= options_.max_batch;
        });
        if (stop_) return;
        if (queue_.empty()) continue;  // another worker took them
      }
      // The oldest request, and others whose inputs have its shapes (a model with free height
      // and width, like OCR's, batches only equal sizes).
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
      for (auto it = queue_.begin();
           it != queue_.end() && static_cast<int>(batch.size()) < options_.max_batch;) {
        if (SameShapes((*it)->inputs, batch.front()->inputs)) {
          batch.push_back(std::move(*it));
          it = queue_.erase(it);
        } else {
          ++it;
        }
      }
    }
    RunBatch(fn, batch);
  }
}

void Batcher::RunBatch(const BatchFn& fn, std::vector<std::shared_ptr<Request>>& batch) {
  const auto now = Clock::now();
  std::vector<std::shared_ptr<Request>> live;
  for (auto& r : batch) {
    if (r->abandoned || now > r->deadline) {
      r->answer.set_value(DeadlineExceededError("the deadline passed in the queue"));
    } else {
      if (metrics_.queue_seconds != nullptr) {
        metrics_.queue_seconds->Observe(std::chrono::duration<double>(now - r->enqueued).count());
      }
      live.push_back(r);
    }
  }
  if (live.empty()) return;
  const size_t inputs = live.front()->inputs.size();
  std::vector<Tensor> stacked;
  for (size_t i = 0; i < inputs; ++i) {
    std::vector<const Tensor*> parts;
    for (auto& r : live) {
      if (r->inputs.size() != inputs) {
        parts.clear();
        break;
      }
      parts.push_back(&r->inputs[i]);
    }
    auto joined = parts.empty() ? Result<Tensor>(InvalidArgumentError("inputs differ in number"))
                                : Concat(parts);
    if (!joined.ok()) {
      for (auto& r : live) r->answer.set_value(joined.status());
      return;
    }
    stacked.push_back(std::move(joined).value());
  }
  budget_->Acquire(options_.threads_per_run);
  auto start = Clock::now();
  Result<std::vector<Tensor>> outputs = InternalError("the model did not run");
  try {
    outputs = fn(stacked);
  } catch (const std::exception& e) {  // never out of this worker thread
    outputs = InternalError(std::string("the model failed: ") + e.what());
  }
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  budget_->Release(options_.threads_per_run);
  if (metrics_.run_seconds != nullptr) metrics_.run_seconds->Observe(seconds);
  if (metrics_.batch_size != nullptr)
    metrics_.batch_size->Observe(static_cast<double>(live.size()));
  if (!outputs.ok()) {
    for (auto& r : live) r->answer.set_value(outputs.status());
    return;
  }
  int64_t at = 0;
  for (auto& r : live) {
    const int64_t n = r->inputs.empty() || r->inputs[0].shape.empty() ? 1 : r->inputs[0].shape[0];
    std::vector<Tensor> mine;
    for (const Tensor& out : *outputs) {
      if (out.shape.empty() || out.shape[0] != static_cast<int64_t>(stacked[0].shape[0])) {
        mine.push_back(out);  // not batched (a constant output): everyone gets all of it
      } else {
        mine.push_back(Slice(out, at, n));
      }
    }
    at += n;
    r->answer.set_value(std::move(mine));
  }
}

}  // namespace argus::engine
