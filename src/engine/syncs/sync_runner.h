#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/json.h"
#include "core/result.h"
#include "domain/object_ingest.h"
#include "engine/worker/task_kinds.h"
#include "store/bucket_store.h"
#include "store/object_source.h"
#include "store/sync_store.h"

namespace argus::engine {

/// The task kind of one sync run.
inline constexpr char kSyncRunKind[] = "sync.run";

struct SyncRunOptions {
  /// A file is taken once it has not been modified for this long (its size is stable).
  double stable_s = 2;
  int page_size = 500;  ///< source entries listed (and file records written) per step
  /// Folder sources read only below these (canonical) directories; empty: folder syncs refused.
  std::vector<std::string> allowed_roots;
  bool allow_private_endpoints = false;  ///< network sources may reach private addresses
};

/// Counts of one run, also its task result.
struct SyncRunReport {
  int64_t listed = 0;
  int64_t ingested = 0;   ///< new objects (or new versions of one)
  int64_t unchanged = 0;  ///< the key already held the same bytes: nothing written
  int64_t failed = 0;
  int64_t pending = 0;    ///< still changing: taken by a later run
  int64_t skipped = 0;    ///< not offered by the source (e.g. a symlink outside the roots)
  bool complete = false;  ///< the listing pass reached its end

  Json ToJson() const;
};

/// Runs one pass of a sync: lists the source from the sync's persisted cursor and turns each
/// file it has not handled in this version into an object (domain::CommitObject), recording every
/// file's outcome with the cursor after each page, so a run cut short (kill -9, shutdown) goes on
/// where it stopped and no file becomes an object twice. Thread-safe; borrows everything.
class SyncRunner {
 public:
  /// `syncs` holds the syncs and their file records; `ingest` makes the objects.
  SyncRunner(store::SyncStore* syncs, domain::IngestContext ingest,
             const store::ObjectSourceRegistry* sources, SyncRunOptions options)
      : syncs_(syncs), ingest_(ingest), sources_(sources), options_(std::move(options)) {}

  /// The source a sync reads (the factory checks its settings and the allowed roots).
  Result<std::unique_ptr<store::ObjectSource>> SourceOf(const store::Sync& sync) const;

  /// One run of the sync named by the task's input {"sync_id"} (in the task's namespace). A sync
  /// that is gone or paused is skipped. The run's error (source unreachable, ...) is recorded
  /// on the sync as last_error and returned.
  Result<Json> Run(TaskContext& ctx);

  /// Registers kSyncRunKind (queue "io") with `registry`.
  Status Register(TaskKindRegistry& registry);

  const SyncRunOptions& options() const { return options_; }

 private:
  Status RunPass(TaskContext* ctx, store::Sync& sync, SyncRunReport& report);
  /// One entry: its new record (state, error), or an error that stops the run.
  Result<store::SyncFile> Take(store::ObjectSource& source, const store::Sync& sync,
                               const store::Bucket& bucket, const store::SourceEntry& entry,
                               SyncRunReport& report, const std::function<bool()>& keep_going);

  store::SyncStore* syncs_;
  domain::IngestContext ingest_;
  const store::ObjectSourceRegistry* sources_;
  SyncRunOptions options_;
};

/// The bucket with id `bucket_id` in the namespace (NotFound when it is gone).
Result<store::Bucket> BucketById(store::BucketStore* buckets, std::string_view namespace_id,
                                 std::string_view bucket_id);

}  // namespace argus::engine
