// object_detection: CenterNet (MobileNetV3 backbone, COCO-80) from @vladmandic/human. The model
// answers a per-class heatmap on a grid (stride 4 at 512²) and, per cell, the distances to the
// box's four sides; a detection is a local maximum of a class's heatmap above the threshold.
#include <algorithm>
#include <set>

#include "engine/extractors/extractors.h"
#include "engine/image/boxes.h"
#include "engine/image/preprocess.h"

namespace argus::engine {
namespace {

constexpr char kModel[] = "centernet";

const char* const kCoco[80] = {"person",        "bicycle",      "car",
                               "motorcycle",    "airplane",     "bus",
                               "train",         "truck",        "boat",
                               "traffic light", "fire hydrant", "stop sign",
                               "parking meter", "bench",        "bird",
                               "cat",           "dog",          "horse",
                               "sheep",         "cow",          "elephant",
                               "bear",          "zebra",        "giraffe",
                               "backpack",      "umbrella",     "handbag",
                               "tie",           "suitcase",     "frisbee",
                               "skis",          "snowboard",    "sports ball",
                               "kite",          "baseball bat", "baseball glove",
                               "skateboard",    "surfboard",    "tennis racket",
                               "bottle",        "wine glass",   "cup",
                               "fork",          "knife",        "spoon",
                               "bowl",          "banana",       "apple",
                               "sandwich",      "orange",       "broccoli",
                               "carrot",        "hot dog",      "pizza",
                               "donut",         "cake",         "chair",
                               "couch",         "potted plant", "bed",
                               "dining table",  "toilet",       "tv",
                               "laptop",        "mouse",        "remote",
                               "keyboard",      "cell phone",   "microwave",
                               "oven",          "toaster",      "sink",
                               "refrigerator",  "book",         "clock",
                               "vase",          "scissors",     "teddy bear",
                               "hair drier",    "toothbrush"};

Json LabelEnum() {
  Json names = Json::array();
  for (const char* n : kCoco) names.push_back(n);
  return names;
}

class ObjectDetection final : public Extractor {
 public:
  ObjectDetection()
      : info_{.name = "object_detection",
              .version = "1",
              .description = "COCO-80 objects (CenterNet): label, score and box in source pixels",
              .models = {std::string(kModel)}} {
    info_.granularity = Granularity::kRegion;  // each detection is its own document
    info_.regions_field = "detections";
    info_.text_fields = {"label"};
    info_.params_schema = DetectionParamsSchema(LabelEnum());
    info_.output_schema = DetectionsOutputSchema();
  }
  const ExtractorInfo& info() const override { return info_; }

  Result<Json> Extract(const MediaRef& media, const Json& params,
                       ExtractContext& ctx) const override {
    ARGUS_ASSIGN_OR_RETURN(auto decoded, media.Image());
    const DecodedImage& image = *decoded;
    const float threshold = params.value("score_threshold", 0.3f);
    const float iou = params.value("iou_threshold", 0.5f);
    const int max_detections = params.value("max_detections", 100);
    std::set<int> wanted;
    for (const auto& c : params.value("classes", Json::array())) {
      for (int i = 0; i < 80; ++i) {
        if (c == kCoco[i]) wanted.insert(i);
      }
    }
    const ModelSpec* spec = ctx.models->Spec(kModel);
    if (spec == nullptr) return UnavailableError("model 'centernet' is not installed");
    ARGUS_ASSIGN_OR_RETURN(auto pre, ImageInputOf(*spec));
    ARGUS_ASSIGN_OR_RETURN(auto outputs,
                           ctx.models->Run(kModel, {ImageToTensor(image.bgr, pre)}, ctx.deadline));
    const Tensor* heat = nullptr;
    const Tensor* sides = nullptr;
    for (const auto& o : outputs) {
      if (o.shape.size() == 4 && o.shape[3] == 80) heat = &o;
      if (o.shape.size() == 4 && o.shape[3] == 4) sides = &o;
    }
    if (heat == nullptr || sides == nullptr || heat->shape[1] != sides->shape[1] ||
        heat->shape[2] != sides->shape[2]) {
      return InternalError("model 'centernet' does not answer a heatmap and box sides");
    }
    const int gh = static_cast<int>(heat->shape[1]), gw = static_cast<int>(heat->shape[2]);
    const float stride_x = static_cast<float>(pre.width) / gw;
    const float stride_y = static_cast<float>(pre.height) / gh;
    const float sx = static_cast<float>(image.bgr.cols) / pre.width;
    const float sy = static_cast<float>(image.bgr.rows) / pre.height;
    const float* hm = heat->data.data();
    auto at = [&](int y, int x, int c) { return hm[(static_cast<size_t>(y) * gw + x) * 80 + c]; };
    std::vector<cv::Rect2d> boxes;
    std::vector<float> scores;
    std::vector<int> classes;
    for (int y = 0; y < gh; ++y) {
      for (int x = 0; x < gw; ++x) {
        for (int c = 0; c < 80; ++c) {
          const float v = at(y, x, c);
          if (v < threshold || (!wanted.empty() && !wanted.count(c))) continue;
          bool peak = true;
          for (int dy = -1; dy <= 1 && peak; ++dy) {
            for (int dx = -1; dx <= 1; ++dx) {
              int yy = y + dy, xx = x + dx;
              if (yy >= 0 && xx >= 0 && yy < gh && xx < gw && at(yy, xx, c) > v) {
                peak = false;
                break;
              }
            }
          }
          if (!peak) continue;
          const float* s = sides->data.data() + (static_cast<size_t>(y) * gw + x) * 4;
          const float cx = x * stride_x, cy = y * stride_y;
          double x1 = std::clamp((cx - s[0]) * sx, 0.0f, static_cast<float>(image.bgr.cols));
          double y1 = std::clamp((cy - s[1]) * sy, 0.0f, static_cast<float>(image.bgr.rows));
          double x2 = std::clamp((cx + s[2]) * sx, 0.0f, static_cast<float>(image.bgr.cols));
          double y2 = std::clamp((cy + s[3]) * sy, 0.0f, static_cast<float>(image.bgr.rows));
          if (x2 <= x1 || y2 <= y1) continue;
          boxes.emplace_back(x1, y1, x2 - x1, y2 - y1);
          scores.push_back(v);
          classes.push_back(c);
        }
      }
    }
    ARGUS_ASSIGN_OR_RETURN(auto keep,
                           PerClassNms(boxes, scores, classes, threshold, iou, max_detections));
    Json detections = Json::array();
    for (int k : keep) {
      const auto& b = boxes[k];
      detections.push_back({{"label", kCoco[classes[k]]},
                            {"class_id", classes[k]},
                            {"score", scores[k]},
                            {"box", {b.x, b.y, b.x + b.width, b.y + b.height}}});
    }
    return Json{{"detections", std::move(detections)},
                {"width", image.bgr.cols},
                {"height", image.bgr.rows},
                {"model", ModelTag(*ctx.models, kModel)}};
  }

 private:
  ExtractorInfo info_;
};

}  // namespace

std::unique_ptr<Extractor> NewObjectDetectionExtractor() {
  return std::make_unique<ObjectDetection>();
}

}  // namespace argus::engine
