#pragma once

#include "store/store_registry.h"

namespace argus::store::s3 {

/// Registers the S3 backends under the name "s3": the blob store (durable, shared by several
/// processes, content-addressed), configured by `blobs.s3.*`. AlreadyExists when "s3" is
/// registered already (a start-up error).
Status RegisterS3Stores(StoreRegistry& registry);

}  // namespace argus::store::s3
