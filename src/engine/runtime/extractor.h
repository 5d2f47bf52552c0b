// An extractor: a pure function of (image, parameters) → JSON features, using models of the
// pool. No HTTP, no storage: the real-time endpoint, tasks and tests all call it directly.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "core/json.h"
#include "core/result.h"
#include "engine/image/image_decode.h"
#include "engine/runtime/model_pool.h"

namespace argus::engine {

struct ExtractorInfo {
  std::string name;     ///< "object_detection"
  std::string version;  ///< bumped when outputs change for the same input
  std::string description;
  std::vector<std::string> models;  ///< the pool models it needs
  Json params_schema = Json::object();
  Json output_schema = Json::object();
};

struct ExtractContext {
  ModelPool* models = nullptr;
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
};

class Extractor {
 public:
  virtual ~Extractor() = default;
  virtual const ExtractorInfo& info() const = 0;
  /// `params` are already valid against info().params_schema (defaults not filled in).
  /// Thread-safe: called concurrently.
  virtual Result<Json> Extract(const DecodedImage& image, const Json& params,
                               ExtractContext& ctx) const = 0;
};

/// "name@version" of a pool model, for answers.
std::string ModelTag(const ModelPool& pool, std::string_view model);

/// image_embedding (MobileNetV2, 1280-d, L2-normalised) and moderation (its five scores).
std::unique_ptr<Extractor> NewImageEmbeddingExtractor();
std::unique_ptr<Extractor> NewModerationExtractor();
/// image_properties (no model): size, format, orientation, dominant colours, dHash.
std::unique_ptr<Extractor> NewImagePropertiesExtractor();
/// thumbnail (no model): the image fit into max_side², as base64 JPEG/WebP/PNG.
std::unique_ptr<Extractor> NewThumbnailExtractor();
/// The 64-bit difference hash of an image (near duplicates differ in few bits).
uint64_t DifferenceHash(const cv::Mat& bgr);
/// object_detection (CenterNet, COCO-80): score threshold, NMS, class filter; boxes in
/// source-image pixels.
std::unique_ptr<Extractor> NewObjectDetectionExtractor();
/// face_detection (BlazeFace, "back" 256² or "front" 128²): score and IoU thresholds, letterboxed
/// input; boxes and six landmarks in source-image pixels.
std::unique_ptr<Extractor> NewFaceDetectionExtractor();
/// face_embedding: per detected face, an upright crop described by faceres (1024-d, L2-normalised)
/// with gender and age.
std::unique_ptr<Extractor> NewFaceEmbeddingExtractor();
/// ocr (PaddleOCR v4 det + rec): text lines with confidence and boxes in source pixels, and the
/// whole text in reading order.
std::unique_ptr<Extractor> NewOcrExtractor();

}  // namespace argus::engine
