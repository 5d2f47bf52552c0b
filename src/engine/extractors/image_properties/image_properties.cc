// image_properties: what the pixels say without a model: size and format, the EXIF orientation,
// dominant colours (k-means in OpenCV over a downscaled copy) and a difference hash (dHash) for
// finding near duplicates by Hamming distance.
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "engine/extractors/extractors.h"
#include "fmt/format.h"

namespace argus::engine {

uint64_t DifferenceHash(const cv::Mat& bgr) {
  cv::Mat gray, small;
  cv::cvtColor(bgr, gray, cv::COLOR_BGR2GRAY);
  cv::resize(gray, small, cv::Size(9, 8), 0, 0, cv::INTER_AREA);
  uint64_t hash = 0;
  for (int y = 0; y < 8; ++y) {
    for (int x = 0; x < 8; ++x) {
      hash = hash << 1 | (small.at<uint8_t>(y, x) < small.at<uint8_t>(y, x + 1) ? 1 : 0);
    }
  }
  return hash;
}

namespace {

class ImageProperties final : public Extractor {
 public:
  ImageProperties()
      : info_{.name = "image_properties",
              .version = "1",
              .description = "size, format, EXIF, dominant colours, dHash (no model)"} {
    info_.params_schema = {
        {"type", "object"},
        {"additionalProperties", false},
        {"properties",
         {{"colors", {{"type", "integer"}, {"minimum", 1}, {"maximum", 10}, {"default", 5}}}}}};
    const Json color = {{"type", "object"},
                        {"properties",
                         {{"hex", {{"type", "string"}}},
                          {"rgb", {{"type", "array"}}},
                          {"fraction", {{"type", "number"}}}}}};
    info_.output_schema = {
        {"type", "object"},
        {"required", {"width", "height", "format", "colors", "dhash"}},
        {"properties",
         {{"width", {{"type", "integer"}, {"description", "upright (after EXIF orientation)"}}},
          {"height", {{"type", "integer"}}},
          {"format", {{"type", "string"}}},
          {"orientation", {{"type", "integer"}}},
          {"colors", {{"type", "array"}, {"items", color}}},
          {"dhash",
           {{"type", "string"},
            {"description", "64-bit difference hash, hex; near duplicates differ in few bits"}}},
          {"brightness", {{"type", "number"}, {"description", "mean luma, 0..1"}}},
          {"exif",
           {{"type", "object"},
            {"description",
             "make, model, software, taken_at, exposure_time, f_number, iso, focal_length, "
             "lens, gps {latitude, longitude}: those present"}}}}}};
  }
  const ExtractorInfo& info() const override { return info_; }

  Result<Json> Extract(const MediaRef& media, const Json& params, ExtractContext&) const override {
    ARGUS_ASSIGN_OR_RETURN(auto decoded, media.Image());
    const DecodedImage& image = *decoded;
    const int k = params.value("colors", 5);
    // Dominant colours: k-means over at most ~10k pixels.
    cv::Mat small;
    double f = std::min(1.0, std::sqrt(10000.0 / (image.bgr.total() + 1)));
    cv::resize(image.bgr, small, cv::Size(), f, f, cv::INTER_AREA);
    if (small.empty()) small = image.bgr;
    cv::Mat samples;
    small.reshape(1, static_cast<int>(small.total())).convertTo(samples, CV_32F);
    const int clusters = std::min(k, samples.rows);
    cv::Mat labels, centers;
    cv::setRNGSeed(7);  // the same image gives the same colours
    cv::kmeans(samples, clusters, labels,
               cv::TermCriteria(cv::TermCriteria::EPS + cv::TermCriteria::COUNT, 20, 1.0), 3,
               cv::KMEANS_PP_CENTERS, centers);
    std::vector<int> counts(clusters, 0);
    for (int i = 0; i < labels.rows; ++i) ++counts[labels.at<int>(i)];
    std::vector<int> order(clusters);
    for (int i = 0; i < clusters; ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](int a, int b) { return counts[a] > counts[b]; });
    Json colors = Json::array();
    for (int c : order) {
      int b = cvRound(centers.at<float>(c, 0)), g = cvRound(centers.at<float>(c, 1)),
          r = cvRound(centers.at<float>(c, 2));
      colors.push_back({{"hex", fmt::format("#{:02x}{:02x}{:02x}", r, g, b)},
                        {"rgb", {r, g, b}},
                        {"fraction", static_cast<double>(counts[c]) / labels.rows}});
    }
    cv::Mat gray;
    cv::cvtColor(small, gray, cv::COLOR_BGR2GRAY);
    return Json{{"width", image.bgr.cols},
                {"height", image.bgr.rows},
                {"format", image.header.format},
                {"orientation", image.header.orientation},
                {"colors", std::move(colors)},
                {"dhash", fmt::format("{:016x}", DifferenceHash(image.bgr))},
                {"brightness", cv::mean(gray)[0] / 255.0},
                {"exif", ReadExif(image.exif)}};
  }

 private:
  ExtractorInfo info_;
};

}  // namespace

std::unique_ptr<Extractor> NewImagePropertiesExtractor() {
  return std::make_unique<ImageProperties>();
}

}  // namespace argus::engine
