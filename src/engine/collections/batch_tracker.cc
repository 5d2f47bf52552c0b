#include "engine/collections/batch_tracker.h"

#include <set>
#include <vector>

#include "domain/document_builder.h"

namespace argus::engine {

namespace {

constexpr std::string_view kCursorKey = "batches.cursor";

bool Concerns(const store::Event& e) {
  return e.type == "batch.submitted" || e.type == "batch.retried" ||
         (e.type.rfind("task.", 0) == 0 && e.type != "task.created" &&
          e.data_json.find(domain::kExtractKind) != std::string::npos);
}

}  // namespace

BatchTracker::BatchTracker(Deps deps, BatchTrackerOptions options)
    : deps_(deps), options_(std::move(options)) {}

BatchTracker::~BatchTracker() { Stop(); }

std::pair<int, std::string> BatchTracker::TierOf(const std::string& collection_id) {
  auto it = tiers_.find(collection_id);
  if (it != tiers_.end()) return it->second;
  std::pair<int, std::string> found{0, ""};
  std::string up = collection_id;
  for (int depth = 1; depth <= 32 && !up.empty(); ++depth) {
    auto c = deps_.collections->GetCollectionById(up);
    if (!c.ok()) return found;  // gone (or unreachable: not cached, asked again next time)
    if (depth == 1) found.second = c->name;
    if (!c->source_bucket_id.empty()) {
      found.first = depth;
      break;
    }
    up = c->source_collection_id;
  }
  tiers_.emplace(collection_id, found);
  return found;
}

Result<store::Batch> BatchTracker::Refresh(const std::string& namespace_id, const std::string& id) {
  std::lock_guard lock(refresh_mu_);
  ARGUS_ASSIGN_OR_RETURN(store::Batch batch, deps_.batches->GetBatch(namespace_id, id));
  if (batch.status == store::BatchStatus::kDraft) return batch;
  struct Counts {
    std::set<std::string> collections;
    int64_t total = 0, pending = 0, running = 0, succeeded = 0, failed = 0, cancelled = 0;
  };
  std::map<int, Counts> tiers;
  Json errors = Json::object();
  auto note_error = [&](const std::string& extractor, const Json& key, const std::string& message) {
    Json& e = errors[extractor];
    if (!e.contains("count")) e = {{"count", 0}, {"examples", Json::array()}};
    e["count"] = e["count"].get<int64_t>() + 1;
    if (static_cast<int>(e["examples"].size()) < options_.error_examples) {
      e["examples"].push_back({{"key", key}, {"message", message}});
    }
  };
  bool open = false, started = false, failed = false;
  store::PageRequest page{.limit = 1000};
  for (;;) {
    ARGUS_ASSIGN_OR_RETURN(auto tasks, deps_.tasks->List({.namespace_id = namespace_id,
                                                          .kind = std::string(domain::kExtractKind),
                                                          .parent_id = id},
                                                         page));
    for (const store::Task& t : tasks.items) {
      const auto [tier, name] = TierOf(t.input.value("collection_id", ""));
      Counts& c = tiers[tier];
      if (!name.empty()) c.collections.insert(name);
      ++c.total;
      const Json key = t.input.value("key", "");
      switch (t.status) {
        case store::TaskStatus::kPending:
        case store::TaskStatus::kScheduled:
          ++c.pending;
          open = true;
          started = started || t.attempt > 0;
          break;
        case store::TaskStatus::kRunning:
          ++c.running;
          open = started = true;
          break;
        case store::TaskStatus::kSucceeded:
          ++c.succeeded;
          started = true;
          if (t.result.is_object() && t.result.contains("errors")) {
            for (const auto& [extractor, message] : t.result["errors"].items()) {
              note_error(extractor, key, message.is_string() ? message.get<std::string>() : "");
            }
          }
          break;
        case store::TaskStatus::kFailed:
          ++c.failed;
          started = failed = true;
          note_error(name.empty() ? "collection.extract" : name, key,
                     t.error ? t.error->code + ": " + t.error->message : "failed");
          break;
        case store::TaskStatus::kCancelled:
          ++c.cancelled;
          break;
      }
    }
    if (tasks.next_after_id.empty()) break;
    page.after_id = tasks.next_after_id;
  }
  Json progress = {{"tiers", Json::array()}, {"errors", errors}};
  for (const auto& [tier, c] : tiers) {
    progress["tiers"].push_back({{"tier", tier},
                                 {"collections", c.collections},
                                 {"total", c.total},
                                 {"pending", c.pending},
                                 {"running", c.running},
                                 {"succeeded", c.succeeded},
                                 {"failed", c.failed},
                                 {"cancelled", c.cancelled}});
  }
  const TimestampUs now = deps_.clock->NowUs();
  store::BatchUpdate update{.progress = progress};
  if (batch.status != store::BatchStatus::kCancelled) {
    const store::BatchStatus status =
        open     ? (started ? store::BatchStatus::kProcessing : store::BatchStatus::kQueued)
        : failed ? store::BatchStatus::kFailed
                 : store::BatchStatus::kCompleted;
    update.status = status;
    if (store::IsFinished(status) && !store::IsFinished(batch.status)) {
      update.finished_at = now;
      update.event_type =
          status == store::BatchStatus::kFailed ? "batch.failed" : "batch.completed";
    }
  }
  const bool changed =
      progress != batch.progress || (update.status && *update.status != batch.status);
  if (!changed) return batch;
  if (update.event_type.empty() &&
      now - last_progress_[id] >= static_cast<TimestampUs>(options_.progress_interval_s * 1e6)) {
    update.event_type = "batch.progress";
  }
  if (!update.event_type.empty()) last_progress_[id] = now;
  if (update.finished_at) last_progress_.erase(id);
  return deps_.batches->UpdateBatch(namespace_id, id, update, now);
}

Result<int> BatchTracker::Step(bool* more) {
  if (more != nullptr) *more = false;
  if (cursor_ < 0) {
    ARGUS_ASSIGN_OR_RETURN(auto stored, deps_.values->GetSystemValue(kCursorKey));
    // Never run before: from the newest event (no batch can be older than this version).
    if (stored.has_value()) {
      cursor_ = std::stoll(*stored);
    } else {
      ARGUS_ASSIGN_OR_RETURN(cursor_, deps_.events->LastSeq());
    }
  }
  ARGUS_ASSIGN_OR_RETURN(auto events, deps_.events->Read(cursor_, options_.batch));
  if (events.empty()) return 0;
  std::set<std::pair<std::string, std::string>> batches;
  for (const store::Event& e : events) {
    if (!Concerns(e)) continue;
    if (e.type.rfind("batch.", 0) == 0) {
      batches.emplace(e.namespace_id, e.subject_id);
      continue;
    }
    const Json task = Json::parse(e.data_json, nullptr, false);
    if (!task.is_object() || task.value("kind", "") != domain::kExtractKind) continue;
    const Json& parent = task.value("parent_id", Json());
    if (parent.is_string() && !parent.get<std::string>().empty()) {
      batches.emplace(e.namespace_id, parent.get<std::string>());
    }
  }
  int refreshed = 0;
  for (const auto& [ns, id] : batches) {
    auto r = Refresh(ns, id);
    if (r.status().code() == StatusCode::kNotFound) continue;  // a task's parent, not a batch
    ARGUS_RETURN_IF_ERROR(r.status());
    ++refreshed;
  }
  const int64_t last = events.back().seq;
  ARGUS_RETURN_IF_ERROR(deps_.values->PutSystemValue(kCursorKey, std::to_string(last)));
  cursor_ = last;
  if (more != nullptr) *more = static_cast<int>(events.size()) == options_.batch;
  return refreshed;
}

void BatchTracker::Start() {
  follower_ = std::make_unique<EventFollower>(
      "batches", deps_.bus, Concerns, [this](bool* more) { return Step(more).status(); },
      options_.retry_s);
  follower_->Start();
}

void BatchTracker::Stop() {
  if (follower_) follower_->Stop();
}

}  // namespace argus::engine
