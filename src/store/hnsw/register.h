#pragma once

#include "store/store_registry.h"

namespace argus::store::hnsw {

/// Registers the vector index "hnsw" (persistent, filtered). AlreadyExists when the name is
/// registered already (a start-up error).
Status RegisterHnswStores(StoreRegistry& registry);

}  // namespace argus::store::hnsw
