// The stores `argus serve` runs on, opened from the configuration's *.backend keys.
#pragma once

#include <memory>
#include <string>

#include "core/config.h"
#include "core/metrics.h"
#include "core/result.h"
#include "store/blob_store.h"
#include "store/event_bus.h"
#include "store/event_log.h"
#include "store/metadata_store.h"
#include "store/store_registry.h"
#include "store/task_catalog.h"
#include "store/task_queue.h"
#include "store/webhook_store.h"

namespace argus::server {

/// Owns the stores; Close() (or the destructor) closes them in order, the bus last: the stores
/// publish the events they commit to it until they close.
struct Stores {
  Stores() = default;
  Stores(Stores&&) = default;
  Stores& operator=(Stores&&) = default;
  ~Stores() { Close(); }
  void Close();

  std::unique_ptr<store::EventBus> bus;
  std::unique_ptr<store::MetadataStore> metadata;
  std::unique_ptr<store::EventLog> events;  ///< the outbox, in the metadata's database
  std::unique_ptr<store::TaskQueue> tasks;
  std::unique_ptr<store::TaskCatalog> catalog;  ///< beside the task queue
  std::unique_ptr<store::WebhookStore> webhooks;
  std::unique_ptr<store::BlobStore> blobs;
};

/// Opens the bus first (every store publishes to it), then the metadata with its outbox, the
/// task queue, the webhook store and the blob store. `registry` and `metrics` are borrowed and
/// outlive the stores.
Result<Stores> OpenStores(const Config& config, const std::string& data_dir,
                          store::StoreRegistry& registry, MetricsRegistry* metrics);

}  // namespace argus::server
