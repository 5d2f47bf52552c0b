#pragma once

#include "store/store_registry.h"

namespace argus::store::s3 {

/// Registers the S3 backends under the name "s3": the blob store (durable, shared by several
/// processes, content-addressed), configured by `blobs.s3.*`, and the sync source (not
/// watchable; secret: secret_access_key), configured per sync. AlreadyExists when "s3" is
/// registered already in either registry (a start-up error).
Status RegisterS3Stores(StoreRegistry& registry);

}  // namespace argus::store::s3
