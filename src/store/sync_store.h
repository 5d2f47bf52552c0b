#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/json.h"
#include "core/result.h"
#include "store/page.h"

namespace argus::store {

/// A sync: a source (a folder, an S3 prefix) whose files become objects of a bucket, each
/// exactly once. The engine runs it as tasks; the API creates, pauses and reports it.
struct Sync {
  std::string id;  ///< UUIDv7
  std::string namespace_id;
  std::string bucket_id;
  std::string source_type;         ///< "folder", "s3": the ObjectSource backend
  Json source = Json::object();    ///< the source's settings, secrets included (the API redacts)
  std::string key_prefix;          ///< put before each source path to make the object key
  Json metadata = Json::object();  ///< user metadata given to every object the sync creates
  double interval_s = 60;          ///< between the starts of two periodic runs
  bool paused = false;
  std::string cursor;           ///< where the current listing pass stands; "" at its start
  std::string run_task_id;      ///< the task of the latest run; "" before the first
  TimestampUs next_run_at = 0;  ///< the scheduler starts a run once this has passed
  TimestampUs last_run_at = 0;  ///< the end of the latest run (0: never)
  TimestampUs last_success_at = 0;
  std::string last_error;  ///< of the latest run; "" when it succeeded
  TimestampUs created_at = 0;
  TimestampUs updated_at = 0;
};

/// Fields a sync update may change; unset ones stay.
struct SyncUpdate {
  std::optional<bool> paused;
  std::optional<double> interval_s;
  std::optional<std::string> cursor;
  std::optional<std::string> run_task_id;
  std::optional<TimestampUs> next_run_at;
  std::optional<TimestampUs> last_run_at;
  std::optional<TimestampUs> last_success_at;
  std::optional<std::string> last_error;
};

/// What a sync knows about one source file: the version it last handled and the outcome.
struct SyncFile {
  std::string path;     ///< relative to the source root, '/'-separated
  std::string version;  ///< the source's version token (size and mtime, an ETag)
  int64_t size = 0;
  /// "pending": seen, not yet taken (still changing, or queued for a retry); "ingested": an
  /// object holds this version; "failed": it could not be ingested (see error).
  std::string state = "pending";
  std::string error;
  int attempts = 0;        ///< failed attempts so far
  std::string object_key;  ///< the object it became (or would have become)
  TimestampUs updated_at = 0;
};

/// The files of a sync by state.
struct SyncCounts {
  int64_t discovered = 0;  ///< all files ever seen
  int64_t ingested = 0;
  int64_t failed = 0;
  int64_t pending = 0;
};

/// Syncs and the record of the source files each one handled (a role of MetadataStore).
/// Thread-safe: any method may be called from any thread concurrently. Every method returns
/// Unavailable when the backend cannot be reached (retry), Internal on a bug or corrupt data.
class SyncStore {
 public:
  virtual ~SyncStore() = default;

  // Syncs, addressed by id; NotFound names the sync.
  /// Stores `sync` as given (the caller fills id and times). NotFound when the bucket is gone;
  /// InvalidArgument for an interval_s below 1 or a namespace_id other than the bucket's. A
  /// bucket's syncs (and their file records) are deleted with it.
  // Creating, rescheduling (paused, interval_s or next_run_at given) and deleting a sync append
  // "sync.created" / "sync.updated" / "sync.deleted" to the EventLog in the same transaction
  // (data: id, bucket_id, paused, interval_s, next_run_at; never the source's credentials).
  virtual Result<Sync> CreateSync(const Sync& sync) = 0;
  /// NotFound when absent or in another namespace (empty `namespace_id`: any namespace).
  virtual Result<Sync> GetSync(std::string_view namespace_id, std::string_view id) = 0;
  /// The syncs of one bucket (empty `bucket_id`: of every bucket of every namespace, for the
  /// scheduler), oldest first.
  virtual Result<Page<Sync>> ListSyncs(std::string_view bucket_id, const PageRequest& page) = 0;
  /// Applies the set fields and sets updated_at to `now`; returns the sync. InvalidArgument for
  /// an interval_s below 1; NotFound when absent.
  virtual Result<Sync> UpdateSync(std::string_view id, const SyncUpdate& update,
                                  TimestampUs now) = 0;
  /// Deletes the sync and its file records (objects it made stay). NotFound when absent.
  virtual Status DeleteSync(std::string_view namespace_id, std::string_view id) = 0;
  /// The records of those of `paths` the sync has seen, in any order (unknown paths are left
  /// out). At most 1000 paths (InvalidArgument beyond).
  virtual Result<std::vector<SyncFile>> GetSyncFiles(std::string_view sync_id,
                                                     const std::vector<std::string>& paths) = 0;
  /// Creates or replaces the records in one transaction. NotFound when the sync is gone.
  virtual Status PutSyncFiles(std::string_view sync_id, const std::vector<SyncFile>& files) = 0;
  /// Records in path order after `after_path`, only those in `state` when it is not empty.
  /// next_after_id is the last path when more follow. InvalidArgument for a limit outside
  /// 1..1000.
  virtual Result<Page<SyncFile>> ListSyncFiles(std::string_view sync_id, std::string_view state,
                                               std::string_view after_path, int limit) = 0;
  virtual Result<SyncCounts> CountSyncFiles(std::string_view sync_id) = 0;
  /// Sets failed records back to pending (all of them when `paths` is empty) so that the next
  /// run tries them again; returns how many changed.
  virtual Result<int64_t> RetrySyncFiles(std::string_view sync_id,
                                         const std::vector<std::string>& paths) = 0;
};

}  // namespace argus::store
