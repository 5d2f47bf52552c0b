#include "store/localfs/register.h"

#include "store/localfs/local_blob_store.h"

namespace argus::store::localfs {

Status RegisterLocalFsStores(StoreRegistry& registry) {
  return registry.blobs.Register(
      "local", {.durable = true, .multi_process = false, .content_addressed = true},
      &LocalBlobStore::Create);
}

}  // namespace argus::store::localfs
