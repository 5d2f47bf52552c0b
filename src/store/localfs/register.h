#pragma once

#include "store/store_registry.h"

namespace argus::store::localfs {

/// Registers the local-files backends under the name "local": the blob store (durable, single
/// process, content-addressed). AlreadyExists when "local" is registered already (a start-up
/// error).
Status RegisterLocalFsStores(StoreRegistry& registry);

}  // namespace argus::store::localfs
