#include "engine/syncs/sync_runner.h"

#include <chrono>
#include <unordered_map>

#include "core/log.h"

namespace argus::engine {
namespace {

constexpr size_t kReadChunk = 1 << 20;
constexpr auto kBeatEvery = std::chrono::seconds(2);

/// A problem with this one file (recorded on its record, the run goes on), as opposed to one
/// of the server's stores failing (the run stops, and a later run takes over).
bool IsFileProblem(const Status& s) {
  switch (s.code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kUnsupportedMediaType:
    case StatusCode::kPayloadTooLarge:
    case StatusCode::kPermissionDenied:
    case StatusCode::kNotFound:
      return true;
    default:
      return false;
  }
}

store::SyncFile Failed(store::SyncFile rec, const Status& s) {
  rec.state = "failed";
  rec.error = std::string(s.message());
  return rec;
}

// Heartbeats at most every kBeatEvery; false when the task must stop.
class Beat {
 public:
  explicit Beat(TaskContext* ctx) : ctx_(ctx) {}
  bool Ok() {
    if (ctx_ == nullptr) return true;
    if (ctx_->stopping()) return false;
    auto now = std::chrono::steady_clock::now();
    if (now - last_ < kBeatEvery) return true;
    last_ = now;
    return ctx_->Heartbeat();
  }

 private:
  TaskContext* ctx_;
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

}  // namespace

Json SyncRunReport::ToJson() const {
  return {{"listed", listed},    {"ingested", ingested}, {"unchanged", unchanged},
          {"failed", failed},    {"pending", pending},   {"skipped", skipped},
          {"complete", complete}};
}

Result<store::Bucket> BucketById(store::BucketStore* buckets, std::string_view namespace_id,
                                 std::string_view bucket_id) {
  store::PageRequest page{.after_id = "", .limit = 1000};
  while (true) {
    ARGUS_ASSIGN_OR_RETURN(auto listed, buckets->ListBuckets(namespace_id, page));
    for (auto& b : listed.items) {
      if (b.id == bucket_id) return std::move(b);
    }
    if (listed.next_after_id.empty()) break;
    page.after_id = listed.next_after_id;
  }
  return NotFoundError("the sync's bucket is gone");
}

Result<std::unique_ptr<store::ObjectSource>> SyncRunner::SourceOf(const store::Sync& sync) const {
  store::SourceArgs args;
  args.config = sync.source;
  args.allowed_roots = options_.allowed_roots;
  args.allow_private_endpoints = options_.allow_private_endpoints;
  args.clock = ingest_.clock;
  return sources_->Create(sync.source_type, args);
}

Result<store::SyncFile> SyncRunner::Take(store::ObjectSource& source, const store::Sync& sync,
                                         const store::Bucket& bucket,
                                         const store::SourceEntry& entry, SyncRunReport& report,
                                         const std::function<bool()>& keep_going) {
  store::SyncFile rec;
  rec.path = entry.path;
  rec.version = entry.version;
  rec.size = entry.size;
  std::string raw_key = sync.key_prefix;
  raw_key += entry.path;
  std::string key;
  if (Status s = domain::CheckObjectKey(raw_key, &key); !s.ok()) {
    rec.object_key = raw_key;
    return Failed(std::move(rec), s);
  }
  rec.object_key = key;
  auto reader = source.Open(entry);
  if (!reader.ok()) {
    if (reader.status().code() == StatusCode::kFailedPrecondition) {
      rec.state = "pending";  // changed since it was listed: a later run takes it
      return rec;
    }
    if (reader.status().code() == StatusCode::kUnavailable) return reader.status();
    return Failed(std::move(rec), reader.status());
  }
  ARGUS_ASSIGN_OR_RETURN(auto incoming, domain::IncomingObject::Start(ingest_, bucket));
  std::string buf(kReadChunk, '\0');
  while (true) {
    auto n = (*reader)->Read(buf.data(), buf.size());
    if (!n.ok()) {
      incoming->Abort();
      if (n.status().code() == StatusCode::kFailedPrecondition) {
        rec.state = "pending";
        return rec;
      }
      if (n.status().code() == StatusCode::kUnavailable) return n.status();
      return Failed(std::move(rec), n.status());
    }
    if (*n == 0) break;
    if (!keep_going()) {  // the lease is renewed per chunk: a large file may take minutes
      incoming->Abort();
      return Status(StatusCode::kCancelled, "the run stopped while copying " + entry.path);
    }
    if (Status s = incoming->Append(std::string_view(buf.data(), *n)); !s.ok()) {
      if (IsFileProblem(s)) return Failed(std::move(rec), s);
      return s;
    }
  }
  domain::IngestRequest request;
  request.key = key;
  request.metadata = sync.metadata;
  request.keep_if_unchanged = true;  // a record lost to a crash: the object is already there
  auto committed = domain::CommitObject(ingest_, *incoming, std::move(request));
  if (!committed.ok()) {
    if (IsFileProblem(committed.status())) return Failed(std::move(rec), committed.status());
    return committed.status();
  }
  rec.state = "ingested";
  rec.error.clear();
  ++(committed->unchanged ? report.unchanged : report.ingested);
  return rec;
}

Status SyncRunner::RunPass(TaskContext* ctx, store::Sync& sync, SyncRunReport& report) {
  ARGUS_ASSIGN_OR_RETURN(auto bucket,
                         BucketById(ingest_.buckets, sync.namespace_id, sync.bucket_id));
  ARGUS_ASSIGN_OR_RETURN(auto source, SourceOf(sync));
  Beat beat(ctx);
  const TimestampUs stable_us = static_cast<TimestampUs>(options_.stable_s * 1e6);
  while (true) {
    ARGUS_ASSIGN_OR_RETURN(auto page, source->List(sync.cursor, options_.page_size));
    std::vector<std::string> paths;
    for (const auto& e : page.entries) paths.push_back(e.path);
    for (const auto& s : page.skipped) paths.push_back(s.path);
    std::unordered_map<std::string, store::SyncFile> known;
    for (size_t at = 0; at < paths.size(); at += 1000) {
      std::vector<std::string> part(paths.begin() + at,
                                    paths.begin() + std::min(paths.size(), at + 1000));
      ARGUS_ASSIGN_OR_RETURN(auto files, syncs_->GetSyncFiles(sync.id, part));
      for (auto& f : files) known.emplace(f.path, std::move(f));
    }
    std::vector<store::SyncFile> updates;
    for (const auto& skip : page.skipped) {
      ++report.skipped;
      auto it = known.find(skip.path);
      if (it != known.end() && it->second.state == "failed" && it->second.error == skip.reason) {
        continue;
      }
      store::SyncFile rec;
      rec.path = skip.path;
      rec.version = "skipped";
      rec.state = "failed";
      rec.error = skip.reason;
      rec.attempts = it == known.end() ? 1 : it->second.attempts + 1;
      updates.push_back(std::move(rec));
    }
    bool stopped = false;
    for (const auto& entry : page.entries) {
      ++report.listed;
      auto it = known.find(entry.path);
      const store::SyncFile* had = it == known.end() ? nullptr : &it->second;
      if (had != nullptr && had->version == entry.version && had->state != "pending") continue;
      if (ingest_.clock->NowUs() - entry.modified_at < stable_us) {
        ++report.pending;  // still being written, perhaps: a later run takes it
        if (had == nullptr || had->version != entry.version) {
          store::SyncFile rec;
          rec.path = entry.path;
          rec.version = entry.version;
          rec.size = entry.size;
          rec.attempts = had == nullptr ? 0 : had->attempts;
          updates.push_back(std::move(rec));
        }
        continue;
      }
      auto taken = Take(*source, sync, bucket, entry, report, [&] { return beat.Ok(); });
      if (!taken.ok() && taken.status().code() == StatusCode::kCancelled) {
        stopped = true;  // keep the records so far; this file is taken by a later run
        break;
      }
      ARGUS_ASSIGN_OR_RETURN(auto rec, std::move(taken));
      rec.attempts = had == nullptr ? 0 : had->attempts;
      if (rec.state == "failed") {
        ++rec.attempts;
        ++report.failed;
        log::Info("a sync could not ingest a file",
                  {{"sync", sync.id}, {"path", entry.path}, {"error", rec.error}});
      } else if (rec.state == "pending") {
        ++report.pending;
      }
      rec.updated_at = ingest_.clock->NowUs();
      updates.push_back(std::move(rec));
      if (!beat.Ok()) {
        stopped = true;
        break;
      }
    }
    const TimestampUs now = ingest_.clock->NowUs();
    for (auto& u : updates) {
      if (u.updated_at == 0) u.updated_at = now;
    }
    if (!updates.empty()) ARGUS_RETURN_IF_ERROR(syncs_->PutSyncFiles(sync.id, updates));
    if (stopped) return Status(StatusCode::kCancelled, "the run stopped before its end");
    // The records are durable before the cursor moves past them.
    sync.cursor = page.next_cursor;
    store::SyncUpdate moved;
    moved.cursor = sync.cursor;
    ARGUS_RETURN_IF_ERROR(syncs_->UpdateSync(sync.id, moved, now).status());
    if (page.next_cursor.empty()) {
      report.complete = true;
      return OkStatus();
    }
    if (!beat.Ok()) return Status(StatusCode::kCancelled, "the run stopped before its end");
  }
}

Result<Json> SyncRunner::Run(TaskContext& ctx) {
  std::string id = ctx.task().input.value("sync_id", "");
  auto sync = syncs_->GetSync(ctx.task().namespace_id, id);
  if (!sync.ok()) {
    if (sync.status().code() == StatusCode::kNotFound) {
      return Json{{"skipped", "the sync is gone"}};
    }
    return sync.status();
  }
  if (sync->paused) return Json{{"skipped", "the sync is paused"}};
  SyncRunReport report;
  Status s = RunPass(&ctx, *sync, report);
  const TimestampUs now = ingest_.clock->NowUs();
  store::SyncUpdate done;
  done.last_run_at = now;
  if (s.ok()) {
    done.last_error = "";
    if (report.complete) done.last_success_at = now;
  } else if (s.code() != StatusCode::kCancelled) {
    done.last_error = std::string(s.message());
  }
  // Files still changing, or a pass cut short: come back soon rather than a whole interval later.
  if (report.pending > 0 || s.code() == StatusCode::kCancelled) {
    TimestampUs soon = now + static_cast<TimestampUs>(options_.stable_s * 1e6);
    // Read again: the scheduler may have moved it since this run read the sync.
    auto current = syncs_->GetSync(ctx.task().namespace_id, id);
    if (current.ok() && current->next_run_at > soon) done.next_run_at = soon;
  }
  if (auto updated = syncs_->UpdateSync(sync->id, done, now); !updated.ok()) {
    log::Warn("could not record a sync run",
              {{"sync", sync->id}, {"error", updated.status().ToString()}});
  }
  if (!s.ok()) return s;
  return report.ToJson();
}

Status SyncRunner::Register(TaskKindRegistry& registry) {
  return registry.Register(
      {kSyncRunKind,
       "one run of a bucket sync: new files of its source become objects (started by the "
       "sync scheduler)",
       Json{{"type", "object"},
            {"additionalProperties", false},
            {"required", {"sync_id"}},
            {"properties", {{"sync_id", {{"type", "string"}}}}}},
       [this](TaskContext& ctx) { return Run(ctx); },
       /*internal=*/true});
}

}  // namespace argus::engine
