// The built-in extractors, one folder each under engine/extractors/ (its code and its test),
// and the registry entries `argus serve` registers with the runtime.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <opencv2/core.hpp>
#include <vector>

#include "engine/runtime/extractor.h"

namespace argus::engine {

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

/// A registry entry: the factory of an extractor. Its validator (params schema and
/// Extractor::ValidateParams) and capabilities (ExtractorInfo: granularity, media types) come
/// with what it makes; InferenceRuntime::Register checks them.
using ExtractorFactory = std::unique_ptr<Extractor> (*)();
/// Every built-in extractor, in the order /v1/extractors lists them.
std::vector<ExtractorFactory> BuiltinExtractors();

}  // namespace argus::engine
