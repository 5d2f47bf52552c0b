#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "core/clock.h"
#include "core/metrics.h"
#include "store/blob_references.h"
#include "store/blob_store.h"
#include "store/bucket_store.h"

namespace argus::engine {

struct BlobCollectorOptions {
  /// An unreferenced blob is freed only once it has been unused (committed or deduplicated
  /// against) for this long, so that bytes let go a moment ago are still there for a re-upload.
  /// A policy, not a safety margin: uploads in flight hold pins (ADR 0007), so 0 is safe.
  double grace_s = 3600;
  double interval_s = 600;  ///< between passes
  /// Temporaries of uploads not written to for this long are removed (kill -9 mid-upload).
  double temporary_age_s = 3600;
};

/// Frees blobs no object refers to any more (objects deleted or replaced, uploads that failed
/// after their bytes were stored) and temporaries of interrupted uploads: once at Start (when
/// every temporary is an orphan: no upload survives a restart), then every interval. Each blob
/// goes through BlobReferences::DeleteBlobIfUnreferenced, so an upload that deduplicates against
/// it meanwhile either keeps it (its pin came first) or stores its bytes afresh after the delete.
/// Thread-safe; Start and Stop once each.
class BlobCollector {
 public:
  /// `references` decides which blobs may go; `uploads` drops expired uploads.
  BlobCollector(store::BlobStore* blobs, store::BlobReferences* references,
                store::BucketStore* uploads, BlobCollectorOptions options, const Clock* clock,
                MetricsRegistry* metrics);
  ~BlobCollector();

  /// Runs the start-up pass, then starts the periodic thread.
  void Start();
  void Stop();
  /// One pass now (tests and the start-up pass); returns blobs freed.
  Result<int64_t> CollectOnce(bool startup);

 private:
  void Run();

  store::BlobStore* blobs_;
  store::BlobReferences* references_;
  store::BucketStore* uploads_;
  BlobCollectorOptions options_;
  const Clock* clock_;
  Counter* freed_total_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace argus::engine
