#include "store/sqlite/register.h"

#include "store/sqlite/sqlite_blob_store.h"
#include "store/sqlite/sqlite_event_log.h"
#include "store/sqlite/sqlite_metadata_store.h"
#include "store/sqlite/sqlite_task_catalog.h"
#include "store/sqlite/sqlite_task_queue.h"
#include "store/sqlite/sqlite_webhook_store.h"

namespace argus::store::sqlite {

Status RegisterSqliteStores(StoreRegistry& registry) {
  ARGUS_RETURN_IF_ERROR(registry.metadata.Register(
      "sqlite", {.durable = true, .multi_process = false}, &SqliteMetadataStore::Create));
  ARGUS_RETURN_IF_ERROR(registry.event_log.Register(
      "sqlite", {.durable = true, .multi_process = false}, &SqliteEventLog::Create));
  ARGUS_RETURN_IF_ERROR(registry.task_queue.Register(
      "sqlite", {.durable = true, .multi_process = false}, &SqliteTaskQueue::Create));
  ARGUS_RETURN_IF_ERROR(registry.task_catalog.Register(
      "sqlite", {.durable = true, .multi_process = false}, &SqliteTaskCatalog::Create));
  ARGUS_RETURN_IF_ERROR(
      registry.blobs.Register("sqlite", SqliteBlobStore::Capabilities(), &SqliteBlobStore::Create));
  return registry.webhooks.Register("sqlite", {.durable = true, .multi_process = false},
                                    &SqliteWebhookStore::Create);
}

}  // namespace argus::store::sqlite
