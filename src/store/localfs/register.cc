#include "store/localfs/register.h"

#include "store/localfs/folder_source.h"
#include "store/localfs/local_blob_store.h"

namespace argus::store::localfs {

Status RegisterLocalFsStores(StoreRegistry& registry) {
  ARGUS_RETURN_IF_ERROR(registry.blobs.Register(
      "local", {.durable = true, .multi_process = false, .content_addressed = true},
      &LocalBlobStore::Create));
  return registry.sources.Register("folder", FolderSource::Capabilities(), &FolderSource::Create);
}

}  // namespace argus::store::localfs
