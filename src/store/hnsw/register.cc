#include "store/hnsw/register.h"

#include "store/hnsw/hnsw_vector_index.h"

namespace argus::store::hnsw {

Status RegisterHnswStores(StoreRegistry& registry) {
  return registry.vector_index.Register("hnsw", {.persistent = true, .filtered = true},
                                        &HnswVectorIndex::Open);
}

}  // namespace argus::store::hnsw
