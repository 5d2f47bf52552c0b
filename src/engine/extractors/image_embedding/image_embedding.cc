// image_embedding and moderation: one MobileNetV2 run (nsfwjs's Keras model converted to ONNX)
// gives both the 1280-d pooled features and the five content scores.
#include <cmath>

#include "engine/runtime/extractor.h"
#include "engine/image/preprocess.h"

namespace argus::engine {
namespace {

constexpr char kModel[] = "mobilenet_v2";
const char* const kModerationLabels[] = {"drawing", "hentai", "neutral", "porn", "sexy"};

// The embedding is taken from the model input blurred with this sigma (pixels at 224²). This
// classifier reacts to pixel-level detail, so without it the same photo resized to 3/4 or 1/2
// before upload scored cosine 0.58-0.97 to the original (messi5 0.58 at 1/2, 0.82 at 3/4); with
// it 0.96-0.998 on eight opencv-doc photos, while different photos stay at 0.68-0.86. Moderation
// scores use the unblurred input the classifier was trained on.
constexpr float kEmbeddingBlurSigma = 1.0f;

// Runs the model on the image; returns the output whose last dimension is `width`.
Result<Tensor> RunFor(const DecodedImage& image, ExtractContext& ctx, int64_t width,
                      float blur_sigma) {
  const ModelSpec* spec = ctx.models->Spec(kModel);
  if (spec == nullptr) return UnavailableError("model 'mobilenet_v2' is not installed");
  ARGUS_ASSIGN_OR_RETURN(auto pre, ImageInputOf(*spec));
  pre.blur_sigma = blur_sigma;
  ARGUS_ASSIGN_OR_RETURN(auto outputs,
                         ctx.models->Run(kModel, {ImageToTensor(image.bgr, pre)}, ctx.deadline));
  for (auto& out : outputs) {
    if (!out.shape.empty() && out.shape.back() == width) return std::move(out);
  }
  return InternalError("model 'mobilenet_v2' has no output of width " + std::to_string(width));
}

class ImageEmbedding final : public Extractor {
 public:
  ImageEmbedding()
      : info_{
            .name = "image_embedding",
            .version = "2",
            .description = "MobileNetV2 image features: 1280 floats, L2-normalised (cosine = dot)",
            .models = {std::string(kModel)}} {
    info_.params_schema = {
        {"type", "object"}, {"additionalProperties", false}, {"properties", Json::object()}};
    info_.output_schema = {{"type", "object"},
                           {"required", {"embedding", "dimensions", "model"}},
                           {"properties",
                            {{"embedding", {{"type", "array"}, {"items", {{"type", "number"}}}}},
                             {"dimensions", {{"type", "integer"}}},
                             {"model", {{"type", "string"}}}}}};
  }
  const ExtractorInfo& info() const override { return info_; }
  Result<Json> Extract(const DecodedImage& image, const Json&, ExtractContext& ctx) const override {
    ARGUS_ASSIGN_OR_RETURN(Tensor features, RunFor(image, ctx, 1280, kEmbeddingBlurSigma));
    return Json{{"embedding", L2Normalised(features.data)},
                {"dimensions", features.data.size()},
                {"model", ModelTag(*ctx.models, kModel)}};
  }

 private:
  ExtractorInfo info_;
};

class Moderation final : public Extractor {
 public:
  Moderation()
      : info_{.name = "moderation",
              .version = "1",
              .description = "content scores (drawing, hentai, neutral, porn, sexy), summing to 1",
              .models = {std::string(kModel)}} {
    info_.params_schema = {
        {"type", "object"}, {"additionalProperties", false}, {"properties", Json::object()}};
    info_.output_schema = {{"type", "object"},
                           {"required", {"scores", "label", "model"}},
                           {"properties",
                            {{"scores", {{"type", "object"}}},
                             {"label", {{"type", "string"}}},
                             {"model", {{"type", "string"}}}}}};
  }
  const ExtractorInfo& info() const override { return info_; }
  Result<Json> Extract(const DecodedImage& image, const Json&, ExtractContext& ctx) const override {
    ARGUS_ASSIGN_OR_RETURN(Tensor scores, RunFor(image, ctx, 5, 0.0f));
    Json out = Json::object();
    size_t best = 0;
    for (size_t i = 0; i < 5; ++i) {
      out[kModerationLabels[i]] = scores.data[i];
      if (scores.data[i] > scores.data[best]) best = i;
    }
    return Json{{"scores", std::move(out)},
                {"label", kModerationLabels[best]},
                {"model", ModelTag(*ctx.models, kModel)}};
  }

 private:
  ExtractorInfo info_;
};

}  // namespace

std::unique_ptr<Extractor> NewImageEmbeddingExtractor() {
  return std::make_unique<ImageEmbedding>();
}
std::unique_ptr<Extractor> NewModerationExtractor() { return std::make_unique<Moderation>(); }

}  // namespace argus::engine
