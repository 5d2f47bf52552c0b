// The vector index contract: one index per (collection, feature address), keyed by the
// documents' integer keys, answering k-nearest-neighbour searches with or without a filter.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace argus::store {

enum class VectorMetric {
  kCosine,        ///< vectors are normalised on the way in; score = cosine similarity
  kInnerProduct,  ///< score = dot product
  kL2,            ///< score = -(squared Euclidean distance), so higher is nearer for every metric
};
std::string_view VectorMetricName(VectorMetric metric);
/// "cosine", "ip" or "l2"; InvalidArgument otherwise.
Result<VectorMetric> ParseVectorMetric(std::string_view name);

/// How an index stores its vectors: f32 as given, f16 (half the bytes; about 3 significant
/// digits), or i8 (a quarter; cosine only: normalised components scaled by 127). Queries are
/// encoded the same way, so scores keep their meaning with a small error.
enum class VectorStorage { kF32, kF16, kI8 };
std::string_view VectorStorageName(VectorStorage storage);
/// "f32", "f16" or "i8"; InvalidArgument otherwise.
Result<VectorStorage> ParseVectorStorage(std::string_view name);

struct VectorIndexOptions {
  int dimension = 0;
  VectorMetric metric = VectorMetric::kCosine;
  VectorStorage storage = VectorStorage::kF32;
  int m = 16;  ///< graph degree
  int ef_construction = 200;
  int ef_search = 64;  ///< the search beam when a query names none
  /// The planner's price of a filtered graph search in distance computations per beam slot
  /// and unit of 1/selectivity (each node the walk expands computes up to 2m distances); an
  /// exact scan costs one per allowed key (ExactScanLimit). Calibrated by bench/vector.
  double exact_scan_weight = 8;
};

/// One answer: the key and its score (higher is nearer, see VectorMetric).
struct VectorHit {
  uint64_t key = 0;
  float score = 0;
};

/// The plan a search ran, for statistics and explain.
enum class VectorPlan {
  kGraph,          ///< the graph, no filter
  kFilteredGraph,  ///< the graph, skipping keys outside the filter, with a wider beam
  kExact,          ///< a scan of the filter's keys (few of them)
  kExactFallback,  ///< the graph returned fewer than k: the scan answered instead
};
std::string_view VectorPlanName(VectorPlan plan);

struct VectorSearchStats {
  VectorPlan plan = VectorPlan::kGraph;
  int64_t allowed = -1;  ///< keys the filter allows (-1: no filter)
  int beam = 0;          ///< the graph search's beam (0 for a scan)
};

/// A search's bounds: k results, optionally only among `allowed` (sorted ascending, unique: the
/// keys a payload filter selected).
struct VectorQuery {
  std::span<const float> vector;
  int k = 10;
  int ef = 0;  ///< 0: options().ef_search
  const std::vector<uint64_t>* allowed = nullptr;
};

/// An approximate nearest-neighbour index. The planner picks an exact scan of the allowed keys
/// when there are few of them (estimated cost below the graph's), a filtered graph search
/// otherwise, and falls back to the scan when the graph finds fewer than k of the allowed keys,
/// so a filtered search keeps its recall at every selectivity.
///
/// Thread-safe: searches run concurrently with each other; writes are serialised and may pause
/// searches while the index grows. Durable only through Save (the documents' vectors in the
/// metadata store are the record; an index file is rebuilt from them when missing or stale).
class VectorIndex {
 public:
  virtual ~VectorIndex() = default;

  virtual const VectorIndexOptions& options() const = 0;
  /// Adds the vectors (keys.size() × dimension floats, row after row), replacing those of keys
  /// already present. InvalidArgument for a length that is not keys.size() × dimension, NaN or
  /// infinite values, or (cosine) a zero vector; nothing is written then.
  virtual Status Upsert(std::span<const uint64_t> keys, std::span<const float> vectors) = 0;
  /// Removes the keys; unknown keys are ignored. Their slots are reused by later inserts.
  virtual Status Remove(std::span<const uint64_t> keys) = 0;
  /// The k nearest of the allowed keys, nearest first. InvalidArgument for a query of the wrong
  /// dimension or with NaN / infinite values, or k outside 1..10000.
  virtual Result<std::vector<VectorHit>> Search(const VectorQuery& query,
                                                VectorSearchStats* stats = nullptr) const = 0;
  /// The stored vector of `key` (normalised for cosine). NotFound when absent.
  virtual Result<std::vector<float>> Get(uint64_t key) const = 0;
  /// Live vectors.
  virtual int64_t Size() const = 0;
  /// Writes the index to its file (atomically: a crash leaves the previous file or the new one).
  virtual Status Save() = 0;
};

/// Checks `keys` and `vectors` as Upsert does: InvalidArgument naming the first bad row.
Status CheckVectors(std::span<const uint64_t> keys, std::span<const float> vectors,
                    const VectorIndexOptions& options);
/// Checks a query vector as Search does.
Status CheckQuery(const VectorQuery& query, const VectorIndexOptions& options);

/// The score `metric` gives `b` against the query `a` (VectorHit::score), computed in f32 from
/// the full vectors: what a search over compact storage re-ranks its candidates by.
float ExactScore(VectorMetric metric, std::span<const float> a, std::span<const float> b);

/// The largest allowed-key count for which an exact scan is estimated cheaper than the filtered
/// graph: scanning n keys costs n distances, the graph about weight × beam × size / n, so the
/// plans meet at n = sqrt(weight × beam × size).
int64_t ExactScanLimit(const VectorIndexOptions& options, int beam, int64_t size);

}  // namespace argus::store
