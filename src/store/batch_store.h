#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/json.h"
#include "core/result.h"
#include "store/page.h"

namespace argus::store {

enum class BatchStatus { kDraft, kQueued, kProcessing, kCompleted, kFailed, kCancelled };
std::string_view BatchStatusName(BatchStatus status);
Result<BatchStatus> ParseBatchStatus(std::string_view name);
/// Completed, failed and cancelled batches change no more (but for a retry).
inline bool IsFinished(BatchStatus s) {
  return s == BatchStatus::kCompleted || s == BatchStatus::kFailed || s == BatchStatus::kCancelled;
}

/// A set of a bucket's objects processed by collections as one unit of work: a draft names the
/// objects (keys, a prefix or a metadata filter) and the collections; once submitted its tasks
/// (collection.extract, with the batch as their parent) run tier by tier, and `progress` counts
/// them.
struct Batch {
  std::string id;  ///< UUIDv7
  std::string namespace_id;
  std::string bucket_id;
  std::string bucket_name;  ///< filled in by the store on every read
  /// {"keys": [...]}, {"prefix": "..."}, {"filter": {...}} (over object metadata), or {} (all).
  Json selection = Json::object();
  std::vector<std::string> collection_ids;  ///< the tier-1 collections it runs (later tiers follow)
  BatchStatus status = BatchStatus::kDraft;
  int64_t objects = 0;  ///< objects selected at submission
  /// {"tiers": [{"tier", "collections", "total", "pending", "running", "succeeded", "failed",
  /// "cancelled"}], "errors": {extractor: {"count", "examples": [{"key", "message"}]}}}.
  Json progress = Json::object();
  TimestampUs created_at = 0;
  TimestampUs updated_at = 0;
  TimestampUs submitted_at = 0;  ///< 0 while a draft
  TimestampUs finished_at = 0;   ///< 0 until completed, failed or cancelled
};

/// What UpdateBatch changes; unset fields stay.
struct BatchUpdate {
  std::optional<BatchStatus> status;
  std::optional<int64_t> objects;
  std::optional<Json> progress;
  std::optional<TimestampUs> submitted_at;
  std::optional<TimestampUs> finished_at;
  /// Unless empty, an event of this type ("batch.submitted", "batch.progress", ...) with the
  /// updated batch as its data, appended in the update's transaction.
  std::string event_type;
  /// Applied only while the batch is in this status (else FailedPrecondition naming both).
  std::optional<BatchStatus> only_from;
};

/// Batches (a role of MetadataStore). Thread-safe; Unavailable when the backend cannot be reached.
class BatchStore {
 public:
  virtual ~BatchStore() = default;

  /// Stores `batch` as given (the caller fills id, times, status kDraft). NotFound when the
  /// bucket is not in the namespace.
  virtual Result<Batch> CreateBatch(const Batch& batch) = 0;
  /// NotFound names the batch (another namespace's too).
  virtual Result<Batch> GetBatch(std::string_view namespace_id, std::string_view id) = 0;
  /// The bucket's batches, oldest first.
  virtual Result<Page<Batch>> ListBatches(std::string_view namespace_id, std::string_view bucket_id,
                                          const PageRequest& page) = 0;
  /// Applies `update` (updated_at = now). NotFound; FailedPrecondition (see only_from).
  virtual Result<Batch> UpdateBatch(std::string_view namespace_id, std::string_view id,
                                    const BatchUpdate& update, TimestampUs now) = 0;
  /// Removes a batch record (its tasks stay). NotFound.
  virtual Status DeleteBatch(std::string_view namespace_id, std::string_view id) = 0;
};

/// The public JSON form of a batch (API responses and batch.* event data).
Json BatchJson(const Batch& batch);

}  // namespace argus::store
