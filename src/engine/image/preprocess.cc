#include "engine/image/preprocess.h"

#include <opencv2/imgproc.hpp>

namespace argus::engine {

Tensor ImageToTensor(const cv::Mat& bgr, const ImagePreprocessing& p) {
  cv::Mat resized;
  // Area averaging whenever the image shrinks: anti-aliased, so the same photo at another size
  // gives nearly the same tensor (bilinear when it grows).
  const bool shrink = bgr.cols > p.width || bgr.rows > p.height;
  cv::resize(bgr, resized, cv::Size(p.width, p.height), 0, 0,
             shrink ? cv::INTER_AREA : cv::INTER_LINEAR);
  if (p.rgb) cv::cvtColor(resized, resized, cv::COLOR_BGR2RGB);
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
    const unsigned char* row = resized.ptr<unsigned char>(y);
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

}  // namespace argus::engine
