// Thumbnails: a decoded image scaled down to fit a square and encoded small. Pure, thread-safe.
#pragma once

#include <opencv2/core.hpp>
#include <string>

#include "core/result.h"

namespace argus::engine {

struct ThumbnailOptions {
  int max_side = 256;           ///< the longer side, in pixels; smaller images are not enlarged
  std::string format = "jpeg";  ///< "jpeg", "webp" or "png"
  int quality = 80;             ///< 1..100 for jpeg and webp
};

struct Thumbnail {
  std::string bytes;
  std::string media_type;  ///< "image/jpeg", ...
  int width = 0;
  int height = 0;
};

/// Area-averaged downscale (no aliasing), aspect ratio kept, each side at least 1 pixel.
/// InvalidArgument for an empty image, a max_side outside 1..8192, an unknown format or a quality
/// outside 1..100; Internal when the encoder fails.
Result<Thumbnail> MakeThumbnail(const cv::Mat& bgr, const ThumbnailOptions& options);

}  // namespace argus::engine
