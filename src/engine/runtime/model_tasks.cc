#include "engine/runtime/model_tasks.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "engine/image/boxes.h"
#include "engine/image/preprocess.h"
#include "store/blob_store.h"

namespace argus::engine {
namespace {

constexpr int64_t kMaxRawOutputFloats = 65536;

Json EmbeddingSchema() {
  return {{"type", "object"},
          {"required", {"embedding", "dimensions", "model"}},
          {"properties",
           {{"embedding", {{"type", "array"}, {"items", {{"type", "number"}}}}},
            {"dimensions", {{"type", "integer"}}},
            {"model", {{"type", "string"}}}}}};
}

const Tensor* Output(const ModelSpec& spec, const std::vector<Tensor>& outputs,
                     const std::string& name) {
  for (size_t i = 0; i < spec.outputs.size() && i < outputs.size(); ++i) {
    if (spec.outputs[i].name == name) return &outputs[i];
  }
  return nullptr;
}

// A string field of the entry's postprocessing object, else `fallback` (also for a value of
// another type: a malformed entry must not throw out of /v1/models).
std::string PostString(const ModelSpec& spec, const char* key, const char* fallback) {
  const Json* post = spec.entry.is_object() && spec.entry.contains("postprocessing")
                         ? &spec.entry["postprocessing"]
                         : nullptr;
  if (post == nullptr || !post->is_object() || !post->contains(key) || !(*post)[key].is_string()) {
    return fallback;
  }
  return (*post)[key].get<std::string>();
}

std::string Label(const ModelSpec& spec, int c) {
  if (spec.labels.is_array() && c >= 0 && c < static_cast<int>(spec.labels.size()) &&
      spec.labels[c].is_string()) {
    return spec.labels[c].get<std::string>();
  }
  return std::to_string(c);
}

Result<Json> Detections(const ModelSpec& spec, const std::vector<Tensor>& outputs,
                        const Json& params, int width, int height, const Letterbox* letterbox,
                        const ImagePreprocessing& pre) {
  const Json post = spec.entry.value("postprocessing", Json::object());
  const Tensor* boxes = Output(spec, outputs, PostString(spec, "boxes", "boxes"));
  const Tensor* scores = Output(spec, outputs, PostString(spec, "scores", "scores"));
  const std::string classes_name = PostString(spec, "classes", "");
  const Tensor* classes = classes_name.empty() ? nullptr : Output(spec, outputs, classes_name);
  if (boxes == nullptr || scores == nullptr) {
    return InternalError("model '" + spec.name +
                         "' has no boxes and scores outputs (name them in its manifest entry's "
                         "postprocessing)");
  }
  // boxes [1, K, 4] (or [K, 4]); scores [1, K] or [1, K, C]; classes [1, K]. K may be 0 (a graph
  // with its own NMS that found nothing).
  const int64_t k = boxes->shape.size() >= 2 ? boxes->shape[boxes->shape.size() - 2] : -1;
  if (k == 0) return Json{{"detections", Json::array()}, {"width", width}, {"height", height}};
  const int64_t per_box =
      k > 0 ? static_cast<int64_t>(scores->data.size()) / k : static_cast<int64_t>(0);
  if (boxes->shape.back() != 4 || static_cast<int64_t>(boxes->data.size()) != k * 4 || k < 0 ||
      per_box < 1 || static_cast<int64_t>(scores->data.size()) != k * per_box ||
      (classes != nullptr && static_cast<int64_t>(classes->data.size()) != k)) {
    return InternalError(
        "model '" + spec.name +
        "' answers boxes and scores of other shapes than [N, K, 4] and [N, K(, C)]");
  }
  const std::string format = PostString(spec, "box_format", "xyxy");
  const bool normalized = !(post.is_object() && post.contains("normalized") &&
                            post["normalized"].is_boolean() && !post["normalized"].get<bool>());
  const float threshold = params.value("score_threshold", 0.3f);
  std::vector<std::string> wanted;
  for (const auto& c : params.value("classes", Json::array())) wanted.push_back(c);

  std::vector<cv::Rect2d> found;
  std::vector<float> found_scores;
  std::vector<int> found_classes;
  for (int64_t i = 0; i < k; ++i) {
    const float* s = scores->data.data() + i * per_box;
    int c = static_cast<int>(std::max_element(s, s + per_box) - s);
    float score = s[c];
    if (classes != nullptr) {
      const float id = classes->data[i];
      if (!std::isfinite(id) || id < 0 || id > 1e6f) continue;  // not a class
      c = static_cast<int>(std::lround(id));
    }
    if (!(score >= threshold)) continue;  // NaN too
    if (!wanted.empty() &&
        std::find(wanted.begin(), wanted.end(), Label(spec, c)) == wanted.end()) {
      continue;
    }
    const float* b = boxes->data.data() + i * 4;
    float x1 = b[0], y1 = b[1], x2 = b[2], y2 = b[3];
    if (format == "yxyx") {
      x1 = b[1], y1 = b[0], x2 = b[3], y2 = b[2];
    } else if (format == "xywh") {
      x2 = b[0] + b[2], y2 = b[1] + b[3];
    } else if (format == "cxcywh") {
      x1 = b[0] - b[2] / 2, y1 = b[1] - b[3] / 2, x2 = b[0] + b[2] / 2, y2 = b[1] + b[3] / 2;
    }
    if (normalized) {  // → model-input pixels
      x1 *= pre.width, x2 *= pre.width, y1 *= pre.height, y2 *= pre.height;
    }
    cv::Point2f a, z;
    if (letterbox != nullptr) {
      a = letterbox->ToSource({x1, y1});
      z = letterbox->ToSource({x2, y2});
    } else {
      const float sx = static_cast<float>(width) / pre.width;
      const float sy = static_cast<float>(height) / pre.height;
      a = {x1 * sx, y1 * sy};
      z = {x2 * sx, y2 * sy};
    }
    double l = std::clamp(a.x, 0.0f, static_cast<float>(width));
    double t = std::clamp(a.y, 0.0f, static_cast<float>(height));
    double r = std::clamp(z.x, 0.0f, static_cast<float>(width));
    double bo = std::clamp(z.y, 0.0f, static_cast<float>(height));
    if (r <= l || bo <= t) continue;
    found.emplace_back(l, t, r - l, bo - t);
    found_scores.push_back(score);
    found_classes.push_back(c);
  }
  ARGUS_ASSIGN_OR_RETURN(auto keep, PerClassNms(found, found_scores, found_classes, threshold,
                                                params.value("iou_threshold", 0.5f),
                                                params.value("max_detections", 100)));
  Json detections = Json::array();
  for (int i : keep) {
    const auto& b = found[i];
    detections.push_back({{"label", Label(spec, found_classes[i])},
                          {"class_id", found_classes[i]},
                          {"score", found_scores[i]},
                          {"box", {b.x, b.y, b.x + b.width, b.y + b.height}}});
  }
  return Json{{"detections", std::move(detections)}, {"width", width}, {"height", height}};
}

// A detector the runtime can read by itself: task object_detection with boxes and scores outputs
// (named in postprocessing, or called so). Others (CenterNet's heatmaps) answer raw outputs.
bool IsBoxDetector(const ModelSpec& spec) {
  if (spec.task != "object_detection") return false;
  const std::string boxes = PostString(spec, "boxes", "boxes");
  const std::string scores = PostString(spec, "scores", "scores");
  bool has_boxes = false, has_scores = false;
  for (const auto& o : spec.outputs) {
    has_boxes = has_boxes || o.name == boxes;
    has_scores = has_scores || o.name == scores;
  }
  return has_boxes && has_scores;
}

}  // namespace

bool IsTextTask(std::string_view task) { return task == "text_embedding"; }

Json TaskParamsSchema(const ModelSpec& spec) {
  if (IsBoxDetector(spec)) return DetectionParamsSchema(spec.labels);
  return {{"type", "object"}, {"additionalProperties", false}};
}

Json TaskOutputSchema(const ModelSpec& spec) {
  if (spec.task == "image_embedding" || spec.task == "text_embedding") return EmbeddingSchema();
  if (IsBoxDetector(spec)) return DetectionsOutputSchema();
  return {{"type", "object"},
          {"properties", {{"outputs", {{"type", "object"}}}, {"model", {{"type", "string"}}}}}};
}

Result<TextInput> TextInputOf(const ModelSpec& spec,
                              const std::vector<std::vector<int64_t>>& graph_inputs) try {
  const Json& pre = spec.preprocessing;
  if (pre.value("tokenizer", "") != "wordpiece") {
    return InvalidArgumentError("model '" + spec.name +
                                "' needs preprocessing.tokenizer \"wordpiece\" and a vocab file");
  }
  std::string vocab = pre.value("vocab", "");
  if (vocab.empty() || std::filesystem::path(vocab).is_absolute() ||
      vocab.find("..") != std::string::npos) {
    return InvalidArgumentError("model '" + spec.name +
                                "': preprocessing.vocab must be a file inside the model directory");
  }
  TextInput in;
  in.ids = -1;
  for (size_t i = 0; i < spec.inputs.size(); ++i) {
    const std::string& n = spec.inputs[i].name;
    if (n.find("mask") != std::string::npos) {
      in.mask = static_cast<int>(i);
    } else if (n.find("type") != std::string::npos || n.find("segment") != std::string::npos) {
      in.types = static_cast<int>(i);
    } else if (in.ids < 0) {
      in.ids = static_cast<int>(i);
    } else {  // e.g. position_ids: zeros would be wrong, so refuse rather than guess
      return InvalidArgumentError("model '" + spec.name + "' has an input '" + n +
                                  "' besides token ids, attention mask and token types");
    }
  }
  // The graph's shape, not the manifest's (which may leave it out): [N, S].
  if (in.ids < 0 || graph_inputs.size() != spec.inputs.size() || graph_inputs[in.ids].size() != 2) {
    return InvalidArgumentError("model '" + spec.name +
                                "' needs its inputs listed in the manifest, with an [N, S] "
                                "token-id input");
  }
  in.fixed_length = graph_inputs[in.ids][1] > 0 ? graph_inputs[in.ids][1] : -1;
  int max_length = pre.value("max_length", 128);
  if (in.fixed_length > 0) max_length = static_cast<int>(in.fixed_length);
  const std::string dir = std::filesystem::path(spec.path).parent_path().string();
  const std::string vocab_path = (std::filesystem::path(dir) / vocab).string();
  const std::string vocab_sha256 = pre.value("vocab_sha256", "");
  if (!vocab_sha256.empty() && !store::IsBlobSha256(vocab_sha256)) {
    return InvalidArgumentError("preprocessing.vocab_sha256 must be 64 lowercase hex digits");
  }
  ARGUS_ASSIGN_OR_RETURN(
      in.tokenizer,
      WordPieceTokenizer::Load(
          vocab_path, {.lowercase = pre.value("lowercase", true), .max_length = max_length},
          vocab_sha256));
  in.cls_pooling = PostString(spec, "pooling", "mean") == "cls";
  return in;
} catch (const Json::exception& e) {
  return InvalidArgumentError("model '" + spec.name +
                              "' has a malformed preprocessing entry: " + e.what());
}

Result<Json> RunImageModel(ModelPool& pool, const ModelSpec& spec, const DecodedImage& image,
                           const Json& params, std::chrono::steady_clock::time_point deadline) {
  ARGUS_ASSIGN_OR_RETURN(auto pre, ImageInputOf(spec));
  const bool letterboxed = spec.preprocessing.value("resize", "stretch") == "letterbox";
  Letterbox box;
  Tensor input =
      letterboxed ? LetterboxToTensor(image.bgr, pre, &box) : ImageToTensor(image.bgr, pre);
  ARGUS_ASSIGN_OR_RETURN(auto outputs, pool.Run(spec.name, {std::move(input)}, deadline));
  Json out;
  if (spec.task == "image_embedding" && !outputs.empty()) {
    out = {{"embedding", L2Normalised(outputs[0].data)}, {"dimensions", outputs[0].data.size()}};
  } else if (IsBoxDetector(spec)) {
    ARGUS_ASSIGN_OR_RETURN(out, Detections(spec, outputs, params, image.bgr.cols, image.bgr.rows,
                                           letterboxed ? &box : nullptr, pre));
  } else {
    int64_t total = 0;
    for (const auto& o : outputs) total += static_cast<int64_t>(o.data.size());
    if (total > kMaxRawOutputFloats) {
      return InvalidArgumentError("model '" + spec.name + "' answers " + std::to_string(total) +
                                  " numbers: too many to return raw; use an extractor");
    }
    Json named = Json::object();
    for (size_t i = 0; i < outputs.size(); ++i) {
      std::string name = i < spec.outputs.size() ? spec.outputs[i].name : std::to_string(i);
      named[name] = {{"shape", outputs[i].shape}, {"data", outputs[i].data}};
    }
    out = {{"outputs", std::move(named)}};
  }
  out["model"] = spec.name + "@" + spec.version;
  return out;
}

Result<Json> RunTextModel(ModelPool& pool, const ModelSpec& spec, const TextInput& input,
                          std::string_view text, std::chrono::steady_clock::time_point deadline) {
  // Every token takes at least one byte of text, and a word longer than kMaxWordChars is one
  // [UNK]: this much text always holds max_length tokens, so cutting there changes nothing and
  // a 32 MB body costs no more than a long sentence.
  const size_t enough = static_cast<size_t>(input.tokenizer->max_length()) * 408;
  if (text.size() > enough) text = text.substr(0, enough);
  std::vector<int64_t> ids = input.tokenizer->Encode(text);
  const int framing = input.tokenizer->Encode("").size();
  if (static_cast<int>(ids.size()) <= framing) {
    return InvalidArgumentError("the text has no words to embed");
  }
  // Padded to the graph's fixed length; else, with a mask, to the next power of two (so texts of
  // similar length share a shape and batch together); without a mask padding would change the
  // answer, so to max_length.
  int64_t length = input.fixed_length;
  if (length <= 0) {
    length = input.tokenizer->max_length();
    if (input.mask >= 0) {
      int64_t bucket = 8;
      while (bucket < static_cast<int64_t>(ids.size())) bucket *= 2;
      length = std::min<int64_t>(bucket, length);
    }
  }
  const int64_t used = std::min<int64_t>(static_cast<int64_t>(ids.size()), length);
  std::vector<Tensor> inputs(spec.inputs.size());
  for (auto& t : inputs) {
    t.shape = {1, length};
    t.data.assign(static_cast<size_t>(length), 0.0f);
  }
  for (int64_t i = 0; i < length; ++i) {
    inputs[input.ids].data[i] =
        static_cast<float>(i < used ? ids[i] : input.tokenizer->padding_id());
    if (input.mask >= 0) inputs[input.mask].data[i] = i < used ? 1.0f : 0.0f;
  }
  ARGUS_ASSIGN_OR_RETURN(auto outputs, pool.Run(spec.name, std::move(inputs), deadline));
  if (outputs.empty() || outputs[0].data.empty()) {
    return InternalError("model '" + spec.name + "' answered nothing");
  }
  const Tensor& o = outputs[0];
  std::vector<float> pooled;
  if (o.shape.size() == 3 && o.shape[1] == length) {  // per token: pool
    const int64_t d = o.shape[2];
    pooled.assign(static_cast<size_t>(d), 0.0f);
    const int64_t from = 0, to = input.cls_pooling ? 1 : used;
    for (int64_t t = from; t < to; ++t) {
      for (int64_t j = 0; j < d; ++j) pooled[j] += o.data[t * d + j];
    }
  } else {
    pooled = o.data;
  }
  return Json{{"embedding", L2Normalised(pooled)},
              {"dimensions", pooled.size()},
              {"tokens", used},
              {"model", spec.name + "@" + spec.version}};
}

}  // namespace argus::engine
