#include "server/register_all.h"

#include "store/localfs/register.h"
#include "store/s3/register.h"
#include "store/sqlite/register.h"

namespace argus::server {

Status RegisterAllStores(store::StoreRegistry& registry) {
  ARGUS_RETURN_IF_ERROR(store::sqlite::RegisterSqliteStores(registry));
  ARGUS_RETURN_IF_ERROR(store::localfs::RegisterLocalFsStores(registry));
  ARGUS_RETURN_IF_ERROR(store::s3::RegisterS3Stores(registry));
  return OkStatus();
}

}  // namespace argus::server
