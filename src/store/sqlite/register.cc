#include "store/sqlite/register.h"

#include "store/sqlite/sqlite_metadata_store.h"

namespace argus::store::sqlite {

Status RegisterSqliteStores(StoreRegistry& registry) {
  return registry.metadata.Register("sqlite", {.durable = true, .multi_process = false},
                                    &SqliteMetadataStore::Create);
}

}  // namespace argus::store::sqlite
