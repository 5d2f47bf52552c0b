#include "engine/image/preprocess.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

namespace argus::engine {
namespace {

// Area averaging whenever the image shrinks: anti-aliased, so the same photo at another size
// gives nearly the same tensor (bilinear when it grows).
cv::Mat Resize(const cv::Mat& bgr, int width, int height) {
  cv::Mat resized;
  const bool shrink = bgr.cols > width || bgr.rows > height;
  cv::resize(bgr, resized, cv::Size(width, height), 0, 0,
             shrink ? cv::INTER_AREA : cv::INTER_LINEAR);
  return resized;
}

cv::Mat Smooth(cv::Mat sized, const ImagePreprocessing& p) {
  if (p.blur_sigma > 0) {
    cv::GaussianBlur(sized, sized, cv::Size(0, 0), p.blur_sigma, p.blur_sigma,
                     cv::BORDER_REFLECT_101);
  }
  return sized;
}

// A BGR 8-bit image of exactly p.width × p.height into the normalised tensor.
Tensor Normalise(const cv::Mat& sized, const ImagePreprocessing& p) {
  cv::Mat pixels;
  if (p.rgb) {
    cv::cvtColor(sized, pixels, cv::COLOR_BGR2RGB);
  } else {
    pixels = sized;
  }
  Tensor t;
  const size_t plane = static_cast<size_t>(p.width) * p.height;
  t.data.resize(plane * 3);
  t.shape = p.nchw ? std::vector<int64_t>{1, 3, p.height, p.width}
                   : std::vector<int64_t>{1, p.height, p.width, 3};
  float mul[3], add[3];
  for (int c = 0; c < 3; ++c) {
    mul[c] = p.scale / p.std[c];
    add[c] = -p.mean[c] / p.std[c];
  }
  for (int y = 0; y < p.height; ++y) {
    const unsigned char* row = pixels.ptr<unsigned char>(y);
    for (int x = 0; x < p.width; ++x) {
      const size_t i = static_cast<size_t>(y) * p.width + x;
      for (int c = 0; c < 3; ++c) {
        float v = row[x * 3 + c] * mul[c] + add[c];
        if (p.nchw) {
          t.data[c * plane + i] = v;
        } else {
          t.data[i * 3 + c] = v;
        }
      }
    }
  }
  return t;
}

}  // namespace

Tensor ImageToTensor(const cv::Mat& bgr, const ImagePreprocessing& p) {
  return Normalise(Smooth(Resize(bgr, p.width, p.height), p), p);
}

Tensor LetterboxToTensor(const cv::Mat& bgr, const ImagePreprocessing& p, Letterbox* letterbox) {
  const double scale =
      std::min(static_cast<double>(p.width) / bgr.cols, static_cast<double>(p.height) / bgr.rows);
  Letterbox box;
  box.width = std::clamp(static_cast<int>(std::lround(bgr.cols * scale)), 1, p.width);
  box.height = std::clamp(static_cast<int>(std::lround(bgr.rows * scale)), 1, p.height);
  box.left = (p.width - box.width) / 2;
  box.top = (p.height - box.height) / 2;
  box.scale_x = static_cast<float>(box.width) / bgr.cols;
  box.scale_y = static_cast<float>(box.height) / bgr.rows;
  cv::Mat padded;
  cv::copyMakeBorder(Smooth(Resize(bgr, box.width, box.height), p), padded, box.top,
                     p.height - box.height - box.top, box.left, p.width - box.width - box.left,
                     cv::BORDER_CONSTANT, cv::Scalar(0, 0, 0));
  if (letterbox != nullptr) *letterbox = box;
  return Normalise(padded, p);
}

}  // namespace argus::engine
