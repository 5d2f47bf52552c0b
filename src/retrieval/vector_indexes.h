// The vector indexes of the collections, one per (collection, feature), kept in step with the
// documents: before each search an index applies the journal of vector changes it has not seen
// (store/document_store.h), so a search sees every document written before it started.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
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
  /// How the index stores the vectors. A search over i8 re-ranks its candidates with the stored
  /// f32 vectors; an open index asked for with another storage is rebuilt with it.
  store::VectorStorage storage = store::VectorStorage::kF32;
};

struct VectorIndexesOptions {
  /// Where index files are saved, one folder per collection; "" keeps indexes in memory only
  /// (rebuilt from the stored vectors on first use after a restart).
  std::string directory;
  std::string backend = "hnsw";
  /// How often the maintenance thread applies new journal entries, so a search after a large
  /// batch does not pay for indexing it.
  std::chrono::milliseconds catch_up_interval{500};
  /// How often an index that changed is saved (and the journal before it trimmed).
  std::chrono::milliseconds save_interval{60000};
  /// Every feature of every collection, so the maintenance thread opens and fills indexes no
  /// search has asked for yet (a new collection's first search then finds it built), and drops
  /// (files included) those missing from two listings in a row: a collection deleted by another
  /// process or before a crash, a feature its collection no longer has. Called every
  /// `discover_interval`. Unset: indexes open on first search only and stay until Forget.
  std::function<Result<std::vector<IndexKey>>()> list_features;
  std::chrono::milliseconds discover_interval{5000};
};

/// What one open index holds, for metrics and tests.
struct IndexState {
  IndexKey key;
  int64_t size = 0;        ///< live vectors
  int64_t seq = 0;         ///< the last journal entry applied
  int64_t saved_seq = -1;  ///< the seq its file holds (-1: no file)
  bool rebuilt = false;    ///< built from the stored vectors on open (no usable file)
};

/// Opens each index on first use (backend `backend` of the registry) from its file when there
/// is one (and the journal from the file's seq on is still there), else builds it from the
/// stored vectors; then applies the journal. The vectors stay in the document store, so an index
/// is rebuilt from them, never re-extracted; a saved file only makes the reopen fast.
///
/// Files: <directory>/<collection id>/<feature, escaped>.index, the backend's sidecars, and
/// `.state.json` naming the feature, its shape and the journal seq the file holds. The state is
/// written after the index file, so a crash between leaves an older seq: replaying changes the
/// index holds already is harmless (upserts replace, removals of absent keys are ignored).
///
/// Thread-safe: searches of one index share it; catching up takes it alone for the writes; a
/// save lets searches go on (a catch-up waits for it).
class VectorIndexes {
 public:
  VectorIndexes(store::DocumentStore* documents, const store::VectorIndexRegistry* registry,
                VectorIndexesOptions options = {});
  ~VectorIndexes();  ///< stops the maintenance thread without saving (Stop saves)

  /// The k nearest documents' keys (and scores) of the feature, caught up first.
  Result<std::vector<store::VectorHit>> Search(const IndexKey& key, const store::VectorQuery& query,
                                               store::VectorSearchStats* stats = nullptr);
  /// Drops the collection's indexes and their files (it was deleted).
  void Forget(const std::string& collection_id);

  /// Opens every index saved in the directory (so their journals are kept, not trimmed past
  /// them), then starts the thread that catches every open index up and saves those changed.
  /// Errors of single indexes are logged, not returned: a bad file is rebuilt on first use.
  void Start();
  /// Stops the thread and saves every index changed since its last save.
  Status Stop();
  /// One round of the thread: opens the indexes of `list_features` not open yet when
  /// `discover`, catches every open index up and, when `save`, saves those that changed and
  /// trims each collection's journal through the oldest seq its files hold.
  Status Maintain(bool save, bool discover = false);
  std::vector<IndexState> States();

 private:
  struct Entry {
    IndexKey key;
    std::string path;                           // "" in memory only
    std::mutex mu;                              // one catch-up (or rebuild) at a time
    std::shared_ptr<store::VectorIndex> index;  // GUARDED_BY(mu); searches hold a copy
    int64_t seq = 0;                            // GUARDED_BY(mu)
    int64_t saved_seq = -1;                     // GUARDED_BY(mu)
    bool rebuilt = false;                       // GUARDED_BY(mu)
    /// Another storage asked for: the maintenance thread builds it while `index` serves.
    std::optional<store::VectorStorage> wanted_storage;  // GUARDED_BY(mu)
    int unlisted = 0;  // discovery rounds in a row that did not list it; GUARDED_BY(mu_)
  };
  /// Drops the entries `listed` lacks for the second round in a row, and their files.
  void Prune(const std::vector<IndexKey>& listed);
  Result<std::shared_ptr<Entry>> Open(const IndexKey& key);
  /// Applies the journal after entry.seq; rebuilds when it was trimmed past it.
  /// Returns the index to search. REQUIRES: entry.mu held.
  Status CatchUp(Entry& entry);
  /// A new index of the entry's key, filled from the stored vectors. REQUIRES: entry.mu held.
  Status Rebuild(Entry& entry);
  /// A new index of `key` at `path` (`fresh`: beside the file there), filled from the stored
  /// vectors; `head` is the journal seq it holds everything up to.
  Result<std::unique_ptr<store::VectorIndex>> Build(const IndexKey& key, const std::string& path,
                                                    bool fresh, int64_t* head);
  /// Builds the entry's index again with its wanted storage, without holding entry.mu (the old
  /// one serves searches meanwhile), and swaps it in.
  Status ChangeStorage(Entry& entry);
  Status Save(Entry& entry);
  std::string PathOf(const IndexKey& key) const;
  void OpenSaved();
  void Run();

  store::DocumentStore* documents_;
  const store::VectorIndexRegistry* registry_;
  const VectorIndexesOptions options_;
  std::mutex mu_;
  std::map<std::pair<std::string, std::string>, std::shared_ptr<Entry>> entries_;  // GUARDED_BY

  std::mutex run_mu_;
  std::condition_variable wake_;
  bool stopping_ = false;  // GUARDED_BY(run_mu_)
  std::thread thread_;
};

}  // namespace argus::retrieval
