#pragma once

#include "store/store_registry.h"

namespace argus::store::sqlite {

/// Registers the SQLite backends under the name "sqlite": the metadata store, the event log, the
/// task queue, the webhook store and the blob store of small blobs (all durable, single process).
/// AlreadyExists when "sqlite" is registered already (a start-up error).
Status RegisterSqliteStores(StoreRegistry& registry);

}  // namespace argus::store::sqlite
