#include "engine/worker/completion_writer.h"

#include <exception>
#include <utility>

#include "core/log.h"
#include "core/thread_name.h"

namespace argus::engine {

CompletionWriter::CompletionWriter(store::TaskQueue* queue)
    : queue_(queue), thread_([this] {
        SetThreadName("argus-completer");
        Loop();
      }) {}

CompletionWriter::~CompletionWriter() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  work_.notify_all();
  thread_.join();
}

void CompletionWriter::Add(store::Task task, Json result, std::optional<TimestampUs> started_at) {
  {
    std::lock_guard lock(mu_);
    pending_.push_back({std::move(task), std::move(result), started_at});
    ++added_;
  }
  work_.notify_one();
}

void CompletionWriter::Flush() {
  std::unique_lock lock(mu_);
  const int64_t target = added_;
  written_.wait(lock, [&] { return done_ >= target; });
}

int64_t CompletionWriter::FailedForTest() const {
  std::lock_guard lock(mu_);
  return failed_;
}

void CompletionWriter::Loop() {
  std::vector<Item> batch;
  std::unique_lock lock(mu_);
  for (;;) {
    work_.wait(lock, [&] { return stopping_ || !pending_.empty(); });
    if (pending_.empty()) return;  // stopping, and everything is written
    if (pending_.size() <= kMaxBatch) {
      batch.swap(pending_);
    } else {
      batch.assign(std::make_move_iterator(pending_.begin()),
                   std::make_move_iterator(pending_.begin() + kMaxBatch));
      pending_.erase(pending_.begin(), pending_.begin() + kMaxBatch);
    }
    lock.unlock();
    Write(batch);
    const int64_t n = static_cast<int64_t>(batch.size());
    batch.clear();
    lock.lock();
    done_ += n;
    written_.notify_all();
  }
}

void CompletionWriter::Write(std::vector<Item>& batch) {
  std::vector<store::TaskQueue::Completion> completions;
  completions.reserve(batch.size());
  for (Item& item : batch) {
    completions.push_back({.id = item.task.id,
                           .lease_id = item.task.lease_id,
                           .result = std::move(item.result),
                           .leased = &item.task,
                           .started_at = item.started_at});
  }
  int64_t failed = 0;
  try {
    auto outcome = queue_->CompleteMany(completions);
    if (!outcome.ok()) {
      failed = static_cast<int64_t>(batch.size());
      log::Warn("recording task completions failed; the tasks run again when their leases expire",
                {{"tasks", failed}, {"error", outcome.status().ToString()}});
    } else {
      for (size_t i = 0; i < outcome->size(); ++i) {
        // Aborted: the lease moved on (it expired and the task was leased again) or the task
        // was cancelled meanwhile; the current owner records the outcome.
        if ((*outcome)[i].ok()) continue;
        ++failed;
        log::Info("a task completion was not recorded",
                  {{"task", completions[i].id}, {"reason", (*outcome)[i].ToString()}});
      }
    }
  } catch (const std::exception& e) {
    failed = static_cast<int64_t>(batch.size());
    log::Error("recording task completions threw", {{"error", e.what()}});
  }
  if (failed > 0) {
    std::lock_guard lock(mu_);
    failed_ += failed;
  }
}

}  // namespace argus::engine
