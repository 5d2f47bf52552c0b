#include "retrieval/vector_indexes.h"

#include <set>

namespace argus::retrieval {

namespace {
constexpr int kJournalPage = 10000;
}  // namespace

VectorIndexes::VectorIndexes(store::DocumentStore* documents,
                             const store::VectorIndexRegistry* registry, std::string backend)
    : documents_(documents), registry_(registry), backend_(std::move(backend)) {}

Result<std::shared_ptr<VectorIndexes::Entry>> VectorIndexes::Open(const IndexKey& key) {
  std::lock_guard lock(mu_);
  auto& slot = entries_[{key.collection_id, key.feature}];
  if (slot != nullptr) {
    if (slot->index->options().dimension != key.dimension) {
      return FailedPreconditionError("feature '" + key.feature + "' changed its dimension");
    }
    return slot;
  }
  auto entry = std::make_shared<Entry>();
  ARGUS_ASSIGN_OR_RETURN(
      entry->index,
      registry_->Create(
          backend_, {.path = "", .options = {.dimension = key.dimension, .metric = key.metric}}));
  slot = entry;
  return entry;
}

Status VectorIndexes::CatchUp(const IndexKey& key, Entry& entry) {
  std::lock_guard lock(entry.mu);
  for (;;) {
    ARGUS_ASSIGN_OR_RETURN(
        auto changes, documents_->VectorChangesSince(key.collection_id, entry.seq, kJournalPage));
    if (changes.empty()) return OkStatus();
    // Only the last change of each key matters: remove it, or take its current vector.
    std::map<uint64_t, bool> last;  // key → removed
    for (const auto& c : changes) {
      if (c.feature == key.feature) last[c.key] = c.removed;
    }
    std::vector<uint64_t> removed, present;
    for (const auto& [k, gone] : last) (gone ? removed : present).push_back(k);
    ARGUS_RETURN_IF_ERROR(entry.index->Remove(removed));
    ARGUS_ASSIGN_OR_RETURN(auto vectors,
                           documents_->ReadVectors(key.collection_id, key.feature, present));
    std::vector<uint64_t> keys;
    std::vector<float> values;
    std::set<uint64_t> found;
    for (auto& [k, v] : vectors) {
      // A vector the index cannot take (another shape, all zeros for cosine) is left out
      // rather than keeping every other document of the collection from being searched.
      const uint64_t one[] = {k};
      if (!store::CheckVectors(one, v, entry.index->options()).ok()) continue;
      keys.push_back(k);
      found.insert(k);
      values.insert(values.end(), v.begin(), v.end());
    }
    // Written and deleted again after this page was read: gone from the index too.
    std::vector<uint64_t> vanished;
    for (uint64_t k : present) {
      if (!found.count(k)) vanished.push_back(k);
    }
    ARGUS_RETURN_IF_ERROR(entry.index->Remove(vanished));
    ARGUS_RETURN_IF_ERROR(entry.index->Upsert(keys, values));
    entry.seq = changes.back().seq;
    if (static_cast<int>(changes.size()) < kJournalPage) return OkStatus();
  }
}

Result<std::vector<store::VectorHit>> VectorIndexes::Search(const IndexKey& key,
                                                            const store::VectorQuery& query,
                                                            store::VectorSearchStats* stats) {
  ARGUS_ASSIGN_OR_RETURN(auto entry, Open(key));
  ARGUS_RETURN_IF_ERROR(CatchUp(key, *entry));
  return entry->index->Search(query, stats);
}

void VectorIndexes::Forget(const std::string& collection_id) {
  std::lock_guard lock(mu_);
  for (auto it = entries_.begin(); it != entries_.end();) {
    it = it->first.first == collection_id ? entries_.erase(it) : std::next(it);
  }
}

}  // namespace argus::retrieval
