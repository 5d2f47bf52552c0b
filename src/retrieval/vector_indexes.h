// The vector indexes of the collections, one per (collection, feature), kept in step with the
// documents: before each search an index applies the journal of vector changes it has not seen
// (store/document_store.h), so a search sees every document written before it started.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"
#include "store/document_store.h"
#include "store/store_registry.h"
#include "store/vector_index.h"

namespace argus::retrieval {

/// Which index: a collection's feature, with its shape.
struct IndexKey {
  std::string collection_id;
  std::string feature;  ///< "image_embedding@2/embedding"
  int dimension = 0;
  store::VectorMetric metric = store::VectorMetric::kCosine;
};

/// Opens each index on first use (backend `backend` of the registry) and replays the journal
/// into it; an index lives in memory until Forget. The vectors themselves stay in the document
/// store, so an index is rebuilt from them after a restart without re-running any extractor.
/// Thread-safe: searches of one index share it; catching up takes it alone for the writes.
class VectorIndexes {
 public:
  VectorIndexes(store::DocumentStore* documents, const store::VectorIndexRegistry* registry,
                std::string backend = "hnsw");

  /// The k nearest documents' keys (and scores) of the feature, caught up first.
  Result<std::vector<store::VectorHit>> Search(const IndexKey& key, const store::VectorQuery& query,
                                               store::VectorSearchStats* stats = nullptr);
  /// Drops the collection's indexes (it was deleted).
  void Forget(const std::string& collection_id);

 private:
  struct Entry {
    std::mutex mu;  // one catch-up at a time
    std::unique_ptr<store::VectorIndex> index;
    int64_t seq = 0;  // the last journal entry applied
  };
  Result<std::shared_ptr<Entry>> Open(const IndexKey& key);
  Status CatchUp(const IndexKey& key, Entry& entry);

  store::DocumentStore* documents_;
  const store::VectorIndexRegistry* registry_;
  const std::string backend_;
  std::mutex mu_;
  std::map<std::pair<std::string, std::string>, std::shared_ptr<Entry>> entries_;  // GUARDED_BY
};

}  // namespace argus::retrieval
