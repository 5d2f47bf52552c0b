#pragma once

#include <memory>
#include <mutex>
#include <queue>
#include <shared_mutex>
#include <utility>
#include <vector>

#include "store/store_registry.h"
#include "store/vector_index.h"

namespace hnswlib {
template <typename T>
class HierarchicalNSW;
template <typename T>
class SpaceInterface;
}  // namespace hnswlib

namespace argus::store::hnsw {

/// VectorIndex on hnswlib 0.8 (docs/adr/0014-vector-index.md): HNSW graph and f32 vectors in
/// memory, saved to one file (with a `.meta.json` beside it naming the dimension and metric).
/// Deleted keys are tombstones whose slots later inserts reuse; the graph grows by doubling.
/// Thread-safe as the contract says: searches share a lock, writes hold it alone.
class HnswVectorIndex final : public VectorIndex {
 public:
  /// Opens args.path when it exists, else starts empty. FailedPrecondition when the file was
  /// made for another dimension or metric; DataLoss when it cannot be read (rebuild it from the
  /// documents' vectors); InvalidArgument for options out of range.
  static Result<std::unique_ptr<VectorIndex>> Open(const VectorIndexArgs& args);
  ~HnswVectorIndex() override;

  const VectorIndexOptions& options() const override { return args_.options; }
  Status Upsert(std::span<const uint64_t> keys, std::span<const float> vectors) override;
  Status Remove(std::span<const uint64_t> keys) override;
  Result<std::vector<VectorHit>> Search(const VectorQuery& query,
                                        VectorSearchStats* stats) const override;
  Result<std::vector<float>> Get(uint64_t key) const override;
  int64_t Size() const override;
  Status Save() override;

 private:
  using Graph = hnswlib::HierarchicalNSW<float>;
  HnswVectorIndex(VectorIndexArgs args, std::unique_ptr<hnswlib::SpaceInterface<float>> space,
                  std::unique_ptr<Graph> graph);

  /// The row as stored: normalised for cosine, encoded in the storage's bytes.
  std::vector<uint8_t> Prepared(std::span<const float> row) const;
  float Score(float distance) const;
  /// (distance, key) pairs, farthest on top: what hnswlib answers.
  using Farthest = std::priority_queue<std::pair<float, size_t>>;
  /// The k nearest of `found`, nearest first, scored.
  std::vector<VectorHit> NearestFirst(Farthest found, int k) const;
  /// The k nearest of `allowed`, by computing every distance. REQUIRES: mu_ held.
  std::vector<VectorHit> Exact(const void* query, int k,
                               const std::vector<uint64_t>& allowed) const;

  const VectorIndexArgs args_;
  std::unique_ptr<hnswlib::SpaceInterface<float>> space_;
  std::unique_ptr<Graph> graph_;
  // Writers go through the turnstile to take mu_ alone, so a steady stream of searches cannot
  // starve them (glibc's rwlock prefers readers); searches pass it on their way to mu_.
  // ReadLock / WriteLock take both in order.
  std::shared_lock<std::shared_mutex> ReadLock() const;
  std::unique_lock<std::shared_mutex> WriteLock() const;
  mutable std::mutex turnstile_;
  mutable std::shared_mutex mu_;
  std::mutex save_mu_;  // one Save at a time (they share the temporary file)
};

}  // namespace argus::store::hnsw
