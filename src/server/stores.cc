#include "server/stores.h"

#include "server/register_all.h"

namespace argus::server {

void Stores::Close() {
  tasks.reset();
  catalog.reset();
  webhooks.reset();
  blobs.reset();
  events.reset();
  metadata.reset();
  bus.reset();
}

Result<Stores> OpenStores(const Config& config, const std::string& data_dir,
                          store::StoreRegistry& registry, MetricsRegistry* metrics) {
  Stores stores;
  ARGUS_ASSIGN_OR_RETURN(
      stores.bus, registry.event_bus.Create("inprocess", store::StoreArgs{&config, data_dir}));
  store::StoreArgs args{&config, data_dir, &SystemClock::Get(), stores.bus.get(), metrics};
  const std::string& metadata_backend = config.GetString("metadata.backend");
  ARGUS_ASSIGN_OR_RETURN(stores.metadata, registry.metadata.Create(metadata_backend, args));
  // The outbox lives with the metadata (events commit with the changes they report).
  ARGUS_ASSIGN_OR_RETURN(stores.events, registry.event_log.Create(metadata_backend, args));
  ARGUS_ASSIGN_OR_RETURN(stores.tasks,
                         registry.task_queue.Create(config.GetString("tasks.backend"), args));
  ARGUS_ASSIGN_OR_RETURN(stores.catalog,
                         registry.task_catalog.Create(config.GetString("tasks.backend"), args));
  ARGUS_ASSIGN_OR_RETURN(stores.webhooks,
                         registry.webhooks.Create(config.GetString("webhooks.backend"), args));
  ARGUS_ASSIGN_OR_RETURN(stores.blobs, CreateBlobStore(registry.blobs, config, args));
  return stores;
}

}  // namespace argus::server
