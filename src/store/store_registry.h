#pragma once

#include <memory>
#include <string>

#include "core/clock.h"
#include "core/config.h"
#include "core/metrics.h"
#include "core/registry.h"
#include "store/blob_store.h"
#include "store/event_bus.h"
#include "store/event_log.h"
#include "store/metadata_store.h"
#include "store/object_source.h"
#include "store/task_catalog.h"
#include "store/task_queue.h"
#include "store/vector_index.h"
#include "store/webhook_store.h"

namespace argus::store {

/// What a backend factory gets: the configuration, the server's data directory and the clock.
/// Pointers are borrowed and outlive the created store.
struct StoreArgs {
  const Config* config = nullptr;
  std::string data_dir;
  const Clock* clock = &SystemClock::Get();
  /// Where stores publish the events they commit (null: nobody listens live).
  EventBus* event_bus = nullptr;
  /// Where backends export their own metrics (null: none).
  MetricsRegistry* metrics = nullptr;
};

/// What callers may rely on from a metadata backend.
struct MetadataStoreCapabilities {
  bool durable = true;         ///< acknowledged writes survive kill -9
  bool multi_process = false;  ///< several argus processes may share it
};

using MetadataStoreRegistry = Registry<MetadataStore, StoreArgs, MetadataStoreCapabilities>;

/// What callers may rely on from a task queue backend.
struct TaskQueueCapabilities {
  bool durable = true;         ///< acknowledged tasks survive kill -9
  bool multi_process = false;  ///< workers in other processes may lease from it directly
};

using TaskQueueRegistry = Registry<TaskQueue, StoreArgs, TaskQueueCapabilities>;

/// What callers may rely on from a task catalog backend. It is created with tasks.backend: the
/// workers that lease from a queue publish to the catalog beside it.
struct TaskCatalogCapabilities {
  bool durable = true;         ///< published kinds and registrations survive kill -9
  bool multi_process = false;  ///< an API process may read what workers elsewhere published
};

using TaskCatalogRegistry = Registry<TaskCatalog, StoreArgs, TaskCatalogCapabilities>;

/// What callers may rely on from a webhook store backend.
struct WebhookStoreCapabilities {
  bool durable = true;         ///< acknowledged subscriptions and deliveries survive kill -9
  bool multi_process = false;  ///< several argus processes may dispatch from it
};

using WebhookStoreRegistry = Registry<WebhookStore, StoreArgs, WebhookStoreCapabilities>;

/// What callers may rely on from an event log backend. It shares its database with the
/// metadata store and task queue of the same name (events commit with the changes they report),
/// so it is created with metadata.backend.
struct EventLogCapabilities {
  bool durable = true;         ///< acknowledged events survive kill -9
  bool multi_process = false;  ///< several argus processes may append and read
};

using EventLogRegistry = Registry<EventLog, StoreArgs, EventLogCapabilities>;

/// What callers may rely on from an event bus backend.
struct EventBusCapabilities {
  bool multi_process = false;  ///< reaches subscribers in other argus processes
};

using EventBusRegistry = Registry<EventBus, StoreArgs, EventBusCapabilities>;

/// What callers may rely on from a blob store backend.
struct BlobStoreCapabilities {
  bool durable = true;            ///< committed blobs survive kill -9
  bool multi_process = false;     ///< several argus processes may share it
  bool content_addressed = true;  ///< a blob's name is the SHA-256 of its bytes
  /// The largest blob it can store (0: no limit of its own). S3 publishes a blob with one
  /// CopyObject, which stops at 5 GiB.
  int64_t max_blob_bytes = 0;
};

using BlobStoreRegistry = Registry<BlobStore, StoreArgs, BlobStoreCapabilities>;

/// One registry per store contract, filled by server/register_all.cc.
/// What a vector index factory gets: its file (opened when it exists, else created on the first
/// Save) and its options.
struct VectorIndexArgs {
  std::string path;
  VectorIndexOptions options;
  /// A new, empty index even when a file exists at `path` (its first Save replaces the file):
  /// a rebuild while the index of that file still serves searches.
  bool fresh = false;
};

/// What callers may rely on from a vector index backend.
struct VectorIndexCapabilities {
  bool persistent = true;  ///< Save writes a file that a later Open reads
  bool filtered = true;    ///< searches take an allow-list
};

using VectorIndexRegistry = Registry<VectorIndex, VectorIndexArgs, VectorIndexCapabilities>;

struct StoreRegistry {
  MetadataStoreRegistry metadata;
  TaskQueueRegistry task_queue;
  TaskCatalogRegistry task_catalog;
  WebhookStoreRegistry webhooks;
  EventLogRegistry event_log;
  EventBusRegistry event_bus;  ///< "inprocess"
  BlobStoreRegistry blobs;
  ObjectSourceRegistry sources;      ///< sync sources: "folder", "s3"
  VectorIndexRegistry vector_index;  ///< "hnsw"
};

}  // namespace argus::store
