#include "engine/image/thumbnail.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <vector>

namespace argus::engine {

Result<Thumbnail> MakeThumbnail(const cv::Mat& bgr, const ThumbnailOptions& options) {
  if (bgr.empty()) return InvalidArgumentError("there is no image to make a thumbnail of");
  if (options.max_side < 1 || options.max_side > 8192) {
    return InvalidArgumentError("a thumbnail's max_side is 1..8192");
  }
  if (options.quality < 1 || options.quality > 100) {
    return InvalidArgumentError("a thumbnail's quality is 1..100");
  }
  std::string ext;
  std::vector<int> params;
  Thumbnail out;
  if (options.format == "jpeg") {
    ext = ".jpg";
    out.media_type = "image/jpeg";
    params = {cv::IMWRITE_JPEG_QUALITY, options.quality, cv::IMWRITE_JPEG_OPTIMIZE, 1};
  } else if (options.format == "webp") {
    ext = ".webp";
    out.media_type = "image/webp";
    params = {cv::IMWRITE_WEBP_QUALITY, options.quality};
  } else if (options.format == "png") {
    ext = ".png";
    out.media_type = "image/png";
    params = {cv::IMWRITE_PNG_COMPRESSION, 6};
  } else {
    return InvalidArgumentError("a thumbnail's format is jpeg, webp or png, not '" +
                                options.format + "'");
  }
  const int longer = std::max(bgr.cols, bgr.rows);
  try {
    cv::Mat small = bgr;
    if (longer > options.max_side) {
      const double scale = static_cast<double>(options.max_side) / longer;
      cv::Size size(std::max(1, static_cast<int>(std::lround(bgr.cols * scale))),
                    std::max(1, static_cast<int>(std::lround(bgr.rows * scale))));
      cv::resize(bgr, small, size, 0, 0, cv::INTER_AREA);
    }
    std::vector<unsigned char> encoded;
    if (!cv::imencode(ext, small, encoded, params)) {
      return InternalError("the " + options.format + " encoder failed");
    }
    out.bytes.assign(encoded.begin(), encoded.end());
    out.width = small.cols;
    out.height = small.rows;
  } catch (const cv::Exception& e) {
    return InternalError(std::string("making a thumbnail failed: ") + e.what());
  }
  return out;
}

}  // namespace argus::engine
