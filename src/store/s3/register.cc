#include "store/s3/register.h"

#include "store/s3/s3_blob_store.h"
#include "store/s3/s3_source.h"

namespace argus::store::s3 {

Status RegisterS3Stores(StoreRegistry& registry) {
  ARGUS_RETURN_IF_ERROR(registry.blobs.Register("s3",
                                                {.durable = true,
                                                 .multi_process = true,
                                                 .content_addressed = true,
                                                 .max_blob_bytes = int64_t{5} << 30},
                                                &S3BlobStore::Create, &S3BlobStore::Validate));
  return registry.sources.Register("s3", S3Source::Capabilities(), &S3Source::Create);
}

}  // namespace argus::store::s3
