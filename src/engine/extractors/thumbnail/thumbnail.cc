// thumbnail: the image scaled down to fit a square (area-averaged, upright after EXIF
// orientation) and encoded as JPEG, WebP or PNG. The bytes come back base64-encoded in the JSON
// answer: the extractor stays a pure function, and whoever runs it decides where they are kept
// (the API's /thumbnails route stores them in the blob store).
#include "engine/image/thumbnail.h"

#include "core/crypto.h"
#include "engine/extractors/extractors.h"

namespace argus::engine {
namespace {

class ThumbnailExtractor final : public Extractor {
 public:
  ThumbnailExtractor()
      : info_{.name = "thumbnail",
              .version = "1",
              .description = "a small JPEG/WebP/PNG of the image, upright (no model)"} {
    info_.params_schema = {
        {"type", "object"},
        {"additionalProperties", false},
        {"properties",
         {{"max_side", {{"type", "integer"}, {"minimum", 16}, {"maximum", 2048}, {"default", 256}}},
          {"format", {{"type", "string"}, {"enum", {"jpeg", "webp", "png"}}, {"default", "jpeg"}}},
          {"quality", {{"type", "integer"}, {"minimum", 1}, {"maximum", 100}, {"default", 80}}}}}};
    info_.output_schema = {
        {"type", "object"},
        {"required", {"width", "height", "media_type", "size", "data"}},
        {"properties",
         {{"width", {{"type", "integer"}}},
          {"height", {{"type", "integer"}}},
          {"media_type", {{"type", "string"}}},
          {"size", {{"type", "integer"}, {"description", "bytes"}}},
          {"data", {{"type", "string"}, {"description", "the encoded image, base64"}}}}}};
  }
  const ExtractorInfo& info() const override { return info_; }

  Result<Json> Extract(const MediaRef& media, const Json& params, ExtractContext&) const override {
    ARGUS_ASSIGN_OR_RETURN(auto decoded, media.Image());
    const DecodedImage& image = *decoded;
    ARGUS_ASSIGN_OR_RETURN(auto thumb,
                           MakeThumbnail(image.bgr, {.max_side = params.value("max_side", 256),
                                                     .format = params.value("format", "jpeg"),
                                                     .quality = params.value("quality", 80)}));
    return Json{{"width", thumb.width},
                {"height", thumb.height},
                {"media_type", thumb.media_type},
                {"size", thumb.bytes.size()},
                {"data", Base64Encode(thumb.bytes)}};
  }

 private:
  ExtractorInfo info_;
};

}  // namespace

std::unique_ptr<Extractor> NewThumbnailExtractor() {
  return std::make_unique<ThumbnailExtractor>();
}

}  // namespace argus::engine
