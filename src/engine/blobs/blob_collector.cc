#include "engine/blobs/blob_collector.h"

#include <exception>

#include "core/log.h"
#include "core/thread_name.h"

namespace argus::engine {

BlobCollector::BlobCollector(store::BlobStore* blobs, store::BlobReferences* references,
                             store::BucketStore* uploads, BlobCollectorOptions options,
                             const Clock* clock, MetricsRegistry* metrics)
    : blobs_(blobs), references_(references), uploads_(uploads), options_(options), clock_(clock) {
  freed_total_ = &metrics
                      ->AddCounter("argus_blobs_freed_total",
                                   "Stored blobs freed because no object refers to them.")
                      .WithLabels({});
}

BlobCollector::~BlobCollector() { Stop(); }

void BlobCollector::Start() {
  auto first = CollectOnce(/*startup=*/true);
  if (!first.ok()) {
    log::Warn("blob collection at start-up failed", {{"error", first.status().ToString()}});
  }
  thread_ = std::thread([this] {
    SetThreadName("argus-collector");
    Run();
  });
}

void BlobCollector::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Result<int64_t> BlobCollector::CollectOnce(bool startup) {
  const TimestampUs now = clock_->NowUs();
  // At start-up no upload is in flight: every temporary is left over from the previous run.
  const TimestampUs temp_before =
      startup ? now + 1 : now - static_cast<TimestampUs>(options_.temporary_age_s * 1e6);
  ARGUS_ASSIGN_OR_RETURN(int64_t temps, blobs_->CleanTemporary(temp_before));
  // Resumable uploads left unfinished: their parts become unreferenced and go below.
  ARGUS_ASSIGN_OR_RETURN(int64_t expired, uploads_->DeleteExpiredUploads(now));
  const TimestampUs unused_before = now - static_cast<TimestampUs>(options_.grace_s * 1e6);
  int64_t freed = 0;
  std::string after;
  for (;;) {
    ARGUS_ASSIGN_OR_RETURN(auto page, blobs_->List(after, 1000));
    if (page.empty()) break;
    for (const auto& blob : page) {
      // last_used was read from the listing and may be stale by now: it only spares recently
      // used blobs (the grace). Whether the blob may go is decided, and its writers are held
      // off, inside DeleteBlobIfUnreferenced (ADR 0007). Its derived-blob records go there too:
      // as a source, its thumbnails are unreferenced from then on and go in a later pass (or
      // this one).
      if (blob.last_used >= unused_before) continue;
      ARGUS_ASSIGN_OR_RETURN(bool deleted, references_->DeleteBlobIfUnreferenced(blob.sha256, [&] {
        return blobs_->Delete(blob.sha256);
      }));
      if (deleted) ++freed;
    }
    after = page.back().sha256;
    std::lock_guard lock(mu_);
    if (stopping_) break;
  }
  freed_total_->Inc(static_cast<double>(freed));
  if (freed > 0 || temps > 0 || expired > 0) {
    log::Info(
        "blob collection",
        {{"blobs_freed", freed}, {"temporaries_removed", temps}, {"uploads_expired", expired}});
  }
  return freed;
}

void BlobCollector::Run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, std::chrono::duration<double>(options_.interval_s),
                 [this] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    try {
      auto r = CollectOnce(/*startup=*/false);
      if (!r.ok()) log::Warn("blob collection failed", {{"error", r.status().ToString()}});
    } catch (const std::exception& e) {
      log::Error("blob collection threw; the collector goes on", {{"error", e.what()}});
    }
    lock.lock();
  }
}

}  // namespace argus::engine
