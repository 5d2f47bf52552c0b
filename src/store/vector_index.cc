#include "store/vector_index.h"

#include <cmath>

namespace argus::store {

std::string_view VectorMetricName(VectorMetric metric) {
  switch (metric) {
    case VectorMetric::kCosine:
      return "cosine";
    case VectorMetric::kInnerProduct:
      return "ip";
    case VectorMetric::kL2:
      return "l2";
  }
  return "cosine";
}

Result<VectorMetric> ParseVectorMetric(std::string_view name) {
  for (VectorMetric m : {VectorMetric::kCosine, VectorMetric::kInnerProduct, VectorMetric::kL2}) {
    if (VectorMetricName(m) == name) return m;
  }
  return InvalidArgumentError("unknown metric '" + std::string(name) + "': cosine, ip or l2");
}

std::string_view VectorStorageName(VectorStorage storage) {
  switch (storage) {
    case VectorStorage::kF32:
      return "f32";
    case VectorStorage::kF16:
      return "f16";
    case VectorStorage::kI8:
      return "i8";
  }
  return "f32";
}

Result<VectorStorage> ParseVectorStorage(std::string_view name) {
  for (VectorStorage s : {VectorStorage::kF32, VectorStorage::kF16, VectorStorage::kI8}) {
    if (VectorStorageName(s) == name) return s;
  }
  return InvalidArgumentError("unknown vector storage '" + std::string(name) + "': f32, f16 or i8");
}

std::string_view VectorPlanName(VectorPlan plan) {
  switch (plan) {
    case VectorPlan::kGraph:
      return "graph";
    case VectorPlan::kFilteredGraph:
      return "filtered_graph";
    case VectorPlan::kExact:
      return "exact";
    case VectorPlan::kExactFallback:
      return "exact_fallback";
  }
  return "graph";
}

namespace {

Status CheckRow(std::span<const float> row, VectorMetric metric, std::string_view what) {
  double norm = 0;
  for (size_t i = 0; i < row.size(); ++i) {
    if (!std::isfinite(row[i])) {
      return InvalidArgumentError(std::string(what) + "[" + std::to_string(i) +
                                  "] is not a finite number");
    }
    norm += static_cast<double>(row[i]) * row[i];
  }
  if (metric == VectorMetric::kCosine && norm == 0) {
    return InvalidArgumentError(std::string(what) + " is all zeros: cosine needs a direction");
  }
  return OkStatus();
}

}  // namespace

Status CheckVectors(std::span<const uint64_t> keys, std::span<const float> vectors,
                    const VectorIndexOptions& options) {
  const size_t dim = static_cast<size_t>(options.dimension);
  if (vectors.size() != keys.size() * dim) {
    return InvalidArgumentError("expected " + std::to_string(keys.size()) + " vectors of " +
                                std::to_string(dim) + " values (" +
                                std::to_string(keys.size() * dim) + "), got " +
                                std::to_string(vectors.size()) + " values");
  }
  for (size_t r = 0; r < keys.size(); ++r) {
    ARGUS_RETURN_IF_ERROR(CheckRow(vectors.subspan(r * dim, dim), options.metric,
                                   "the vector of key " + std::to_string(keys[r])));
  }
  return OkStatus();
}

Status CheckQuery(const VectorQuery& query, const VectorIndexOptions& options) {
  if (static_cast<int>(query.vector.size()) != options.dimension) {
    return InvalidArgumentError("the query vector has " + std::to_string(query.vector.size()) +
                                " values; this feature has " + std::to_string(options.dimension));
  }
  if (query.k < 1 || query.k > 10000) {
    return InvalidArgumentError("k must be 1..10000, not " + std::to_string(query.k));
  }
  if (query.ef < 0 || query.ef > 100000) {
    return InvalidArgumentError("ef must be 0..100000, not " + std::to_string(query.ef));
  }
  return CheckRow(query.vector, options.metric, "the query vector");
}

float ExactScore(VectorMetric metric, std::span<const float> a, std::span<const float> b) {
  const size_t n = std::min(a.size(), b.size());
  double dot = 0, aa = 0, bb = 0, l2 = 0;
  for (size_t i = 0; i < n; ++i) {
    dot += static_cast<double>(a[i]) * b[i];
    aa += static_cast<double>(a[i]) * a[i];
    bb += static_cast<double>(b[i]) * b[i];
    const double d = static_cast<double>(a[i]) - b[i];
    l2 += d * d;
  }
  switch (metric) {
    case VectorMetric::kCosine:
      return aa > 0 && bb > 0 ? static_cast<float>(dot / std::sqrt(aa * bb)) : 0.0f;
    case VectorMetric::kInnerProduct:
      return static_cast<float>(dot);
    case VectorMetric::kL2:
      return static_cast<float>(-l2);
  }
  return 0.0f;
}

int64_t ExactScanLimit(const VectorIndexOptions& options, int beam, int64_t size) {
  return static_cast<int64_t>(
      std::sqrt(options.exact_scan_weight * static_cast<double>(beam) * static_cast<double>(size)));
}

}  // namespace argus::store
