// Collections with `auto_process` take every new object of their source bucket as it arrives,
// whichever way it came (an upload, a multipart upload, a sync): the AutoProcessor follows the
// event log's object.created events from a durable cursor and queues a collection.extract task
// per (collection, object).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/result.h"
#include "engine/collections/event_follower.h"
#include "store/bucket_store.h"
#include "store/collection_store.h"
#include "store/event_bus.h"
#include "store/event_log.h"
#include "store/system_values.h"
#include "store/task_queue.h"

namespace argus::engine {

struct AutoProcessorOptions {
  int batch = 500;            ///< events read per step
  double retry_s = 1;         ///< after a failed step (the store unavailable), look again then
  std::string queue = "cpu";  ///< where the extraction tasks go
};

/// Follows the event log. Each object.created event of a bucket that is the source of
/// auto_process collections becomes one task per such collection, with the idempotency key
/// "auto_process:<collection>:<object>": the cursor (system value "auto_process.cursor") is
/// stored after the tasks, so a crash in between repeats a step without queueing a task twice.
/// Woken by the event bus; without one it polls every second. Start and Stop once; Step is for
/// tests. Borrowed pointers outlive the processor.
class AutoProcessor {
 public:
  AutoProcessor(store::EventLog* events, store::EventBus* bus, store::BucketStore* buckets,
                store::CollectionStore* collections, store::SystemValues* values,
                store::TaskQueue* tasks, AutoProcessorOptions options = {});
  ~AutoProcessor();

  void Start();
  void Stop();
  /// Reads the events after the cursor (one batch), queues their tasks, stores the cursor.
  /// Returns how many tasks it queued; `more` is set when a full batch was read.
  Result<int> Step(bool* more = nullptr);

 private:
  store::EventLog* events_;
  store::EventBus* bus_;
  store::BucketStore* buckets_;
  store::CollectionStore* collections_;
  store::SystemValues* values_;
  store::TaskQueue* tasks_;
  AutoProcessorOptions options_;
  int64_t cursor_ = -1;  // -1 until read from the store; the step's thread only
  std::unique_ptr<EventFollower> follower_;
};

}  // namespace argus::engine
