// From extractor answers to a collection's documents: what a document holds (payload, vectors,
// text, region, lineage) is decided here, once, for the engine's extraction tasks and tests.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/result.h"
#include "store/bucket_store.h"
#include "store/collection_store.h"
#include "store/document_store.h"
#include "store/inference_service.h"

namespace argus::domain {

/// The internal task kind that makes one object's documents in one collection (the engine runs
/// it, the API and the ingest paths enqueue it), and its input: the collection, and the object
/// by bucket, key and id (a newer version of the key is another object, with its own task).
inline constexpr std::string_view kExtractKind = "collection.extract";
Json ExtractInput(std::string_view collection_id, const store::StoredObject& object);

/// One extractor's answer for the source, with what its registry entry declares (the target's
/// details: granularity, regions_field, vectors, text_fields).
struct ExtractorAnswer {
  std::string name;
  std::string version;
  store::InferenceTarget target;
  Json output;
};

/// What the collection ran on.
struct DocumentSource {
  store::StoredObject object;  ///< the root object (its metadata feeds field_passthrough)
  /// In a later tier: the parent document whose region was cropped, and the crop's top-left
  /// corner in the object's pixels (boxes found in the crop are moved by it).
  const store::Document* parent = nullptr;
  double crop_x = 0, crop_y = 0;
};

/// The source's documents:
/// - one for the whole item (unit ""): the object-level extractors' outputs under their names
///   (vectors aside), each region extractor's summary (`count`, `labels`), the passthrough
///   fields, `key` and `media_type`; their vectors; their text fields and the passthrough strings
///   as its text;
/// - one per region a region extractor found (unit "<extractor>/<i>"): the region's fields
///   (label, score, ...; vectors aside) at the top of its payload with `extractor`, the
///   passthrough fields, its box as `region`, its vectors and text fields.
/// Vectors are named by feature address (extractor@version/output); `versions` records which
/// version produced each document. InvalidArgument when an answer lacks a declared vector or
/// holds one of the wrong dimension (an extractor bug, not the user's).
Result<std::vector<store::Document>> BuildDocuments(const store::Collection& collection,
                                                    const DocumentSource& source,
                                                    const std::vector<ExtractorAnswer>& answers,
                                                    const std::function<std::string()>& new_id);

}  // namespace argus::domain
