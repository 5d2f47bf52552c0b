#include "store/sqlite/sqlite_task_queue.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>
#include <type_traits>
#include <utility>

#include "core/id.h"
#include "store/sqlite/sqlite_event_rows.h"
#include "store/sqlite/sqlite_task_rows.h"

namespace argus::store::sqlite {
namespace {

constexpr int kMaxLeaseTasks = 1000;
// Lease re-queries at most this often when kind limits filled up mid-pick (see LeaseOp).
constexpr int kMaxLeaseRounds = 8;
// Far enough for any sane duration, small enough that now + it cannot overflow.
constexpr double kMaxSeconds = 1e11;

TimestampUs UsFromSeconds(double seconds) {
  return static_cast<TimestampUs>(std::llround(std::clamp(seconds, 0.0, kMaxSeconds) * 1e6));
}

bool IsWaiting(TaskStatus status) {
  return status == TaskStatus::kPending || status == TaskStatus::kScheduled;
}

bool IsValidDuration(double seconds) {
  return std::isfinite(seconds) && seconds >= 0 && seconds <= kMaxSeconds;
}

Status InvalidDuration(std::string_view what, double seconds) {
  return InvalidArgumentError(fmt::format(
      "{} must be a number of seconds between 0 and {:g}, not {}", what, kMaxSeconds, seconds));
}

Status CheckDuration(double seconds, std::string_view what) {
  return IsValidDuration(seconds) ? OkStatus() : InvalidDuration(what, seconds);
}

// Why `value` cannot be serialized (nlohmann throws on strings that are not valid UTF-8), or
// nullopt when it can.
std::optional<std::string> JsonProblem(const Json& value) {
  try {
    value.dump();
  } catch (const Json::exception& e) {
    return std::string(e.what());
  }
  return std::nullopt;
}

Status CheckJson(const Json& value, std::string_view what) {
  std::optional<std::string> problem = JsonProblem(value);
  if (!problem) return OkStatus();
  return InvalidArgumentError(fmt::format("{} is not valid JSON text: {}", what, *problem));
}

// Messages are formatted only on failure: a batch of a thousand valid tasks pays nothing for them.
Status CheckNewTask(const NewTask& t, size_t index) {
  auto invalid = [index](std::string_view what) {
    return InvalidArgumentError(fmt::format("task {} of the batch: {}", index, what));
  };
  if (t.namespace_id.empty() || t.kind.empty() || t.queue.empty()) {
    return invalid("it needs a namespace, a kind and a queue");
  }
  if (t.priority < 0 || t.priority > 9) {
    return invalid(fmt::format("priority must be between 0 and 9, not {}", t.priority));
  }
  const std::pair<std::string_view, double> durations[] = {
      {"retry.initial_interval_s", t.retry.initial_interval_s},
      {"retry.max_interval_s", t.retry.max_interval_s},
      {"timeouts.schedule_to_start_s", t.timeouts.schedule_to_start_s},
      {"timeouts.start_to_close_s", t.timeouts.start_to_close_s},
      {"timeouts.heartbeat_s", t.timeouts.heartbeat_s}};
  for (const auto& [what, seconds] : durations) {
    if (!IsValidDuration(seconds)) return invalid(InvalidDuration(what, seconds).message());
  }
  if (!std::isfinite(t.retry.backoff_coefficient) || t.retry.backoff_coefficient < 1) {
    return invalid(
        fmt::format("retry.backoff_coefficient must be >= 1, not {}", t.retry.backoff_coefficient));
  }
  if (t.retry.max_attempts < 1) {
    return invalid(fmt::format("retry.max_attempts must be >= 1, not {}", t.retry.max_attempts));
  }
  if (auto problem =
          JsonProblem(Json{t.namespace_id, t.kind, t.queue, t.idempotency_key, t.parent_id})) {
    return invalid(
        fmt::format("namespace, kind, queue, idempotency key or parent id: {}", *problem));
  }
  if (auto problem = JsonProblem(t.input)) {
    return invalid(fmt::format("input is not valid JSON text: {}", *problem));
  }
  return OkStatus();
}

Status TaskNotFound(std::string_view id) {
  return NotFoundError(fmt::format("task '{}' does not exist", id));
}

// The task `id` when it is running under `lease_id`: NotFound when absent, Aborted otherwise.
Result<Task> LoadUnderLease(SqliteDatabase& db, std::string_view id, std::string_view lease_id) {
  ARGUS_ASSIGN_OR_RETURN(std::optional<Task> task, LoadTask(db, id));
  if (!task) return TaskNotFound(id);
  if (task->status != TaskStatus::kRunning || task->lease_id != lease_id) {
    return AbortedError(fmt::format(
        "task '{}' is not running under lease '{}' (it is {}): the lease expired and was "
        "re-leased, or the task finished; drop this work",
        id, lease_id, TaskStatusName(task->status)));
  }
  return std::move(*task);
}

// The task `id` of `namespace_id`: NotFound when absent or in another namespace.
Result<Task> LoadInNamespace(SqliteDatabase& db, std::string_view namespace_id,
                             std::string_view id) {
  ARGUS_ASSIGN_OR_RETURN(std::optional<Task> task, LoadTask(db, id));
  if (!task || task->namespace_id != namespace_id) return TaskNotFound(id);
  return std::move(*task);
}

}  // namespace

// KindLimits for one Lease call: running slots left per kind and the per-kind token buckets.
class SqliteTaskQueue::KindGate {
 public:
  static Result<KindGate> Open(SqliteDatabase& db, std::map<std::string, TokenBucket>& buckets,
                               TimestampUs now) {
    KindGate gate;
    ARGUS_ASSIGN_OR_RETURN(auto limits, LoadKindLimits(db));
    for (const auto& [kind, limit] : limits) {
      Slot& slot = gate.slots_[kind];
      if (limit.max_running > 0) {
        ARGUS_ASSIGN_OR_RETURN(int64_t running, CountRunningOfKind(db, kind));
        slot.running_left = std::max<int64_t>(0, limit.max_running - running);
      }
      if (limit.max_per_second > 0) {
        // Burst: one second's worth of starts, and at least one.
        const double capacity = std::max(1.0, limit.max_per_second);
        auto [it, inserted] = buckets.try_emplace(kind, TokenBucket{capacity, now});
        TokenBucket& bucket = it->second;
        if (!inserted && now > bucket.refilled_at) {
          bucket.tokens = std::min(
              capacity, bucket.tokens + (now - bucket.refilled_at) / 1e6 * limit.max_per_second);
          bucket.refilled_at = now;
        }
        slot.bucket = &bucket;
      }
    }
    return gate;
  }

  bool Blocked(const std::string& kind) const {
    auto it = slots_.find(kind);
    if (it == slots_.end()) return false;
    const Slot& slot = it->second;
    return slot.running_left == 0 || (slot.bucket != nullptr && slot.bucket->tokens < 1);
  }

  void Started(const std::string& kind) {
    auto it = slots_.find(kind);
    if (it == slots_.end()) return;
    if (it->second.running_left > 0) --it->second.running_left;
    if (it->second.bucket != nullptr) it->second.bucket->tokens -= 1;
  }

  std::vector<std::string> BlockedKinds() const {
    std::vector<std::string> kinds;
    for (const auto& [kind, slot] : slots_) {
      if (Blocked(kind)) kinds.push_back(kind);
    }
    return kinds;
  }

 private:
  struct Slot {
    int64_t running_left = -1;      // -1: no max_running
    TokenBucket* bucket = nullptr;  // null: no max_per_second
  };
  std::map<std::string, Slot> slots_;
};

SqliteTaskQueue::SqliteTaskQueue(std::shared_ptr<SqliteStoreFile> file)
    : file_(std::move(file)),
      clock_(file_->clock()),
      writer_(file_->writer()),
      readers_(file_->readers()),
      rng_(std::random_device{}()) {
  // Runs on the writer thread, like every user of waiting_counts_.
  rollback_hook_ = file_->AddRollbackHook([this] { waiting_counts_.clear(); });
}

SqliteTaskQueue::~SqliteTaskQueue() { file_->RemoveRollbackHook(rollback_hook_); }

Result<std::unique_ptr<TaskQueue>> SqliteTaskQueue::Create(const StoreArgs& args) {
  ARGUS_ASSIGN_OR_RETURN(auto file, SqliteStoreFile::Open(args));
  return std::unique_ptr<TaskQueue>(new SqliteTaskQueue(std::move(file)));
}

Result<std::vector<EnqueueResult>> SqliteTaskQueue::Enqueue(const std::vector<NewTask>& tasks,
                                                            int64_t max_pending_per_namespace) {
  for (size_t i = 0; i < tasks.size(); ++i) ARGUS_RETURN_IF_ERROR(CheckNewTask(tasks[i], i));
  if (tasks.empty()) return std::vector<EnqueueResult>();
  // Rows and created events are built here, on the caller's thread: the writer thread, which
  // every write shares, only runs the statements.
  const TimestampUs now = clock_.NowUs();
  std::vector<PreparedTask> prepared;
  prepared.reserve(tasks.size());
  for (const NewTask& request : tasks) prepared.push_back(PrepareTask(request, now));
  return RunWrite(writer_, [&](SqliteDatabase& db) {
    return EnqueueOp(db, tasks, prepared, now, max_pending_per_namespace);
  });
}

Result<std::vector<EnqueueResult>> SqliteTaskQueue::EnqueueOp(
    SqliteDatabase& db, const std::vector<NewTask>& tasks,
    const std::vector<PreparedTask>& prepared, TimestampUs now, int64_t max_pending) {
  std::vector<EnqueueResult> out;
  out.reserve(tasks.size());
  std::set<std::string_view> queues;
  std::vector<EventRow> events;  // task.created of the new tasks, written together at the end
  events.reserve(tasks.size());
  // New rows are inserted in multi-row chunks: EnqueueOne queues them here, and they are written
  // before anything reads the table (an idempotency key lookup, a first waiting count).
  std::vector<const PreparedTask*> unwritten;
  unwritten.reserve(tasks.size());
  for (size_t i = 0; i < tasks.size(); ++i) {
    // Over the cap, EnqueueOne fails and the operation's savepoint drops the whole batch.
    ARGUS_ASSIGN_OR_RETURN(EnqueueResult result,
                           EnqueueOne(db, tasks[i], prepared[i], max_pending, unwritten));
    if (result.created) {
      const Task& t = prepared[i].task;
      events.push_back({.type = "task.created",
                        .namespace_id = t.namespace_id,
                        .subject_id = t.id,
                        .queue = t.queue,
                        .data_json = prepared[i].event_json,
                        .at = now});
    }
    out.push_back(std::move(result));
    queues.insert(tasks[i].queue);
  }
  ARGUS_RETURN_IF_ERROR(InsertTasks(db, unwritten));
  ARGUS_RETURN_IF_ERROR(AppendEvents(db, events));
  for (std::string_view queue : queues) ARGUS_RETURN_IF_ERROR(RegisterQueue(db, queue));
  return out;
}

PreparedTask SqliteTaskQueue::PrepareTask(const NewTask& request, TimestampUs now) {
  Task t;
  t.id = NewId(clock_);
  t.namespace_id = request.namespace_id;
  t.kind = request.kind;
  t.queue = request.queue;
  t.priority = request.priority;
  t.input = request.input;
  t.idempotency_key = request.idempotency_key;
  t.run_at = std::max(request.run_at.value_or(now), now);
  t.status = t.run_at > now ? TaskStatus::kScheduled : TaskStatus::kPending;
  t.retry = request.retry;
  t.timeouts = request.timeouts;
  t.parent_id = request.parent_id;
  t.created_at = now;
  t.updated_at = now;
  std::optional<TimestampUs> start_deadline;
  if (t.timeouts.schedule_to_start_s > 0) {
    start_deadline = now + UsFromSeconds(t.timeouts.schedule_to_start_s);
  }
  return PrepareNewTask(std::move(t), start_deadline);
}

Result<EnqueueResult> SqliteTaskQueue::EnqueueOne(SqliteDatabase& db, const NewTask& request,
                                                  const PreparedTask& prepared, int64_t max_pending,
                                                  std::vector<const PreparedTask*>& unwritten) {
  auto write_queued = [&]() -> Status {
    ARGUS_RETURN_IF_ERROR(InsertTasks(db, unwritten));
    unwritten.clear();
    return OkStatus();
  };
  if (!request.idempotency_key.empty()) {
    ARGUS_RETURN_IF_ERROR(write_queued());
    ARGUS_ASSIGN_OR_RETURN(
        std::optional<Task> existing,
        FindTaskByIdempotencyKey(db, request.namespace_id, request.idempotency_key));
    if (existing) return EnqueueResult{.task = std::move(*existing), .created = false};
  }
  if (max_pending > 0) {
    // A count read from the table must include this batch's earlier tasks.
    if (!waiting_counts_.contains(request.namespace_id)) ARGUS_RETURN_IF_ERROR(write_queued());
    ARGUS_ASSIGN_OR_RETURN(int64_t waiting, WaitingCount(db, request.namespace_id));
    if (waiting >= max_pending) {
      return ResourceExhaustedError(fmt::format(
          "namespace '{}' may hold at most {} pending or scheduled tasks and this batch would "
          "exceed that; nothing was enqueued",
          request.namespace_id, max_pending));
    }
  }
  const Task& t = prepared.task;
  unwritten.push_back(&prepared);
  if (auto it = waiting_counts_.find(t.namespace_id); it != waiting_counts_.end()) ++it->second;
  return EnqueueResult{.task = t, .created = true};  // its row and event: EnqueueOp
}

Result<int64_t> SqliteTaskQueue::WaitingCount(SqliteDatabase& db, const std::string& namespace_id) {
  auto it = waiting_counts_.find(namespace_id);
  if (it != waiting_counts_.end()) return it->second;
  // Counted inside the current transaction, so it includes this batch's earlier inserts.
  ARGUS_ASSIGN_OR_RETURN(int64_t count, CountWaitingTasks(db, namespace_id));
  waiting_counts_[namespace_id] = count;
  return count;
}

Status SqliteTaskQueue::Save(SqliteDatabase& db, TaskStatus old_status, const Task& task,
                             std::optional<TimestampUs> new_start_deadline) {
  ARGUS_RETURN_IF_ERROR(SaveTask(db, task, new_start_deadline));
  const int delta = (IsWaiting(task.status) ? 1 : 0) - (IsWaiting(old_status) ? 1 : 0);
  if (delta != 0) {
    if (auto it = waiting_counts_.find(task.namespace_id); it != waiting_counts_.end()) {
      it->second += delta;
    }
  }
  return OkStatus();
}

Result<Task> SqliteTaskQueue::Get(std::string_view namespace_id, std::string_view id) {
  ARGUS_ASSIGN_OR_RETURN(auto db, readers_.Acquire());
  return LoadInNamespace(*db, namespace_id, id);
}

Result<Page<Task>> SqliteTaskQueue::List(const TaskFilter& filter, const PageRequest& page) {
  if (filter.namespace_id.empty()) return InvalidArgumentError("listing tasks needs a namespace");
  ARGUS_RETURN_IF_ERROR(CheckPageRequest(page));
  ARGUS_ASSIGN_OR_RETURN(auto db, readers_.Acquire());
  return ListTaskRows(*db, filter, page);
}

Result<std::vector<Task>> SqliteTaskQueue::Lease(const LeaseRequest& request) {
  if (request.worker_id.empty()) return InvalidArgumentError("a lease needs a worker id");
  ARGUS_RETURN_IF_ERROR(CheckJson(Json(request.worker_id), "the worker id"));
  if (request.max_tasks < 0 || request.max_tasks > kMaxLeaseTasks ||
      request.max_tasks + request.prefetch < 1) {
    return InvalidArgumentError(fmt::format(
        "max_tasks must be between 0 and {} (not {}), and with prefetch ask for a task at least",
        kMaxLeaseTasks, request.max_tasks));
  }
  if (request.prefetch < 0 || request.prefetch > kMaxLeaseTasks) {
    return InvalidArgumentError(
        fmt::format("prefetch must be between 0 and {}, not {}", kMaxLeaseTasks, request.prefetch));
  }
  ARGUS_RETURN_IF_ERROR(CheckDuration(request.lease_s, "lease_s"));
  return RunWrite(writer_, [&](SqliteDatabase& db) { return LeaseOp(db, request); });
}

Result<std::vector<Task>> SqliteTaskQueue::LeaseOp(SqliteDatabase& db,
                                                   const LeaseRequest& request) {
  const TimestampUs now = clock_.NowUs();
  ARGUS_ASSIGN_OR_RETURN(std::vector<std::string> queues, UnpausedQueues(db));
  if (!request.queues.empty()) {
    std::erase_if(queues, [&](const std::string& q) {
      return std::find(request.queues.begin(), request.queues.end(), q) == request.queues.end();
    });
  }
  ARGUS_ASSIGN_OR_RETURN(KindGate gate, KindGate::Open(db, buckets_, now));
  const size_t start_now = static_cast<size_t>(request.max_tasks);
  const size_t max_tasks = start_now + static_cast<size_t>(request.prefetch);
  auto may_lease_ahead = [&](const std::string& kind) {
    return std::find(request.prefetch_kinds.begin(), request.prefetch_kinds.end(), kind) !=
           request.prefetch_kinds.end();
  };
  std::vector<Task> leased;
  bool ended = false;  // a task that may not be leased ahead came next: stop there
  // Kinds at their limit are excluded in SQL; a kind that reaches its limit while this round is
  // picking leaves its remaining candidates unused, so the next round asks again without it.
  for (int round = 0; round < kMaxLeaseRounds && leased.size() < max_tasks && !ended; ++round) {
    const int need = static_cast<int>(max_tasks - leased.size());
    const std::vector<std::string> blocked = gate.BlockedKinds();
    std::vector<Task> candidates;
    for (const std::string& queue : queues) {
      ARGUS_ASSIGN_OR_RETURN(auto found, FindRunnableTasks(db, request.namespace_id, queue,
                                                           request.kinds, blocked, now, need));
      candidates.insert(candidates.end(), std::make_move_iterator(found.begin()),
                        std::make_move_iterator(found.end()));
    }
    std::sort(candidates.begin(), candidates.end(), [](const Task& a, const Task& b) {
      return a.priority != b.priority ? a.priority > b.priority : a.id < b.id;
    });
    bool skipped = false;
    const size_t round_start = leased.size();
    for (Task& candidate : candidates) {
      if (leased.size() == max_tasks) break;
      if (gate.Blocked(candidate.kind)) {
        skipped = true;
        continue;
      }
      const bool ahead = leased.size() >= start_now;
      if (ahead && !may_lease_ahead(candidate.kind)) {
        ended = true;
        break;
      }
      gate.Started(candidate.kind);
      leased.push_back(StartAttempt(std::move(candidate), request, !ahead, now));
    }
    // Written before the next round looks for candidates again.
    ARGUS_RETURN_IF_ERROR(SaveStartedTasks(db, std::span<const Task>(leased).subspan(round_start)));
    if (!skipped) break;
  }
  // The task.started events, once the list no longer moves (the rows point into it).
  std::vector<std::string> texts;
  texts.reserve(leased.size());
  std::vector<EventRow> events;
  events.reserve(leased.size());
  for (const Task& t : leased) {
    texts.push_back(TaskJsonText(t));
    events.push_back({.type = "task.started",
                      .namespace_id = t.namespace_id,
                      .subject_id = t.id,
                      .queue = t.queue,
                      .data_json = texts.back(),
                      .at = now});
  }
  ARGUS_RETURN_IF_ERROR(AppendEvents(db, events));
  return leased;
}

Task SqliteTaskQueue::StartAttempt(Task t, const LeaseRequest& request, bool started,
                                   TimestampUs now) {
  // `t` was read by FindRunnableTasks in this same transaction, which nothing else writes to.
  if (IsWaiting(t.status)) {
    if (auto it = waiting_counts_.find(t.namespace_id); it != waiting_counts_.end()) --it->second;
  }
  t.status = TaskStatus::kRunning;
  t.attempt += 1;
  t.started_at = started ? std::optional<TimestampUs>(now) : std::nullopt;
  t.worker_id = request.worker_id;
  t.lease_id = NewId(clock_);
  t.lease_expires_at = now + UsFromSeconds(request.lease_s);
  t.heartbeat_at = now;
  t.progress = 0;
  t.progress_message.clear();
  t.updated_at = now;
  return t;  // LeaseOp writes it (SaveStartedTasks) and its task.started event
}

Result<std::optional<TimestampUs>> SqliteTaskQueue::NextRunAt(
    std::string_view namespace_id, const std::vector<std::string>& queues) {
  ARGUS_ASSIGN_OR_RETURN(auto db, readers_.Acquire());
  if (queues.empty()) return NextScheduledRunAt(*db, namespace_id, "");
  std::optional<TimestampUs> earliest;
  for (const std::string& queue : queues) {
    ARGUS_ASSIGN_OR_RETURN(std::optional<TimestampUs> at,
                           NextScheduledRunAt(*db, namespace_id, queue));
    if (at && (!earliest || *at < *earliest)) earliest = at;
  }
  return earliest;
}

Result<Task> SqliteTaskQueue::Start(std::string_view id, std::string_view lease_id,
                                    double lease_s) {
  ARGUS_RETURN_IF_ERROR(CheckDuration(lease_s, "lease_s"));
  return RunWrite(writer_, [&](SqliteDatabase& db) -> Result<Task> {
    ARGUS_ASSIGN_OR_RETURN(Task t, LoadUnderLease(db, id, lease_id));
    const TimestampUs now = clock_.NowUs();
    if (!t.started_at) t.started_at = now;
    t.lease_expires_at = now + UsFromSeconds(lease_s);
    t.heartbeat_at = now;
    t.updated_at = now;
    ARGUS_RETURN_IF_ERROR(Save(db, t.status, t));
    return t;
  });
}

Result<Task> SqliteTaskQueue::Heartbeat(std::string_view id, std::string_view lease_id,
                                        double extend_s, std::optional<double> progress,
                                        std::optional<std::string> message) {
  ARGUS_RETURN_IF_ERROR(CheckDuration(extend_s, "extend_s"));
  if (progress && !(*progress >= 0 && *progress <= 1)) {
    return InvalidArgumentError(fmt::format("progress must be between 0 and 1, not {}", *progress));
  }
  if (message) ARGUS_RETURN_IF_ERROR(CheckJson(Json(*message), "the progress message"));
  return RunWrite(writer_, [&](SqliteDatabase& db) -> Result<Task> {
    ARGUS_ASSIGN_OR_RETURN(Task t, LoadUnderLease(db, id, lease_id));
    const TimestampUs now = clock_.NowUs();
    t.lease_expires_at = now + UsFromSeconds(extend_s);
    t.heartbeat_at = now;
    t.updated_at = now;
    if (progress) t.progress = *progress;
    if (message) t.progress_message = *message;
    ARGUS_RETURN_IF_ERROR(Save(db, t.status, t));
    if (progress || message) {
      ARGUS_RETURN_IF_ERROR(AppendTaskEvent(db, "task.progress", t, now));
    }
    return t;
  });
}

Result<Task> SqliteTaskQueue::Complete(std::string_view id, std::string_view lease_id,
                                       Json result) {
  ARGUS_RETURN_IF_ERROR(CheckJson(result, "the task result"));
  return RunWrite(writer_, [&](SqliteDatabase& db) {
    return CompleteOp(db, id, lease_id, std::move(result), std::nullopt);
  });
}

Result<Task> SqliteTaskQueue::CompleteOp(SqliteDatabase& db, std::string_view id,
                                         std::string_view lease_id, Json result,
                                         std::optional<TimestampUs> started_at) {
  ARGUS_ASSIGN_OR_RETURN(Task t, LoadUnderLease(db, id, lease_id));
  const TimestampUs now = clock_.NowUs();
  if (!t.started_at) t.started_at = started_at.value_or(now);
  t.status = TaskStatus::kSucceeded;
  t.result = std::move(result);
  t.progress = 1;  // a finished task is all done, whatever its last heartbeat said
  ClearLease(t);
  t.finished_at = now;
  t.updated_at = now;
  ARGUS_RETURN_IF_ERROR(Save(db, TaskStatus::kRunning, t));
  ARGUS_RETURN_IF_ERROR(AppendTaskEvent(db, "task.succeeded", t, now));
  return t;
}

Result<std::vector<Status>> SqliteTaskQueue::CompleteMany(const std::vector<Completion>& items) {
  std::vector<Status> checks;
  checks.reserve(items.size());
  for (const Completion& item : items) {
    checks.push_back(CheckJson(item.result, fmt::format("the result of task '{}'", item.id)));
  }
  // Where the caller still holds the leased task, the finished record and its event are built
  // here, off the writer thread; the write then only has to confirm the row did not change.
  struct Ready {
    Task done;
    std::string result_json;
    std::string event_json;
  };
  const TimestampUs now = clock_.NowUs();
  std::vector<std::optional<Ready>> ready(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    const Task* leased = items[i].leased;
    if (!checks[i].ok() || leased == nullptr || leased->id != items[i].id ||
        leased->lease_id != items[i].lease_id || leased->status != TaskStatus::kRunning) {
      continue;
    }
    Task done = *leased;
    done.status = TaskStatus::kSucceeded;
    done.result = items[i].result;
    done.progress = 1;
    ClearLease(done);
    done.finished_at = now;
    done.updated_at = now;
    if (!done.started_at) done.started_at = items[i].started_at.value_or(now);
    std::string event_json = TaskJsonText(done);
    ready[i] = Ready{std::move(done), DumpStoredJson(items[i].result), std::move(event_json)};
  }
  return RunWrite(writer_, [&](SqliteDatabase& db) -> Result<std::vector<Status>> {
    std::vector<Status> out = checks;
    // The completions prepared above, in multi-row UPDATEs; the rest (and any whose row changed
    // since the lease) one by one through CompleteOp.
    std::vector<SucceededRow> rows;
    std::vector<size_t> row_item;    // rows[k] is items[row_item[k]]
    std::set<std::string_view> ids;  // a task given twice: the second goes through CompleteOp
    for (size_t i = 0; i < items.size(); ++i) {
      if (!out[i].ok() || !ready[i] || !ids.insert(items[i].id).second) continue;
      rows.push_back({.done = &ready[i]->done,
                      .lease_id = items[i].lease_id,
                      .leased_updated_at = items[i].leased->updated_at,
                      .result_json = ready[i]->result_json});
      row_item.push_back(i);
    }
    ARGUS_ASSIGN_OR_RETURN(std::vector<bool> saved, SaveSucceededIfUnchanged(db, rows));
    std::vector<bool> done_fast(items.size(), false);
    std::vector<EventRow> events;
    events.reserve(rows.size());
    for (size_t k = 0; k < rows.size(); ++k) {
      if (!saved[k]) continue;
      const size_t i = row_item[k];
      const Task& done = ready[i]->done;
      done_fast[i] = true;
      events.push_back({.type = "task.succeeded",
                        .namespace_id = done.namespace_id,
                        .subject_id = done.id,
                        .queue = done.queue,
                        .data_json = ready[i]->event_json,
                        .at = now});
    }
    ARGUS_RETURN_IF_ERROR(AppendEvents(db, events));
    for (size_t i = 0; i < items.size(); ++i) {
      if (!out[i].ok() || done_fast[i]) continue;
      auto done =
          CompleteOp(db, items[i].id, items[i].lease_id, items[i].result, items[i].started_at);
      if (done.ok()) continue;
      const StatusCode code = done.status().code();
      // A stale or unknown item is that item's answer (CompleteOp wrote nothing for it); any
      // other error is the database failing, which fails the whole call.
      if (code != StatusCode::kAborted && code != StatusCode::kNotFound) return done.status();
      out[i] = done.status();
    }
    return out;
  });
}

Result<Task> SqliteTaskQueue::Fail(std::string_view id, std::string_view lease_id, TaskError error,
                                   bool retryable) {
  if (error.code.empty()) return InvalidArgumentError("a task error needs a code");
  ARGUS_RETURN_IF_ERROR(CheckJson(Json{error.code, error.message}, "the task error"));
  return RunWrite(writer_, [&](SqliteDatabase& db) -> Result<Task> {
    ARGUS_ASSIGN_OR_RETURN(Task t, LoadUnderLease(db, id, lease_id));
    return EndAttempt(db, std::move(t), error, retryable, clock_.NowUs());
  });
}

TimestampUs SqliteTaskQueue::BackoffUs(const RetryPolicy& retry, int attempt) {
  double delay = retry.initial_interval_s * std::pow(retry.backoff_coefficient, attempt - 1);
  delay = std::min(delay, retry.max_interval_s);  // also tames an overflow to infinity
  std::uniform_real_distribution<double> jitter(0.8, 1.2);
  return UsFromSeconds(delay * jitter(rng_));
}

Result<Task> SqliteTaskQueue::EndAttempt(SqliteDatabase& db, Task t, TaskError error,
                                         bool retryable, TimestampUs now) {
  const TaskStatus old_status = t.status;
  error.attempt = t.attempt;
  if (!t.started_at) t.started_at = now;  // leased ahead, then failed at its start
  const auto& codes = t.retry.non_retryable_codes;
  const bool non_retryable = !retryable ||
                             std::find(codes.begin(), codes.end(), error.code) != codes.end() ||
                             t.attempt >= t.retry.max_attempts;
  t.error = std::move(error);
  ClearLease(t);
  t.updated_at = now;
  std::string_view event;
  if (t.cancel_requested) {
    t.status = TaskStatus::kCancelled;
    t.finished_at = now;
    event = "task.cancelled";
  } else if (non_retryable) {
    t.status = TaskStatus::kFailed;
    t.finished_at = now;
    event = "task.failed";
  } else {
    t.status = TaskStatus::kScheduled;
    t.run_at = now + BackoffUs(t.retry, t.attempt);
    event = "task.retrying";
  }
  ARGUS_RETURN_IF_ERROR(Save(db, old_status, t));
  ARGUS_RETURN_IF_ERROR(AppendTaskEvent(db, event, t, now));
  return t;
}

Result<Task> SqliteTaskQueue::Cancel(std::string_view namespace_id, std::string_view id) {
  return RunWrite(writer_, [&](SqliteDatabase& db) -> Result<Task> {
    ARGUS_ASSIGN_OR_RETURN(Task t, LoadInNamespace(db, namespace_id, id));
    if (IsTerminal(t.status)) {
      return FailedPreconditionError(
          fmt::format("task '{}' is already {}", id, TaskStatusName(t.status)));
    }
    ARGUS_RETURN_IF_ERROR(CancelOp(db, t, clock_.NowUs()).status());
    return t;
  });
}

Result<bool> SqliteTaskQueue::CancelOp(SqliteDatabase& db, Task& t, TimestampUs now) {
  const TaskStatus old_status = t.status;
  if (t.status == TaskStatus::kRunning) {
    // The worker sees the flag in its next heartbeat and ends the task through Fail.
    if (t.cancel_requested) return false;
    t.cancel_requested = true;
    t.updated_at = now;
    ARGUS_RETURN_IF_ERROR(Save(db, old_status, t));
    return true;
  }
  t.status = TaskStatus::kCancelled;
  t.finished_at = now;
  t.updated_at = now;
  ARGUS_RETURN_IF_ERROR(Save(db, old_status, t));
  ARGUS_RETURN_IF_ERROR(AppendTaskEvent(db, "task.cancelled", t, now));
  return true;
}

Result<int64_t> SqliteTaskQueue::CancelMatching(const TaskFilter& filter) {
  if (filter.namespace_id.empty()) {
    return InvalidArgumentError("cancelling tasks needs a namespace");
  }
  return RunWrite(writer_, [&](SqliteDatabase& db) -> Result<int64_t> {
    const TimestampUs now = clock_.NowUs();
    ARGUS_ASSIGN_OR_RETURN(std::vector<std::string> ids, MatchingLiveTaskIds(db, filter));
    int64_t changed = 0;
    for (const std::string& id : ids) {
      ARGUS_ASSIGN_OR_RETURN(std::optional<Task> t, LoadTask(db, id));
      if (!t) continue;
      ARGUS_ASSIGN_OR_RETURN(bool did, CancelOp(db, *t, now));
      if (did) ++changed;
    }
    return changed;
  });
}

Result<Task> SqliteTaskQueue::Retry(std::string_view namespace_id, std::string_view id) {
  return RunWrite(writer_, [&](SqliteDatabase& db) -> Result<Task> {
    ARGUS_ASSIGN_OR_RETURN(Task t, LoadInNamespace(db, namespace_id, id));
    if (t.status != TaskStatus::kFailed && t.status != TaskStatus::kCancelled) {
      return FailedPreconditionError(
          fmt::format("task '{}' is {}; only failed or cancelled tasks can be retried", id,
                      TaskStatusName(t.status)));
    }
    const TimestampUs now = clock_.NowUs();
    const TaskStatus old_status = t.status;
    t.status = TaskStatus::kPending;
    t.attempt = 0;
    t.cancel_requested = false;
    t.run_at = now;
    t.finished_at.reset();
    t.updated_at = now;
    std::optional<TimestampUs> start_deadline;
    if (t.timeouts.schedule_to_start_s > 0) {
      start_deadline = now + UsFromSeconds(t.timeouts.schedule_to_start_s);
    }
    ARGUS_RETURN_IF_ERROR(Save(db, old_status, t, start_deadline));
    ARGUS_RETURN_IF_ERROR(AppendTaskEvent(db, "task.retrying", t, now));
    return t;
  });
}

Status SqliteTaskQueue::SetQueuePaused(std::string_view queue, bool paused) {
  if (queue.empty()) return InvalidArgumentError("pausing a queue needs its name");
  ARGUS_RETURN_IF_ERROR(CheckJson(Json(queue), "the queue name"));
  const std::string data = Json{{"queue", queue}, {"paused", paused}}.dump();
  return writer_.Run([&](SqliteDatabase& db) -> Status {
    ARGUS_RETURN_IF_ERROR(SetQueuePausedRow(db, queue, paused));
    return AppendEvent(db, paused ? "queue.paused" : "queue.resumed", "", queue, queue, data,
                       clock_.NowUs())
        .status();
  });
}

Status SqliteTaskQueue::SetKindLimits(std::string_view kind, const KindLimits& limits) {
  if (kind.empty()) return InvalidArgumentError("kind limits need a kind");
  if (limits.max_running < 0) {
    return InvalidArgumentError(
        fmt::format("max_running must be >= 0 (0: unlimited), not {}", limits.max_running));
  }
  ARGUS_RETURN_IF_ERROR(CheckDuration(limits.max_per_second, "max_per_second"));
  ARGUS_RETURN_IF_ERROR(CheckJson(Json(kind), "the kind"));
  const std::string data = Json{
      {"kind", kind},
      {"max_running", limits.max_running},
      {"max_per_second",
       limits.max_per_second}}.dump();
  return writer_.Run([&](SqliteDatabase& db) -> Status {
    buckets_.erase(std::string(kind));  // a new rate starts with a full bucket
    ARGUS_RETURN_IF_ERROR(SaveKindLimits(db, kind, limits));
    return AppendEvent(db, "kind_limits.updated", "", kind, "", data, clock_.NowUs()).status();
  });
}

Result<std::map<std::string, KindLimits>> SqliteTaskQueue::ListKindLimits() {
  ARGUS_ASSIGN_OR_RETURN(auto db, readers_.Acquire());
  return LoadKindLimits(*db);
}

Result<std::vector<QueueStats>> SqliteTaskQueue::Stats(std::string_view namespace_id) {
  ARGUS_ASSIGN_OR_RETURN(auto db, readers_.Acquire());
  return ReadQueueStats(*db, namespace_id, clock_.NowUs());
}

Result<int64_t> SqliteTaskQueue::Purge(TimestampUs before) {
  return RunWrite(writer_, [&](SqliteDatabase& db) { return PurgeRows(db, before); });
}

}  // namespace argus::store::sqlite
