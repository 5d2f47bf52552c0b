// An extractor: a pure function of (media, parameters) → JSON features, using models of the
// pool. No HTTP, no storage: the real-time endpoint, tasks and tests all call it directly. It
// takes a MediaRef (the item by reference, decoded lazily and once), so video and audio
// extractors fit the same interface.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "core/json.h"
#include "core/result.h"
#include "engine/image/image_decode.h"
#include "engine/runtime/media_ref.h"
#include "engine/runtime/model_pool.h"

namespace argus::engine {

/// What one run of an extractor yields for the documents of a collection.
enum class Granularity {
  kObject,  ///< one result per media item (an embedding, properties, OCR text)
  kRegion,  ///< one per region found in it (each detected object or face: its own document)
};
std::string_view GranularityName(Granularity g);

/// A vector an extractor yields for each unit (the media item, or each region), addressed in a
/// collection as `name@version/output` ("image_embedding@2/embedding").
struct VectorOutput {
  std::string output;  ///< the unit's field that holds it
  int dimension = 0;
  std::string metric = "cosine";  ///< "cosine", "ip" (inner product) or "l2"
};

struct ExtractorInfo {
  std::string name;     ///< "object_detection"
  std::string version;  ///< bumped when outputs change for the same input
  std::string description;
  std::vector<std::string> models;  ///< the pool models it needs
  Json params_schema = Json::object();
  Json output_schema = Json::object();
  // Capabilities: what a collection may ask of it.
  Granularity granularity = Granularity::kObject;
  std::vector<std::string> media_types = {"image/*"};  ///< the media it reads ("type/*" allowed)
  // What a collection's documents take from one answer.
  /// kRegion: the answer's array whose items are the regions ("detections", "faces").
  std::string regions_field;
  std::vector<VectorOutput> vectors;
  /// The unit's string fields the text index takes ("text" of OCR, "label" of a detection).
  std::vector<std::string> text_fields;
};

/// Why `info` cannot be registered (a region extractor without its regions field, a vector
/// without a dimension or with an unknown metric, no media type), or OK.
Status CheckExtractorInfo(const ExtractorInfo& info);

struct ExtractContext {
  ModelPool* models = nullptr;
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
};

class Extractor {
 public:
  virtual ~Extractor() = default;
  virtual const ExtractorInfo& info() const = 0;
  /// The checks of `params` a JSON Schema cannot express, after info().params_schema passed
  /// (the validator of the extractor's registry entry). InvalidArgument naming the parameter.
  virtual Status ValidateParams(const Json& params) const { return OkStatus(); }
  /// `params` are valid (schema and ValidateParams; defaults not filled in). The media is read
  /// through `media` (its image decoded once, shared with other extractors on the same item).
  /// Thread-safe: called concurrently.
  virtual Result<Json> Extract(const MediaRef& media, const Json& params,
                               ExtractContext& ctx) const = 0;
};

/// "name@version" of a pool model, for answers.
std::string ModelTag(const ModelPool& pool, std::string_view model);
/// Whether `media_type` is one of `accepted` ("image/*" accepts every image type; an unknown
/// "" is accepted, to be judged by decoding).
bool AcceptsMediaType(const std::vector<std::string>& accepted, std::string_view media_type);

}  // namespace argus::engine
