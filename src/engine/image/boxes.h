// Detections in source-image pixels, shared by the detectors (the built-in object_detection and
// users' own): per-class non-maximum suppression, and the parameter and answer schemas.
#pragma once

#include <opencv2/core.hpp>
#include <vector>

#include "core/json.h"
#include "core/result.h"

namespace argus::engine {

/// The indices of the boxes kept by non-maximum suppression within each class (a person and
/// their bag may overlap), best score first, at most `max_detections`. Boxes below
/// `score_threshold` are dropped. Internal when OpenCV fails.
Result<std::vector<int>> PerClassNms(const std::vector<cv::Rect2d>& boxes,
                                     const std::vector<float>& scores,
                                     const std::vector<int>& classes, float score_threshold,
                                     float iou_threshold, int max_detections);

/// score_threshold, iou_threshold, max_detections and classes (strings, from `labels` when it is a
/// non-empty array).
Json DetectionParamsSchema(const Json& labels);
/// {"detections": [{label, class_id, score, box}], width, height, model}.
Json DetectionsOutputSchema();

}  // namespace argus::engine
