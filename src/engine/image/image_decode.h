// Turning uploaded bytes into pixels, safely: the dimensions are read from the header first (no
// decoder runs on a decompression bomb), then OpenCV decodes (libjpeg-turbo / libpng underneath:
// the fastest decoders Debian ships, and the ones the model probes were measured with) and
// applies the EXIF orientation.
#pragma once

#include <cstdint>
#include <opencv2/core.hpp>
#include <string>
#include <string_view>

#include "core/json.h"
#include "core/result.h"

namespace argus::engine {

/// What the header says, before any decoding.
struct ImageHeader {
  std::string format;  ///< "jpeg", "png", "gif", "webp", "bmp"
  int width = 0;
  int height = 0;
  int orientation = 1;     ///< EXIF orientation 1..8 (JPEG only; 1 when absent)
  size_t scan_offset = 0;  ///< JPEG: where the image's first scan (SOS) starts; 0 when cut off
  size_t exif_offset = 0;  ///< JPEG: the Exif APP1 payload ("Exif\0\0" + TIFF); 0 when none
  size_t exif_size = 0;
  int64_t pixels() const { return static_cast<int64_t>(width) * height; }
};

/// Reads format and dimensions from the first bytes. InvalidArgument for bytes that are not one
/// of the supported formats, or a header that is cut short or claims a zero size.
Result<ImageHeader> ProbeImage(std::string_view bytes);

struct DecodeLimits {
  int64_t max_pixels = 40'000'000;  ///< checked from the header, before decoding
};

/// A decoded image: 8-bit BGR, upright (EXIF orientation applied).
struct DecodedImage {
  ImageHeader header;  ///< as stored (width/height before orientation)
  cv::Mat bgr;
  std::string exif;  ///< the raw Exif payload (JPEG), for ReadExif; empty when none
};

/// Probes, checks the limits, decodes. InvalidArgument for an empty body, a non-image, an image
/// over the pixel limit (the message gives both figures), or bytes that do not decode completely
/// (a truncated JPEG, whose decoder would otherwise fill the missing part with grey).
Result<DecodedImage> DecodeImage(std::string_view bytes, const DecodeLimits& limits);

/// The part of `image` inside [x1, y1, x2, y2] (pixels of the upright image, clamped to it), as
/// an image of its own (its pixels copied; header width and height are the crop's, orientation
/// 1, no Exif). InvalidArgument when nothing of the image is inside.
Result<DecodedImage> CropImage(const DecodedImage& image, double x1, double y1, double x2,
                               double y2);

/// The useful tags of an Exif payload (libexif), as JSON: make, model, software, taken_at,
/// exposure_time, f_number, iso, focal_length, lens, and gps {latitude, longitude} in decimal
/// degrees. An empty object when there is none or it does not parse.
Json ReadExif(std::string_view exif);

}  // namespace argus::engine
