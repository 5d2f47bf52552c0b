// face_detection: MediaPipe BlazeFace (keijiro's ONNX export). Two models share one head: "back"
// (256², full range: group photos, small faces) and "front" (128², short range: selfies). The
// image is letterboxed into the square input; anchors sit at the cell centres of a 16×16 grid
// (2 per cell) and an 8×8 grid (6 per cell), and each regresses 16 values in input pixels
// relative to its centre: box centre offset, width, height, then six landmarks (x, y). Overlapping
// candidates are merged by weighted non-maximum suppression, as MediaPipe does.
#include <algorithm>
#include <array>
#include <cmath>
#include <utility>

#include "engine/extractors/extractors.h"
#include "engine/image/preprocess.h"

namespace argus::engine {
namespace {

constexpr int kLandmarks = 6;
constexpr int kBoxValues = 4 + 2 * kLandmarks;

struct Grid {
  int cells = 0;     ///< cells per side
  int per_cell = 0;  ///< anchors per cell
};

struct Face {
  float score = 0;
  float x1 = 0, y1 = 0, x2 = 0, y2 = 0;
  std::array<cv::Point2f, kLandmarks> landmarks;
};

float IoU(const Face& a, const Face& b) {
  const float w = std::min(a.x2, b.x2) - std::max(a.x1, b.x1);
  const float h = std::min(a.y2, b.y2) - std::max(a.y1, b.y1);
  if (w <= 0 || h <= 0) return 0;
  const float inter = w * h;
  const float uni = (a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1) - inter;
  return uni > 0 ? inter / uni : 0;
}

// Weighted non-maximum suppression: the best remaining candidate and every candidate overlapping
// it by more than `iou` become one face, its box and landmarks the score-weighted mean of theirs,
// its score the best one's. Steadier boxes than plain NMS on a detector that fires on several
// neighbouring anchors per face.
std::vector<Face> WeightedNms(std::vector<Face> candidates, float iou, size_t max_faces) {
  std::sort(candidates.begin(), candidates.end(),
            [](const Face& a, const Face& b) { return a.score > b.score; });
  std::vector<Face> faces;
  std::vector<bool> used(candidates.size(), false);
  for (size_t i = 0; i < candidates.size() && faces.size() < max_faces; ++i) {
    if (used[i]) continue;
    Face merged{};
    merged.score = candidates[i].score;
    float total = 0;
    for (size_t j = i; j < candidates.size(); ++j) {
      if (used[j] || (j != i && IoU(candidates[i], candidates[j]) <= iou)) continue;
      used[j] = true;
      const Face& c = candidates[j];
      const float w = c.score;
      total += w;
      merged.x1 += w * c.x1;
      merged.y1 += w * c.y1;
      merged.x2 += w * c.x2;
      merged.y2 += w * c.y2;
      for (int k = 0; k < kLandmarks; ++k) merged.landmarks[k] += w * c.landmarks[k];
    }
    merged.x1 /= total;
    merged.y1 /= total;
    merged.x2 /= total;
    merged.y2 /= total;
    for (auto& p : merged.landmarks) p /= total;
    faces.push_back(merged);
  }
  return faces;
}

// Pixel coordinates for answers: to the hundredth (float noise beyond that says nothing).
double Px(float v) { return std::round(static_cast<double>(v) * 100) / 100; }

// The anchor grids: the manifest's postprocessing "grids" ([[cells, anchors per cell], ...]) when
// given, else BlazeFace's.
Result<std::vector<Grid>> GridsOf(const ModelSpec& spec) {
  std::vector<Grid> grids = {{16, 2}, {8, 6}};
  const Json& post = spec.entry.contains("postprocessing") ? spec.entry["postprocessing"] : Json();
  if (!post.is_object() || !post.contains("grids")) return grids;
  grids.clear();
  for (const auto& g : post["grids"]) {
    if (!g.is_array() || g.size() != 2 || !g[0].is_number_integer() || !g[1].is_number_integer() ||
        g[0].get<int>() <= 0 || g[1].get<int>() <= 0) {
      return InvalidArgumentError("model '" + spec.name + "' has malformed anchor grids");
    }
    grids.push_back({g[0].get<int>(), g[1].get<int>()});
  }
  if (grids.empty()) return InvalidArgumentError("model '" + spec.name + "' has no anchor grids");
  return grids;
}

// The output of `anchors` × `width` values (batch 1).
const Tensor* OutputOf(const std::vector<Tensor>& outputs, int64_t anchors, int64_t width) {
  for (const auto& o : outputs) {
    if (o.shape.size() >= 2 && o.shape.back() == width && o.elements() == anchors * width) {
      return &o;
    }
  }
  return nullptr;
}

class FaceDetection final : public Extractor {
 public:
  FaceDetection()
      : info_{.name = "face_detection",
              .version = "1",
              .description =
                  "faces (MediaPipe BlazeFace): box, score and six landmarks in "
                  "source pixels",
              .models = {"blazeface_back", "blazeface_front"}} {
    info_.granularity = Granularity::kRegion;  // each detection is its own document
    info_.regions_field = "faces";
    info_.params_schema = {
        {"type", "object"},
        {"additionalProperties", false},
        {"properties",
         {{"score_threshold",
           {{"type", "number"}, {"minimum", 0.05}, {"maximum", 1}, {"default", 0.6}}},
          {"iou_threshold", {{"type", "number"}, {"minimum", 0}, {"maximum", 1}, {"default", 0.3}}},
          {"max_faces", {{"type", "integer"}, {"minimum", 1}, {"maximum", 1000}, {"default", 100}}},
          {"model",
           {{"type", "string"},
            {"enum", {"back", "front"}},
            {"default", "back"},
            {"description",
             "back: 256² full-range model (group photos, faces down to ~20 px at 500 px); "
             "front: 128² short-range model (selfies, faces filling much of the image)"}}}}}};
    const Json number_array = {{"type", "array"}, {"items", {{"type", "number"}}}};
    info_.output_schema = {
        {"type", "object"},
        {"required", {"faces", "width", "height", "model"}},
        {"properties",
         {{"faces",
           {{"type", "array"},
            {"items",
             {{"type", "object"},
              {"required", {"box", "score", "landmarks"}},
              {"properties",
               {{"score", {{"type", "number"}}},
                {"box",
                 {{"type", "array"},
                  {"items", {{"type", "number"}}},
                  {"description", "[x1, y1, x2, y2] in source-image pixels, clamped to it"}}},
                {"landmarks",
                 {{"type", "array"},
                  {"items", number_array},
                  {"description",
                   "six [x, y] in source-image pixels (not clamped): right eye, left eye, nose "
                   "tip, mouth centre, right ear, left ear (the subject's right and left)"}}}}}}}}},
          {"width", {{"type", "integer"}}},
          {"height", {{"type", "integer"}}},
          {"model", {{"type", "string"}}}}}};
  }
  const ExtractorInfo& info() const override { return info_; }

  Result<Json> Extract(const MediaRef& media, const Json& params,
                       ExtractContext& ctx) const override {
    ARGUS_ASSIGN_OR_RETURN(auto decoded, media.Image());
    const DecodedImage& image = *decoded;
    const float threshold = params.value("score_threshold", 0.6f);
    const float iou = params.value("iou_threshold", 0.3f);
    const int max_faces = params.value("max_faces", 100);
    const std::string model = "blazeface_" + params.value("model", std::string("back"));
    const ModelSpec* spec = ctx.models->Spec(model);
    if (spec == nullptr) return UnavailableError("model '" + model + "' is not installed");
    ARGUS_ASSIGN_OR_RETURN(auto pre, ImageInputOf(*spec));
    ARGUS_ASSIGN_OR_RETURN(auto grids, GridsOf(*spec));
    Letterbox letterbox;
    ARGUS_ASSIGN_OR_RETURN(
        auto outputs,
        ctx.models->Run(model, {LetterboxToTensor(image.bgr, pre, &letterbox)}, ctx.deadline));

    // Candidates above the threshold, in source-image pixels.
    std::vector<Face> candidates;
    for (const Grid& grid : grids) {
      const int64_t anchors = static_cast<int64_t>(grid.cells) * grid.cells * grid.per_cell;
      const Tensor* scores = OutputOf(outputs, anchors, 1);
      const Tensor* boxes = OutputOf(outputs, anchors, kBoxValues);
      if (scores == nullptr || boxes == nullptr) {
        return InternalError("model '" + model + "' has no scores and boxes for " +
                             std::to_string(anchors) + " anchors");
      }
      const float cell_w = static_cast<float>(pre.width) / grid.cells;
      const float cell_h = static_cast<float>(pre.height) / grid.cells;
      for (int64_t a = 0; a < anchors; ++a) {
        const float score = 1.0f / (1.0f + std::exp(-std::clamp(scores->data[a], -100.0f, 100.0f)));
        if (score < threshold) continue;
        const int64_t cell = a / grid.per_cell;
        const float ax = (static_cast<float>(cell % grid.cells) + 0.5f) * cell_w;
        const float ay = (static_cast<float>(cell / grid.cells) + 0.5f) * cell_h;
        const float* r = boxes->data.data() + a * kBoxValues;
        if (r[2] <= 0 || r[3] <= 0) continue;
        Face f;
        f.score = score;
        const cv::Point2f p1 = letterbox.ToSource({ax + r[0] - r[2] / 2, ay + r[1] - r[3] / 2});
        const cv::Point2f p2 = letterbox.ToSource({ax + r[0] + r[2] / 2, ay + r[1] + r[3] / 2});
        f.x1 = p1.x;
        f.y1 = p1.y;
        f.x2 = p2.x;
        f.y2 = p2.y;
        for (int k = 0; k < kLandmarks; ++k) {
          f.landmarks[k] = letterbox.ToSource({ax + r[4 + 2 * k], ay + r[5 + 2 * k]});
        }
        candidates.push_back(f);
      }
    }

    const float width = static_cast<float>(image.bgr.cols);
    const float height = static_cast<float>(image.bgr.rows);
    Json faces = Json::array();
    for (Face& f : WeightedNms(std::move(candidates), iou, static_cast<size_t>(max_faces))) {
      f.x1 = std::clamp(f.x1, 0.0f, width);
      f.y1 = std::clamp(f.y1, 0.0f, height);
      f.x2 = std::clamp(f.x2, 0.0f, width);
      f.y2 = std::clamp(f.y2, 0.0f, height);
      if (f.x2 <= f.x1 || f.y2 <= f.y1) continue;  // entirely in the letterbox margin
      Json landmarks = Json::array();
      for (const auto& p : f.landmarks) landmarks.push_back({Px(p.x), Px(p.y)});
      faces.push_back({{"box", {Px(f.x1), Px(f.y1), Px(f.x2), Px(f.y2)}},
                       {"score", f.score},
                       {"landmarks", landmarks}});
    }
    return Json{{"faces", std::move(faces)},
                {"width", image.bgr.cols},
                {"height", image.bgr.rows},
                {"model", ModelTag(*ctx.models, model)}};
  }

 private:
  ExtractorInfo info_;
};

}  // namespace

std::unique_ptr<Extractor> NewFaceDetectionExtractor() { return std::make_unique<FaceDetection>(); }

}  // namespace argus::engine
