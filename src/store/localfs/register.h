#pragma once

#include "store/store_registry.h"

namespace argus::store::localfs {

/// Registers the local-files backends: the blob store "local" (durable, single process,
/// content-addressed) and the sync source "folder" (watchable; reads below syncs.allowed_roots).
/// AlreadyExists when either name is registered already (a start-up error).
Status RegisterLocalFsStores(StoreRegistry& registry);

}  // namespace argus::store::localfs
