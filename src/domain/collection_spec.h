// A collection's definition as clients send it (POST/PATCH /v1/collections), checked against
// what Argus can run: the extractors the InferenceService registers (name, version, parameters
// by the extractor's own validator), a source that exists, tiers whose parent yields regions.
// Also what the definition implies: the feature addresses it indexes, and its index signature.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/result.h"
#include "store/bucket_store.h"
#include "store/collection_store.h"
#include "store/inference_service.h"

namespace argus::domain {

/// The stores and services a definition is checked against. Borrowed.
struct CollectionSpecContext {
  store::BucketStore* buckets = nullptr;
  store::CollectionStore* collections = nullptr;
  const store::InferenceService* inference = nullptr;
};

/// Bounds of a definition.
inline constexpr int kMaxCollectionExtractors = 16;
inline constexpr int kMaxPassthroughFields = 64;
inline constexpr int kMaxPayloadIndexes = 64;

/// The collection `body` defines in `namespace_id` (id and times left for the caller):
/// `name`, `description`, `source` ({"bucket": b} or {"collection": c}), `extractors`
/// ([{name, version?, params?, input_mappings?}]; version defaults to the registered one),
/// `field_passthrough`, `payload_indexes` ([{field, type}]), `auto_process` (default true).
/// InvalidArgument naming the field path and the fix (unknown extractor or version, parameters
/// its validator refuses, a tier whose parent yields no regions); NotFound for a source that is
/// not in the namespace.
Result<store::Collection> CollectionFromSpec(const CollectionSpecContext& ctx,
                                             std::string_view namespace_id, const Json& body);

/// The update `body` (PATCH) asks of `current`: description, extractors, field_passthrough,
/// payload_indexes, auto_process. InvalidArgument for `name` or `source` (they never change) and
/// as CollectionFromSpec.
Result<store::CollectionUpdate> CollectionUpdateFromSpec(const CollectionSpecContext& ctx,
                                                         const store::Collection& current,
                                                         const Json& body);

/// A vector the collection's documents carry.
struct FeatureAddress {
  std::string address;  ///< "image_embedding@2/embedding"
  std::string extractor, version, output;
  int dimension = 0;
  std::string metric;           ///< "cosine", "ip", "l2"
  std::string granularity;      ///< "object" or "region"
  std::string storage = "f32";  ///< how its index stores it: "f32", "f16", "i8"
};

/// Every vector of the collection's extractors, in their order (as the targets declare them;
/// an extractor no longer registered contributes none).
std::vector<FeatureAddress> FeaturesOf(const store::Collection& collection,
                                       const std::vector<store::InferenceTarget>& targets);

/// Parses "extractor@version/output". InvalidArgument naming `where` otherwise.
Result<FeatureAddress> ParseFeatureAddress(std::string_view address, std::string_view where);

/// An opaque token that changes whenever the collection's documents or definition do (id and
/// generation): retrievers key their caches on it and answer ETag/304 with it.
std::string IndexSignature(const store::Collection& collection);

}  // namespace argus::domain
