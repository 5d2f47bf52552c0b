// face_embedding: faces found by face_detection (BlazeFace), each cropped upright (rotated so the
// eyes are level, the box grown by 20 % a side) and described by Human's faceres: a 1024-d
// descriptor (L2-normalised; the same person scores high), gender and age.
#include <cmath>
#include <opencv2/imgproc.hpp>

#include "engine/extractors/extractors.h"

namespace argus::engine {
namespace {

constexpr char kModel[] = "faceres";

// The face's crop, rotated about its centre so the eyes are level.
cv::Mat AlignedCrop(const cv::Mat& bgr, const Json& face, int size) {
  const auto& b = face["box"];
  const double x1 = b[0], y1 = b[1], x2 = b[2], y2 = b[3];
  const double cx = (x1 + x2) / 2, cy = (y1 + y2) / 2;
  const double side = std::max(x2 - x1, y2 - y1) * 1.4;  // 20 % a side
  double angle = 0;
  if (face.contains("landmarks") && face["landmarks"].size() >= 2) {
    const auto& right = face["landmarks"][0];
    const auto& left = face["landmarks"][1];
    angle = std::atan2(left[1].get<double>() - right[1].get<double>(),
                       left[0].get<double>() - right[0].get<double>()) *
            180.0 / M_PI;
  }
  // One affine warp: rotate about the centre, then move the square around it to the origin and
  // scale it to the model's input size.
  cv::Mat m = cv::getRotationMatrix2D(cv::Point2f(cx, cy), angle, size / side);
  m.at<double>(0, 2) += size / 2.0 - cx;
  m.at<double>(1, 2) += size / 2.0 - cy;
  cv::Mat crop;
  cv::warpAffine(bgr, crop, m, cv::Size(size, size), cv::INTER_AREA, cv::BORDER_REPLICATE);
  return crop;
}

class FaceEmbedding final : public Extractor {
 public:
  FaceEmbedding()
      : info_{.name = "face_embedding",
              .version = "1",
              .description = "per face: 1024-d descriptor (faceres), gender, age",
              .models = {std::string(kModel)}},
        detector_(NewFaceDetectionExtractor()) {
    for (const auto& m : detector_->info().models) info_.models.push_back(m);
    info_.granularity = Granularity::kRegion;  // each detection is its own document
    info_.regions_field = "faces";
    info_.vectors = {{.output = "embedding", .dimension = 1024}};
    info_.params_schema = detector_->info().params_schema;
    info_.output_schema = {
        {"type", "object"},
        {"required", {"faces", "model"}},
        {"properties",
         {{"faces",
           {{"type", "array"},
            {"items",
             {{"type", "object"},
              {"properties",
               {{"box", {{"type", "array"}}},
                {"score", {{"type", "number"}}},
                {"embedding", {{"type", "array"}, {"items", {{"type", "number"}}}}},
                {"gender", {{"type", "string"}, {"enum", {"female", "male"}}}},
                {"gender_score", {{"type", "number"}}},
                {"age", {{"type", "number"}}}}}}}}},
          {"model", {{"type", "string"}}}}}};
  }
  const ExtractorInfo& info() const override { return info_; }

  Result<Json> Extract(const MediaRef& media, const Json& params,
                       ExtractContext& ctx) const override {
    ARGUS_ASSIGN_OR_RETURN(auto decoded, media.Image());
    const DecodedImage& image = *decoded;
    ARGUS_ASSIGN_OR_RETURN(Json detected, detector_->Extract(media, params, ctx));
    const ModelSpec* spec = ctx.models->Spec(kModel);
    if (spec == nullptr) return UnavailableError("model 'faceres' is not installed");
    ARGUS_ASSIGN_OR_RETURN(auto pre, ImageInputOf(*spec));
    Json faces = Json::array();
    for (auto& face : detected["faces"]) {
      cv::Mat crop = AlignedCrop(image.bgr, face, std::max(pre.width, pre.height));
      ARGUS_ASSIGN_OR_RETURN(auto outputs,
                             ctx.models->Run(kModel, {ImageToTensor(crop, pre)}, ctx.deadline));
      const Tensor* descriptor = nullptr;
      const Tensor* gender = nullptr;
      const Tensor* age = nullptr;
      for (const auto& o : outputs) {
        const int64_t w = o.shape.empty() ? 0 : o.shape.back();
        if (w == 1024) descriptor = &o;
        if (w == 1) gender = &o;
        if (w == 100) age = &o;
      }
      if (descriptor == nullptr) return InternalError("model 'faceres' gave no 1024-d output");
      Json out = {{"box", face["box"]},
                  {"score", face["score"]},
                  {"embedding", L2Normalised(descriptor->data)}};
      if (gender != nullptr) {
        const float g = gender->data[0];  // sigmoid: near 1 is male
        out["gender"] = g > 0.5f ? "male" : "female";
        out["gender_score"] = g > 0.5f ? g : 1 - g;
      }
      if (age != nullptr) {
        double expected = 0;  // the mean of the age distribution
        for (size_t i = 0; i < age->data.size(); ++i) expected += i * age->data[i];
        out["age"] = std::round(expected * 10) / 10;
      }
      faces.push_back(std::move(out));
    }
    return Json{{"faces", std::move(faces)}, {"model", ModelTag(*ctx.models, kModel)}};
  }

 private:
  ExtractorInfo info_;
  std::unique_ptr<Extractor> detector_;
};

}  // namespace

std::unique_ptr<Extractor> NewFaceEmbeddingExtractor() { return std::make_unique<FaceEmbedding>(); }

}  // namespace argus::engine
