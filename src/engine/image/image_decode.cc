#include "engine/image/image_decode.h"

#include <fmt/format.h>
#include <libexif/exif-data.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <vector>

namespace argus::engine {
namespace {

uint16_t Be16(const unsigned char* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
uint16_t Le16(const unsigned char* p) { return static_cast<uint16_t>(p[1] << 8 | p[0]); }
uint32_t Le24(const unsigned char* p) { return p[0] | p[1] << 8 | p[2] << 16; }
uint32_t Le32(const unsigned char* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
         static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
}

Status Truncated(std::string_view format) {
  return InvalidArgumentError(std::string("the ") + std::string(format) + " header is cut short");
}

// The orientation tag (0x0112) of IFD0 in an Exif APP1 payload (after "Exif\0\0"); 1 if absent.
int ExifOrientation(const unsigned char* tiff, size_t size) {
  if (size < 8) return 1;
  bool little = tiff[0] == 'I' && tiff[1] == 'I';
  if (!little && !(tiff[0] == 'M' && tiff[1] == 'M')) return 1;
  auto u16 = [&](size_t at) -> uint32_t { return little ? Le16(tiff + at) : Be16(tiff + at); };
  auto u32 = [&](size_t at) -> uint32_t {
    return little ? Le32(tiff + at) : (u16(at) << 16 | u16(at + 2));
  };
  size_t ifd = u32(4);
  if (ifd + 2 > size) return 1;
  size_t entries = u16(ifd);
  for (size_t i = 0; i < entries; ++i) {
    size_t e = ifd + 2 + i * 12;
    if (e + 12 > size) return 1;
    if (u16(e) == 0x0112 && u16(e + 2) == 3 /* SHORT */) {
      uint32_t v = u16(e + 8);
      return v >= 1 && v <= 8 ? static_cast<int>(v) : 1;
    }
  }
  return 1;
}

Result<ImageHeader> ProbeJpeg(const unsigned char* p, size_t n) {
  ImageHeader h;
  h.format = "jpeg";
  bool have_frame = false;
  size_t at = 2;
  // Walks the segments by their lengths (so bytes inside APPn payloads, e.g. an EXIF thumbnail,
  // are never mistaken for markers) up to the first scan of the image itself.
  while (true) {
    while (at < n && p[at] == 0xFF && at + 1 < n && p[at + 1] == 0xFF) ++at;  // fill bytes
    if (at + 4 > n) {
      if (have_frame) return h;  // cut off before the scan: DecodeImage calls it truncated
      return Truncated("JPEG");
    }
    if (p[at] != 0xFF) return InvalidArgumentError("the JPEG has a malformed segment");
    unsigned char marker = p[at + 1];
    if ((marker >= 0xD0 && marker <= 0xD7) || marker == 0x01) {
      at += 2;
      continue;
    }
    if (marker == 0xD9 || (marker == 0xDA && !have_frame)) {
      return InvalidArgumentError("the JPEG has no frame header");
    }
    if (marker == 0xDA) {
      h.scan_offset = at;
      return h;
    }
    size_t len = Be16(p + at + 2);
    if (len < 2) return InvalidArgumentError("the JPEG has a malformed segment");
    const unsigned char* seg = p + at + 4;
    size_t seg_size = len - 2;
    bool is_sof =
        marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (is_sof && !have_frame) {
      if (at + 4 + 5 > n || seg_size < 5) return Truncated("JPEG");
      h.height = Be16(seg + 1);
      h.width = Be16(seg + 3);
      have_frame = true;
    }
    if (marker == 0xE1 && seg_size >= 6 && at + 4 + seg_size <= n &&
        std::string_view(reinterpret_cast<const char*>(seg), 6) ==
            std::string_view("Exif\0\0", 6)) {
      h.orientation = ExifOrientation(seg + 6, seg_size - 6);
      h.exif_offset = at + 4;
      h.exif_size = seg_size;
    }
    at += 2 + len;
  }
}

}  // namespace

Result<ImageHeader> ProbeImage(std::string_view bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t n = bytes.size();
  if (n == 0) return InvalidArgumentError("the body is empty: send the image bytes");
  ImageHeader h;
  if (n >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF) {
    ARGUS_ASSIGN_OR_RETURN(h, ProbeJpeg(p, n));
  } else if (n >= 8 && bytes.substr(0, 8) == std::string_view("\x89PNG\r\n\x1a\n", 8)) {
    if (n < 24) return Truncated("PNG");
    if (bytes.substr(12, 4) != "IHDR") return InvalidArgumentError("the PNG has no IHDR chunk");
    h.format = "png";
    auto be32 = [&](size_t at) {
      return static_cast<uint32_t>(Be16(p + at)) << 16 | Be16(p + at + 2);
    };
    uint32_t w = be32(16), ht = be32(20);
    if (w > 0x7fffffff || ht > 0x7fffffff) return InvalidArgumentError("the PNG size is invalid");
    h.width = static_cast<int>(w);
    h.height = static_cast<int>(ht);
  } else if (n >= 12 && bytes.substr(0, 4) == "RIFF" && bytes.substr(8, 4) == "WEBP") {
    h.format = "webp";
    if (n < 30) return Truncated("WebP");
    std::string_view chunk = bytes.substr(12, 4);
    if (chunk == "VP8 ") {
      if (p[23] != 0x9d || p[24] != 0x01 || p[25] != 0x2a) {
        return InvalidArgumentError("the WebP frame header is invalid");
      }
      h.width = Le16(p + 26) & 0x3fff;
      h.height = Le16(p + 28) & 0x3fff;
    } else if (chunk == "VP8L") {
      if (p[20] != 0x2f) return InvalidArgumentError("the WebP lossless header is invalid");
      uint32_t bits = Le32(p + 21);
      h.width = static_cast<int>((bits & 0x3fff) + 1);
      h.height = static_cast<int>(((bits >> 14) & 0x3fff) + 1);
    } else if (chunk == "VP8X") {
      h.width = static_cast<int>(Le24(p + 24) + 1);
      h.height = static_cast<int>(Le24(p + 27) + 1);
    } else {
      return InvalidArgumentError("the WebP file has an unknown first chunk");
    }
  } else if (n >= 2 && p[0] == 'B' && p[1] == 'M') {
    if (n < 26) return Truncated("BMP");
    h.format = "bmp";
    const int64_t w = static_cast<int32_t>(Le32(p + 18));
    const int64_t ht = static_cast<int32_t>(Le32(p + 22));  // negative: stored top-down
    if (w <= 0 || ht == 0 || w > 0x7fffffff || std::abs(ht) > 0x7fffffff) {
      return InvalidArgumentError("the BMP size is invalid");
    }
    h.width = static_cast<int>(w);
    h.height = static_cast<int>(std::abs(ht));
  } else {
    return InvalidArgumentError("not an image Argus decodes (JPEG, PNG, WebP or BMP)");
  }
  if (h.width <= 0 || h.height <= 0) {
    return InvalidArgumentError("the image header claims an empty image");
  }
  return h;
}

Result<DecodedImage> CropImage(const DecodedImage& image, double x1, double y1, double x2,
                               double y2) {
  const auto clamp = [](double v, int hi) {
    return std::isfinite(v) ? static_cast<int>(std::clamp(std::round(v), 0.0, double(hi))) : 0;
  };
  const int left = clamp(x1, image.bgr.cols), right = clamp(x2, image.bgr.cols);
  const int top = clamp(y1, image.bgr.rows), bottom = clamp(y2, image.bgr.rows);
  if (right <= left || bottom <= top) {
    return InvalidArgumentError(
        fmt::format("the region [{}, {}, {}, {}] holds nothing of the {}x{} image", x1, y1, x2, y2,
                    image.bgr.cols, image.bgr.rows));
  }
  DecodedImage crop;
  crop.header = image.header;
  crop.header.width = right - left;
  crop.header.height = bottom - top;
  crop.header.orientation = 1;
  crop.header.exif_offset = crop.header.exif_size = 0;
  crop.bgr = image.bgr(cv::Rect(left, top, right - left, bottom - top)).clone();
  return crop;
}

Result<DecodedImage> DecodeImage(std::string_view bytes, const DecodeLimits& limits) {
  ARGUS_ASSIGN_OR_RETURN(ImageHeader header, ProbeImage(bytes));
  if (limits.max_pixels > 0 && header.pixels() > limits.max_pixels) {
    return InvalidArgumentError("the image is " + std::to_string(header.width) + "x" +
                                std::to_string(header.height) + " = " +
                                std::to_string(header.pixels()) + " pixels, over the limit of " +
                                std::to_string(limits.max_pixels));
  }
  if (header.format == "jpeg") {
    // libjpeg fills a cut-off scan with grey and calls it a success: require the end marker
    // after the first scan (entropy-coded data never holds FF D9).
    const size_t sos = header.scan_offset;
    if (sos == 0 || bytes.find("\xFF\xD9", sos) == std::string_view::npos) {
      return InvalidArgumentError("the JPEG is truncated (no end of image)");
    }
  }
  DecodedImage out;
  out.header = header;
  if (header.exif_size > 0) out.exif.assign(bytes.substr(header.exif_offset, header.exif_size));
  try {
    cv::Mat raw(1, static_cast<int>(bytes.size()), CV_8UC1,
                const_cast<char*>(bytes.data()));  // read only
    out.bgr = cv::imdecode(raw, cv::IMREAD_COLOR | cv::IMREAD_IGNORE_ORIENTATION);
  } catch (const cv::Exception& e) {
    return InvalidArgumentError(std::string("the image does not decode: ") + e.what());
  }
  if (out.bgr.empty()) {
    return InvalidArgumentError("the " + header.format +
                                " image does not decode (corrupt or "
                                "truncated)");
  }
  switch (header.orientation) {  // EXIF: how the stored pixels must turn to stand upright
    case 2:
      cv::flip(out.bgr, out.bgr, 1);
      break;
    case 3:
      cv::rotate(out.bgr, out.bgr, cv::ROTATE_180);
      break;
    case 4:
      cv::flip(out.bgr, out.bgr, 0);
      break;
    case 5:
      cv::transpose(out.bgr, out.bgr);
      break;
    case 6:
      cv::rotate(out.bgr, out.bgr, cv::ROTATE_90_CLOCKWISE);
      break;
    case 7:
      cv::transpose(out.bgr, out.bgr);
      cv::rotate(out.bgr, out.bgr, cv::ROTATE_180);
      break;
    case 8:
      cv::rotate(out.bgr, out.bgr, cv::ROTATE_90_COUNTERCLOCKWISE);
      break;
    default:
      break;
  }
  return out;
}

}  // namespace argus::engine

namespace argus::engine {

Json ReadExif(std::string_view exif) {
  Json out = Json::object();
  if (exif.empty()) return out;
  ExifData* data = exif_data_new_from_data(reinterpret_cast<const unsigned char*>(exif.data()),
                                           static_cast<unsigned int>(exif.size()));
  if (data == nullptr) return out;
  char buf[256];
  auto text = [&](ExifIfd ifd, ExifTag tag, const char* name) {
    ExifEntry* e = exif_content_get_entry(data->ifd[ifd], tag);
    if (e == nullptr) return;
    exif_entry_get_value(e, buf, sizeof buf);
    std::string v(buf);
    while (!v.empty() && v.back() == ' ') v.pop_back();
    if (!v.empty()) out[name] = v;
  };
  text(EXIF_IFD_0, EXIF_TAG_MAKE, "make");
  text(EXIF_IFD_0, EXIF_TAG_MODEL, "model");
  text(EXIF_IFD_0, EXIF_TAG_SOFTWARE, "software");
  text(EXIF_IFD_EXIF, EXIF_TAG_DATE_TIME_ORIGINAL, "taken_at");
  text(EXIF_IFD_EXIF, EXIF_TAG_EXPOSURE_TIME, "exposure_time");
  text(EXIF_IFD_EXIF, EXIF_TAG_FNUMBER, "f_number");
  text(EXIF_IFD_EXIF, EXIF_TAG_ISO_SPEED_RATINGS, "iso");
  text(EXIF_IFD_EXIF, EXIF_TAG_FOCAL_LENGTH, "focal_length");
  text(EXIF_IFD_EXIF, EXIF_TAG_LENS_MODEL, "lens");
  // GPS: three rationals (degrees, minutes, seconds) and a hemisphere letter per axis.
  const ExifByteOrder order = exif_data_get_byte_order(data);
  auto degrees = [&](ExifTag tag, ExifTag ref, double* out_value) {
    ExifEntry* e = exif_content_get_entry(data->ifd[EXIF_IFD_GPS], tag);
    ExifEntry* r = exif_content_get_entry(data->ifd[EXIF_IFD_GPS], ref);
    if (e == nullptr || e->format != EXIF_FORMAT_RATIONAL || e->components < 3) return false;
    double v = 0, unit = 1;
    for (int i = 0; i < 3; ++i) {
      ExifRational q = exif_get_rational(e->data + 8 * i, order);
      if (q.denominator == 0) return false;
      v += static_cast<double>(q.numerator) / q.denominator / unit;
      unit *= 60;
    }
    if (r != nullptr && r->size > 0 && (r->data[0] == 'S' || r->data[0] == 'W')) v = -v;
    *out_value = v;
    return true;
  };
  double lat = 0, lon = 0;
  if (degrees(static_cast<ExifTag>(EXIF_TAG_GPS_LATITUDE),
              static_cast<ExifTag>(EXIF_TAG_GPS_LATITUDE_REF), &lat) &&
      degrees(static_cast<ExifTag>(EXIF_TAG_GPS_LONGITUDE),
              static_cast<ExifTag>(EXIF_TAG_GPS_LONGITUDE_REF), &lon)) {
    out["gps"] = {{"latitude", lat}, {"longitude", lon}};
  }
  exif_data_unref(data);
  return out;
}

}  // namespace argus::engine
