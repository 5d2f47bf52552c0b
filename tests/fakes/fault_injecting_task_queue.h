#pragma once

#include "store/task_queue.h"
#include "tests/fakes/fault_plan.h"

namespace argus::store {

/// A TaskQueue that forwards every call to `base` (borrowed), except the calls its FaultPlan
/// fails or delays: for testing what workers, the dispatcher and the API do when the queue
/// fails. Thread-safe as `base` is.
class FaultInjectingTaskQueue final : public TaskQueue {
 public:
  explicit FaultInjectingTaskQueue(TaskQueue* base) : base_(base) {}
  FaultPlan& plan() { return plan_; }

  Result<std::vector<EnqueueResult>> Enqueue(const std::vector<NewTask>& tasks,
                                             int64_t max_pending) override {
    ARGUS_INJECT_FAULT(plan_, "Enqueue");
    return base_->Enqueue(tasks, max_pending);
  }
  Result<Task> Get(std::string_view ns, std::string_view id) override {
    ARGUS_INJECT_FAULT(plan_, "Get");
    return base_->Get(ns, id);
  }
  Result<Page<Task>> List(const TaskFilter& filter, const PageRequest& page) override {
    ARGUS_INJECT_FAULT(plan_, "List");
    return base_->List(filter, page);
  }
  Result<std::vector<Task>> Lease(const LeaseRequest& request) override {
    ARGUS_INJECT_FAULT(plan_, "Lease");
    return base_->Lease(request);
  }
  Result<std::optional<TimestampUs>> NextRunAt(std::string_view ns,
                                               const std::vector<std::string>& queues) override {
    ARGUS_INJECT_FAULT(plan_, "NextRunAt");
    return base_->NextRunAt(ns, queues);
  }
  Result<Task> Start(std::string_view id, std::string_view lease_id, double lease_s) override {
    ARGUS_INJECT_FAULT(plan_, "Start");
    return base_->Start(id, lease_id, lease_s);
  }
  Result<Task> Heartbeat(std::string_view id, std::string_view lease_id, double extend_s,
                         std::optional<double> progress,
                         std::optional<std::string> message) override {
    ARGUS_INJECT_FAULT(plan_, "Heartbeat");
    return base_->Heartbeat(id, lease_id, extend_s, progress, std::move(message));
  }
  Result<Task> Complete(std::string_view id, std::string_view lease_id, Json result) override {
    ARGUS_INJECT_FAULT(plan_, "Complete");
    return base_->Complete(id, lease_id, std::move(result));
  }
  Result<std::vector<Status>> CompleteMany(const std::vector<Completion>& items) override {
    ARGUS_INJECT_FAULT(plan_, "CompleteMany");
    return base_->CompleteMany(items);
  }
  Result<Task> Fail(std::string_view id, std::string_view lease_id, TaskError error,
                    bool retryable) override {
    ARGUS_INJECT_FAULT(plan_, "Fail");
    return base_->Fail(id, lease_id, std::move(error), retryable);
  }
  Result<Task> Cancel(std::string_view ns, std::string_view id) override {
    ARGUS_INJECT_FAULT(plan_, "Cancel");
    return base_->Cancel(ns, id);
  }
  Result<int64_t> CancelMatching(const TaskFilter& filter) override {
    ARGUS_INJECT_FAULT(plan_, "CancelMatching");
    return base_->CancelMatching(filter);
  }
  Result<Task> Retry(std::string_view ns, std::string_view id) override {
    ARGUS_INJECT_FAULT(plan_, "Retry");
    return base_->Retry(ns, id);
  }
  Result<int64_t> Sweep(TimestampUs now) override {
    ARGUS_INJECT_FAULT(plan_, "Sweep");
    return base_->Sweep(now);
  }
  Result<std::optional<TimestampUs>> NextSweepAt() override {
    ARGUS_INJECT_FAULT(plan_, "NextSweepAt");
    return base_->NextSweepAt();
  }
  Result<int64_t> ReleaseWorker(std::string_view worker_id) override {
    ARGUS_INJECT_FAULT(plan_, "ReleaseWorker");
    return base_->ReleaseWorker(worker_id);
  }
  Result<int64_t> RecoverWorker(std::string_view worker_id, int max_crash_attempts) override {
    ARGUS_INJECT_FAULT(plan_, "RecoverWorker");
    return base_->RecoverWorker(worker_id, max_crash_attempts);
  }
  Status SetQueuePaused(std::string_view queue, bool paused) override {
    ARGUS_INJECT_FAULT(plan_, "SetQueuePaused");
    return base_->SetQueuePaused(queue, paused);
  }
  Status SetKindLimits(std::string_view kind, const KindLimits& limits) override {
    ARGUS_INJECT_FAULT(plan_, "SetKindLimits");
    return base_->SetKindLimits(kind, limits);
  }
  Result<std::map<std::string, KindLimits>> ListKindLimits() override {
    ARGUS_INJECT_FAULT(plan_, "ListKindLimits");
    return base_->ListKindLimits();
  }
  Result<std::vector<QueueStats>> Stats(std::string_view namespace_id) override {
    ARGUS_INJECT_FAULT(plan_, "Stats");
    return base_->Stats(namespace_id);
  }
  Result<int64_t> Purge(TimestampUs before) override {
    ARGUS_INJECT_FAULT(plan_, "Purge");
    return base_->Purge(before);
  }

 private:
  TaskQueue* const base_;
  FaultPlan plan_;
};

}  // namespace argus::store
