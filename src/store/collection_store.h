#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/json.h"
#include "core/result.h"
#include "store/filter.h"
#include "store/page.h"
#include "store/vector_index.h"

namespace argus::store {

/// One extractor a collection runs on each item of its source.
struct CollectionExtractor {
  std::string name;     ///< "image_embedding"
  std::string version;  ///< "2": documents record it; a new version makes older ones stale
  Json params = Json::object();
  /// Which input of the extractor reads what: {"image": "source"} (the object, or the parent
  /// document's region crop for a later tier).
  Json input_mappings = Json::object();
  /// How the indexes of its vectors store them: f32, or f16 / i8 (cosine only) to take half or
  /// a quarter of the memory; searches over i8 re-rank their candidates with the f32 vectors.
  VectorStorage vector_storage = VectorStorage::kF32;
};

/// A payload field indexed for filters, with its type.
struct PayloadIndex {
  std::string field;  ///< a payload path ("label", "metadata.camera")
  FieldType type = FieldType::kKeyword;
};

/// A collection: documents made by running its extractors on the items of its source, a bucket
/// (tier 1) or another collection (a later tier: its extractors run on the parent documents).
struct Collection {
  std::string id;  ///< UUIDv7
  std::string namespace_id;
  std::string name;
  std::string description;
  /// Exactly one is set: the source bucket's id, or the source collection's id.
  std::string source_bucket_id;
  std::string source_collection_id;
  /// The source's name, filled in by the store on every read (ignored on create).
  std::string source_name;
  std::vector<CollectionExtractor> extractors;
  /// Object metadata or parent-document fields copied into each document ("metadata.camera").
  std::vector<std::string> field_passthrough;
  std::vector<PayloadIndex> payload_indexes;
  bool auto_process = false;  ///< new objects of the source are processed as they arrive
  /// Bumped by every change of the collection's documents (and of its definition): the counter of
  /// its index signature, which retrievers key their caches on.
  int64_t generation = 0;
  TimestampUs created_at = 0;
  TimestampUs updated_at = 0;
};

/// Fields an update may change; unset ones stay. The source never changes.
struct CollectionUpdate {
  std::optional<std::string> description;
  std::optional<std::vector<CollectionExtractor>> extractors;
  std::optional<std::vector<std::string>> field_passthrough;
  std::optional<std::vector<PayloadIndex>> payload_indexes;
  std::optional<bool> auto_process;
};

/// Collections (a role of MetadataStore). Records only: the checks of a definition against the
/// extractor registry (known extractor and version, parameters) are the caller's; the store
/// checks what it can see (the source exists in the namespace, no cycle, names unique).
/// Thread-safe; every method returns Unavailable when the backend cannot be reached, Internal on
/// corrupt data.
class CollectionStore {
 public:
  virtual ~CollectionStore() = default;

  /// Stores `collection` as given (the caller fills id and times; generation starts at 1).
  /// AlreadyExists when its name is taken in the namespace; NotFound naming the source when the
  /// source bucket or collection is not in the namespace; InvalidArgument when not exactly one
  /// source is given, or the name is empty.
  virtual Result<Collection> CreateCollection(const Collection& collection) = 0;
  /// By name within the namespace. NotFound names the collection.
  virtual Result<Collection> GetCollection(std::string_view namespace_id,
                                           std::string_view name) = 0;
  /// By id, in any namespace (the engine's tasks carry ids). NotFound when absent.
  virtual Result<Collection> GetCollectionById(std::string_view id) = 0;
  /// The namespace's collections in id (= creation) order.
  virtual Result<Page<Collection>> ListCollections(std::string_view namespace_id,
                                                   const PageRequest& page) = 0;
  /// The collections whose source is the bucket (tier 1), or, with `collection` true, the
  /// collection `source_id` (the next tier), in id order.
  virtual Result<std::vector<Collection>> CollectionsOfSource(std::string_view source_id,
                                                              bool collection) = 0;
  /// Applies `update` (updated_at = now, generation + 1 when the extractors change). NotFound
  /// names the collection.
  virtual Result<Collection> UpdateCollection(std::string_view namespace_id, std::string_view name,
                                              const CollectionUpdate& update, TimestampUs now) = 0;
  /// Removes the record. FailedPrecondition naming them when other collections take it as their
  /// source; NotFound when absent.
  virtual Status DeleteCollection(std::string_view namespace_id, std::string_view name) = 0;
};

}  // namespace argus::store
