// moderation: MobileNetV2's five content scores (nsfwjs's classes), on the unblurred input the
// classifier was trained on.
#include "engine/extractors/image_embedding/mobilenet.h"

namespace argus::engine {
namespace {

const char* const kModerationLabels[] = {"drawing", "hentai", "neutral", "porn", "sexy"};

class Moderation final : public Extractor {
 public:
  Moderation()
      : info_{.name = "moderation",
              .version = "1",
              .description = "content scores (drawing, hentai, neutral, porn, sexy), summing to 1",
              .models = {std::string(kMobileNetModel)}} {
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
  Result<Json> Extract(const MediaRef& media, const Json&, ExtractContext& ctx) const override {
    ARGUS_ASSIGN_OR_RETURN(auto decoded, media.Image());
    const DecodedImage& image = *decoded;
    ARGUS_ASSIGN_OR_RETURN(Tensor scores, RunMobileNet(image, ctx, 5, 0.0f));
    Json out = Json::object();
    size_t best = 0;
    for (size_t i = 0; i < 5; ++i) {
      out[kModerationLabels[i]] = scores.data[i];
      if (scores.data[i] > scores.data[best]) best = i;
    }
    return Json{{"scores", std::move(out)},
                {"label", kModerationLabels[best]},
                {"model", ModelTag(*ctx.models, kMobileNetModel)}};
  }

 private:
  ExtractorInfo info_;
};

}  // namespace

std::unique_ptr<Extractor> NewModerationExtractor() { return std::make_unique<Moderation>(); }

}  // namespace argus::engine
