// A batch's progress, kept from its tasks: the BatchTracker follows the task events of
// collection.extract tasks whose parent is a batch (and batch.submitted events), counts the
// batch's tasks per tier and status, groups their errors by extractor, and moves the batch to
// processing, completed or failed with the batch.* event that reports it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "core/clock.h"
#include "core/result.h"
#include "engine/collections/event_follower.h"
#include "store/batch_store.h"
#include "store/collection_store.h"
#include "store/event_bus.h"
#include "store/event_log.h"
#include "store/system_values.h"
#include "store/task_queue.h"

namespace argus::engine {

struct BatchTrackerOptions {
  int batch = 1000;                ///< events read per step
  double progress_interval_s = 1;  ///< at most one batch.progress event per batch this often
  double retry_s = 1;              ///< after a failed step, look again then
  int error_examples = 3;          ///< examples kept per extractor
};

/// Follows the event log from a durable cursor (system value "batches.cursor"). Start and Stop
/// once; Step and Refresh are for tests and the API's own reads. Borrowed pointers outlive it.
class BatchTracker {
 public:
  struct Deps {
    store::EventLog* events = nullptr;
    store::EventBus* bus = nullptr;  ///< may be null: it polls every retry_s
    store::BatchStore* batches = nullptr;
    store::CollectionStore* collections = nullptr;
    store::SystemValues* values = nullptr;
    store::TaskQueue* tasks = nullptr;
    const Clock* clock = nullptr;
  };
  BatchTracker(Deps deps, BatchTrackerOptions options = {});
  ~BatchTracker();

  void Start();
  void Stop();
  /// Reads the events after the cursor, refreshes the batches they concern, stores the cursor.
  /// Returns how many batches it refreshed; `more` is set when a full batch of events was read.
  Result<int> Step(bool* more = nullptr);
  /// Counts the batch's tasks and stores its progress and status (with batch.progress,
  /// batch.completed or batch.failed as called for). Drafts and cancelled batches keep their
  /// status. Returns the batch as stored.
  Result<store::Batch> Refresh(const std::string& namespace_id, const std::string& id);

 private:
  /// A collection's tier (1 for a bucket's) and name; {0, ""} when it is gone.
  std::pair<int, std::string> TierOf(const std::string& collection_id);

  Deps deps_;
  BatchTrackerOptions options_;
  int64_t cursor_ = -1;                                       // the step's thread only
  std::map<std::string, std::pair<int, std::string>> tiers_;  // under refresh_mu_
  std::map<std::string, TimestampUs> last_progress_;          // under refresh_mu_
  std::mutex refresh_mu_;  // one refresh at a time: a batch's counts are written in order
  std::unique_ptr<EventFollower> follower_;
};

}  // namespace argus::engine
