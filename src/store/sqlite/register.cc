#include "store/sqlite/register.h"

#include "store/sqlite/sqlite_metadata_store.h"
#include "store/sqlite/sqlite_task_queue.h"

namespace argus::store::sqlite {

Status RegisterSqliteStores(StoreRegistry& registry) {
  ARGUS_RETURN_IF_ERROR(registry.metadata.Register(
      "sqlite", {.durable = true, .multi_process = false}, &SqliteMetadataStore::Create));
  return registry.task_queue.Register("sqlite", {.durable = true, .multi_process = false},
                                      &SqliteTaskQueue::Create);
}

}  // namespace argus::store::sqlite
