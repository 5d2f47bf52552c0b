#include "store/s3/register.h"

#include "store/s3/s3_blob_store.h"

namespace argus::store::s3 {

Status RegisterS3Stores(StoreRegistry& registry) {
  return registry.blobs.Register(
      "s3", {.durable = true, .multi_process = true, .content_addressed = true},
      &S3BlobStore::Create);
}

}  // namespace argus::store::s3
