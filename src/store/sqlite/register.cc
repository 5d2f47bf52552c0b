#include "store/sqlite/register.h"

#include "store/sqlite/sqlite_blob_store.h"
#include "store/sqlite/sqlite_event_log.h"
#include "store/sqlite/sqlite_metadata_store.h"
#include "store/sqlite/sqlite_task_catalog.h"
#include "store/sqlite/sqlite_task_queue.h"
#include "store/sqlite/sqlite_webhook_store.h"

namespace argus::store::sqlite {
namespace {

// Every SQLite store opens the same metadata.db with the same settings: one validator for all.
Status ValidateSqlite(const StoreArgs& args) {
  if (args.data_dir.empty()) {
    return InvalidArgumentError("server.data_dir is empty: name the directory for metadata.db");
  }
  if (args.config == nullptr) return OkStatus();  // the defaults
  return SqliteOptionsFromConfig(*args.config).status();
}

}  // namespace

Status RegisterSqliteStores(StoreRegistry& registry) {
  ARGUS_RETURN_IF_ERROR(registry.metadata.Register("sqlite",
                                                   {.durable = true, .multi_process = false},
                                                   &SqliteMetadataStore::Create, &ValidateSqlite));
  ARGUS_RETURN_IF_ERROR(registry.event_log.Register("sqlite",
                                                    {.durable = true, .multi_process = false},
                                                    &SqliteEventLog::Create, &ValidateSqlite));
  ARGUS_RETURN_IF_ERROR(registry.task_queue.Register("sqlite",
                                                     {.durable = true, .multi_process = false},
                                                     &SqliteTaskQueue::Create, &ValidateSqlite));
  ARGUS_RETURN_IF_ERROR(
      registry.task_catalog.Register("sqlite", {.durable = true, .multi_process = false},
                                     &SqliteTaskCatalog::Create, &ValidateSqlite));
  ARGUS_RETURN_IF_ERROR(registry.blobs.Register("sqlite", SqliteBlobStore::Capabilities(),
                                                &SqliteBlobStore::Create, &ValidateSqlite));
  return registry.webhooks.Register("sqlite", {.durable = true, .multi_process = false},
                                    &SqliteWebhookStore::Create, &ValidateSqlite);
}

}  // namespace argus::store::sqlite
