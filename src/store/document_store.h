#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/json.h"
#include "core/result.h"
#include "store/filter.h"
#include "store/page.h"

namespace argus::store {

/// One named vector of a document.
struct DocumentVector {
  std::string feature;  ///< its feature address: "image_embedding@2/embedding"
  std::vector<float> values;
};

/// A unit of a collection: one per source item (an object, or a parent document's region in a
/// later tier) and, for region extractors, one per region found in it.
struct Document {
  std::string id;  ///< UUIDv7, kept when the same unit is written again
  /// The integer key vector indexes use, assigned by the store on first write and kept after.
  uint64_t key = 0;
  std::string namespace_id;
  std::string collection_id;
  /// What the collection ran on: the object (tier 1) or the parent document (a later tier).
  std::string source_id;
  /// The unit within its source: "" for the whole item, else e.g. "face_detection/0".
  std::string unit;
  std::string object_id;  ///< the root object of the lineage
  std::string parent_id;  ///< the parent document ("" in tier 1)
  int tier = 1;
  Json region = nullptr;  ///< null, or where in the source the unit is ({"box": [x1,y1,x2,y2]})
  Json payload = Json::object();   ///< extractor outputs (vectors aside), passthrough fields
  Json versions = Json::object();  ///< extractor → the version that produced its outputs
  std::vector<DocumentVector> vectors;
  std::string text;  ///< what the text index takes (OCR lines, labels, metadata strings)
  TimestampUs created_at = 0;
  TimestampUs updated_at = 0;
};

/// How often one value of a field occurs among documents.
struct FacetValue {
  Json value;  ///< a string, number or bool (each element of an array counts on its own)
  int64_t count = 0;
};

/// The order of a document list: by a payload path (documents without it last) or by
/// "created_at" / "updated_at", then by key. Empty field: by key (the order documents were made).
struct DocumentOrder {
  std::string field;
  bool descending = false;
};

/// A change a vector index has to apply, in the order the store made them.
struct VectorChange {
  int64_t seq = 0;  ///< increasing per store
  uint64_t key = 0;
  std::string feature;
  bool removed = false;  ///< else the document's current vector of the feature (read it)
};

/// Documents of collections (a role of MetadataStore). Writes are idempotent: a source's
/// documents are replaced as a whole, keyed by (collection, source, unit), so a task retried or
/// run twice never makes a second document. Every write bumps the collection's generation and
/// journals the vector changes in the same transaction, so indexes catch up after a crash.
/// Thread-safe; Unavailable when the backend cannot be reached, Internal on corrupt data.
class DocumentStore {
 public:
  virtual ~DocumentStore() = default;

  /// Makes `docs` the documents of `source_id` in the collection: units present are updated in
  /// place (same id and key), new ones inserted, those no longer present deleted. Returns the
  /// written documents with ids, keys and times. NotFound when the collection or a document's
  /// object is gone (deleted while its documents were being made);
  /// InvalidArgument for two documents of one unit, or a vector with NaN/Inf or no values.
  virtual Result<std::vector<Document>> ReplaceSourceDocuments(std::string_view collection_id,
                                                               std::string_view source_id,
                                                               const std::vector<Document>& docs,
                                                               TimestampUs now) = 0;

  /// One document of the collection, with its vectors when asked. NotFound names it.
  virtual Result<Document> GetDocument(std::string_view collection_id, std::string_view id,
                                       bool with_vectors) = 0;
  /// The documents of the keys, in the order given (absent keys left out).
  virtual Result<std::vector<Document>> GetDocumentsByKey(std::string_view collection_id,
                                                          const std::vector<uint64_t>& keys,
                                                          bool with_vectors) = 0;
  /// The collection's documents whose root object is `object_id`, in key order (a later tier's
  /// sources: the parent collection's documents of the object).
  virtual Result<std::vector<Document>> DocumentsOfObject(std::string_view collection_id,
                                                          std::string_view object_id,
                                                          bool with_vectors) = 0;
  /// The collection's documents that match `filter` (over payload; lineage fields object_id,
  /// parent_id, tier as top-level paths), in `order` from `page.after_id` (the next_after_id of
  /// the page before; InvalidArgument for one this store did not issue for this order).
  virtual Result<Page<Document>> ListDocuments(std::string_view collection_id, const Filter& filter,
                                               const PageRequest& page, bool with_vectors,
                                               const DocumentOrder& order) = 0;
  /// The documents a later tier made from `source_id` (a parent document), in unit order.
  virtual Result<std::vector<Document>> DocumentsOfSource(std::string_view collection_id,
                                                          std::string_view source_id) = 0;
  /// For each of `fields` (payload paths), its most frequent values among the documents that
  /// match `filter`, most frequent first (ties by value), at most `max_values` each.
  virtual Result<std::map<std::string, std::vector<FacetValue>>> Facets(
      std::string_view collection_id, const Filter& filter, const std::vector<std::string>& fields,
      int max_values) = 0;
  /// The keys of the matching documents, ascending: a vector search's allow-list.
  virtual Result<std::vector<uint64_t>> MatchingKeys(std::string_view collection_id,
                                                     const Filter& filter) = 0;
  /// Deletes one document (and its vectors), and the documents later tiers made from it.
  /// NotFound when absent.
  virtual Status DeleteDocument(std::string_view collection_id, std::string_view id) = 0;

  /// The vector changes of the collection after `after_seq`, oldest first, at most `limit`.
  /// OutOfRange when the journal was trimmed past `after_seq` (TrimVectorChanges): the caller
  /// rebuilds from ScanVectors instead.
  virtual Result<std::vector<VectorChange>> VectorChangesSince(std::string_view collection_id,
                                                               int64_t after_seq, int limit) = 0;
  /// The newest journal seq of the store (0 before the first change). A scan started after
  /// reading it, followed by the changes after it, sees every vector.
  virtual Result<int64_t> VectorJournalHead() = 0;
  /// Forgets the collection's changes up to `through_seq` (every index of it has saved them):
  /// later reads from before it are OutOfRange.
  virtual Status TrimVectorChanges(std::string_view collection_id, int64_t through_seq) = 0;
  /// The vectors of `feature` with keys above `after_key`, ascending, at most `limit`: a
  /// rebuild's pages.
  virtual Result<std::vector<std::pair<uint64_t, std::vector<float>>>> ScanVectors(
      std::string_view collection_id, std::string_view feature, uint64_t after_key, int limit) = 0;
  /// The vectors of `feature` for the keys (absent ones left out), as (key, values).
  virtual Result<std::vector<std::pair<uint64_t, std::vector<float>>>> ReadVectors(
      std::string_view collection_id, std::string_view feature,
      const std::vector<uint64_t>& keys) = 0;
};

}  // namespace argus::store
