#include "server/register_all.h"

#include "store/hnsw/register.h"
#include "store/inprocess/register.h"
#include "store/localfs/register.h"
#include "store/s3/register.h"
#include "store/sqlite/register.h"
#include "store/tiered_blob_store.h"

namespace argus::server {

Status RegisterAllStores(store::StoreRegistry& registry) {
  ARGUS_RETURN_IF_ERROR(store::sqlite::RegisterSqliteStores(registry));
  ARGUS_RETURN_IF_ERROR(store::localfs::RegisterLocalFsStores(registry));
  ARGUS_RETURN_IF_ERROR(store::s3::RegisterS3Stores(registry));
  ARGUS_RETURN_IF_ERROR(store::inprocess::RegisterInProcessStores(registry));
  ARGUS_RETURN_IF_ERROR(store::hnsw::RegisterHnswStores(registry));
  return OkStatus();
}

Result<std::unique_ptr<store::BlobStore>> CreateBlobStore(const store::BlobStoreRegistry& blobs,
                                                          const Config& config,
                                                          const store::StoreArgs& args) {
  const std::string backend = config.GetString("blobs.backend");
  const int64_t small_max = config.GetInt("blobs.small_blob_bytes");
  ARGUS_ASSIGN_OR_RETURN(store::BlobStoreCapabilities small_caps, blobs.CapabilitiesOf("sqlite"));
  if (small_max < 0 || small_max > small_caps.max_blob_bytes) {
    return InvalidArgumentError("blobs.small_blob_bytes must be between 0 and " +
                                std::to_string(small_caps.max_blob_bytes) + ", not " +
                                std::to_string(small_max));
  }
  ARGUS_ASSIGN_OR_RETURN(auto chosen, blobs.Create(backend, args));
  if (backend != "local" || small_max == 0) return chosen;
  ARGUS_ASSIGN_OR_RETURN(auto small, blobs.Create("sqlite", args));
  return std::unique_ptr<store::BlobStore>(
      new store::TieredBlobStore(std::move(small), std::move(chosen), small_max));
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
