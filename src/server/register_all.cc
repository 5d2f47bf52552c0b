#include "server/register_all.h"

#include "store/localfs/register.h"
#include "store/sqlite/register.h"

namespace argus::server {

Status RegisterAllStores(store::StoreRegistry& registry) {
  ARGUS_RETURN_IF_ERROR(store::sqlite::RegisterSqliteStores(registry));
  ARGUS_RETURN_IF_ERROR(store::localfs::RegisterLocalFsStores(registry));
  return OkStatus();
}

}  // namespace argus::server
