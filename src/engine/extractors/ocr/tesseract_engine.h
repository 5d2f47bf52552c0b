// Tesseract as the second OCR engine of the `ocr` extractor (`engine: "tesseract"`): classic,
// CPU-only, strong on clean scanned pages. The only file that includes Tesseract's headers.
#pragma once

#include <array>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "core/result.h"

namespace argus::engine {

struct TesseractLine {
  std::string text;
  float confidence = 0;  ///< 0..1
  cv::Rect box;          ///< source pixels
};

/// The text lines Tesseract reads in `bgr` (language "eng", Debian's tesseract-ocr-eng data).
/// Thread-safe: engines are pooled (each one serves one call at a time). Unavailable when the
/// language data is missing.
Result<std::vector<TesseractLine>> TesseractLines(const cv::Mat& bgr);

/// "5.3.0": the library in use.
std::string TesseractVersion();

}  // namespace argus::engine
