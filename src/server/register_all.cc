#include "server/register_all.h"

#include "store/inprocess/register.h"
#include "store/localfs/register.h"
#include "store/s3/register.h"
#include "store/sqlite/register.h"

namespace argus::server {

Status RegisterAllStores(store::StoreRegistry& registry) {
  ARGUS_RETURN_IF_ERROR(store::sqlite::RegisterSqliteStores(registry));
  ARGUS_RETURN_IF_ERROR(store::localfs::RegisterLocalFsStores(registry));
  ARGUS_RETURN_IF_ERROR(store::s3::RegisterS3Stores(registry));
  ARGUS_RETURN_IF_ERROR(store::inprocess::RegisterInProcessStores(registry));
  return OkStatus();
}

std::vector<std::string> HostWarnings(const store::StoreRegistry& registry) {
  std::vector<std::string> out;
  for (const std::string& name : registry.sources.Names()) {
    auto caps = registry.sources.CapabilitiesOf(name);
    if (!caps.ok()) continue;  // a name Names() just returned is registered
    for (const std::string& w : caps->host_warnings) out.push_back("source '" + name + "': " + w);
  }
  return out;
}

}  // namespace argus::server
