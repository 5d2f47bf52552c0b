#include "engine/image/boxes.h"

#include <algorithm>
#include <map>
#include <opencv2/dnn/dnn.hpp>

namespace argus::engine {

Result<std::vector<int>> PerClassNms(const std::vector<cv::Rect2d>& boxes,
                                     const std::vector<float>& scores,
                                     const std::vector<int>& classes, float score_threshold,
                                     float iou_threshold, int max_detections) {
  std::vector<int> keep;
  try {
    std::map<int, std::vector<int>> by_class;
    for (size_t i = 0; i < boxes.size(); ++i) by_class[classes[i]].push_back(static_cast<int>(i));
    for (const auto& [c, members] : by_class) {
      std::vector<cv::Rect2d> b;
      std::vector<float> s;
      for (int i : members) {
        b.push_back(boxes[i]);
        s.push_back(scores[i]);
      }
      std::vector<int> kept;
      cv::dnn::NMSBoxes(b, s, score_threshold, iou_threshold, kept);
      for (int k : kept) keep.push_back(members[k]);
    }
  } catch (const cv::Exception& e) {
    return InternalError(std::string("non-maximum suppression failed: ") + e.what());
  }
  std::sort(keep.begin(), keep.end(), [&](int a, int b) { return scores[a] > scores[b]; });
  if (static_cast<int>(keep.size()) > max_detections) keep.resize(std::max(0, max_detections));
  return keep;
}

Json DetectionParamsSchema(const Json& labels) {
  Json classes = {
      {"type", "array"}, {"items", {{"type", "string"}}}, {"description", "only these labels"}};
  if (labels.is_array() && !labels.empty()) classes["items"]["enum"] = labels;
  return {
      {"type", "object"},
      {"additionalProperties", false},
      {"properties",
       {{"score_threshold",
         {{"type", "number"}, {"minimum", 0.01}, {"maximum", 1}, {"default", 0.3}}},
        {"iou_threshold", {{"type", "number"}, {"minimum", 0}, {"maximum", 1}, {"default", 0.5}}},
        {"max_detections",
         {{"type", "integer"}, {"minimum", 1}, {"maximum", 500}, {"default", 100}}},
        {"classes", std::move(classes)}}}};
}

Json DetectionsOutputSchema() {
  return {{"type", "object"},
          {"required", {"detections", "width", "height", "model"}},
          {"properties",
           {{"detections",
             {{"type", "array"},
              {"items",
               {{"type", "object"},
                {"properties",
                 {{"label", {{"type", "string"}}},
                  {"class_id", {{"type", "integer"}}},
                  {"score", {{"type", "number"}}},
                  {"box",
                   {{"type", "array"},
                    {"items", {{"type", "number"}}},
                    {"description", "[x1, y1, x2, y2] in source-image pixels"}}}}}}}}},
            {"width", {{"type", "integer"}}},
            {"height", {{"type", "integer"}}},
            {"model", {{"type", "string"}}}}}};
}

}  // namespace argus::engine
