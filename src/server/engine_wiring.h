// The engine half of `argus serve`: what runs tasks, delivers webhooks, frees blobs, runs syncs
// and serves models, wired on the stores. The API half is api_wiring.h.
#pragma once

#include <chrono>
#include <memory>

#include "core/config.h"
#include "core/metrics.h"
#include "core/result.h"
#include "domain/object_ingest.h"
#include "engine/blobs/blob_collector.h"
#include "engine/collections/auto_processor.h"
#include "engine/collections/batch_tracker.h"
#include "engine/syncs/sync_runner.h"
#include "engine/syncs/sync_scheduler.h"
#include "engine/uploads/upload_completer.h"
#include "engine/webhooks/webhook_dispatcher.h"
#include "engine/worker/task_kinds.h"
#include "engine/worker/worker_pool.h"
#include "engine/worker/worker_registrar.h"
#include "server/stores.h"
#include "store/inference_service.h"
#include "store/store_registry.h"

namespace argus::server {

/// The started engine. Start wires and starts its parts in order; Stop stops them in the order
/// that lets each finish what it holds (models first, while the API still answers; workers
/// before the registrar that reports them; the dispatcher and the collector last). The stores,
/// the registry and the metrics are borrowed and outlive it. Start and Stop from one thread.
class Engine {
 public:
  static Result<std::unique_ptr<Engine>> Start(const Config& config, Stores& stores,
                                               store::StoreRegistry& registry,
                                               MetricsRegistry& metrics);
  ~Engine();

  /// `drain`: how long running tasks may take to finish.
  void Stop(std::chrono::milliseconds drain);

  // What the API half is configured with.
  const engine::DispatcherOptions& dispatcher_options() const { return dispatcher_options_; }
  const domain::IngestContext& ingest() const { return ingest_; }
  const engine::SyncRunOptions& sync_options() const { return sync_options_; }
  /// The models and extractors (null when built without ONNX Runtime).
  store::InferenceService* inference() const { return inference_.get(); }

 private:
  Engine() = default;

  engine::DispatcherOptions dispatcher_options_;
  domain::IngestContext ingest_;
  engine::SyncRunOptions sync_options_;
  engine::TaskKindRegistry kinds_;
  std::unique_ptr<engine::WebhookDispatcher> dispatcher_;
  std::unique_ptr<engine::BlobCollector> collector_;
  std::unique_ptr<engine::SyncRunner> sync_runner_;
  std::unique_ptr<engine::UploadCompleter> upload_completer_;
  std::unique_ptr<engine::WorkerPool> workers_;
  std::unique_ptr<engine::WorkerRegistrar> registrar_;
  std::unique_ptr<engine::SyncScheduler> sync_scheduler_;
  std::unique_ptr<engine::AutoProcessor> auto_processor_;
  std::unique_ptr<engine::BatchTracker> batch_tracker_;
  std::unique_ptr<store::InferenceService> inference_;
  bool stopped_ = false;
};

}  // namespace argus::server
