#pragma once

#include <array>
#include <opencv2/core.hpp>

#include "engine/runtime/tensor.h"

namespace argus::engine {

/// How a model wants its image input: size, channel order, normalisation
/// (value = (pixel × scale − mean) / std, per channel in the model's channel order) and layout.
struct ImagePreprocessing {
  int width = 224;
  int height = 224;
  bool rgb = true;  ///< false: BGR
  float scale = 1.0f;
  std::array<float, 3> mean = {0, 0, 0};
  std::array<float, 3> std = {1, 1, 1};
  bool nchw = false;  ///< false: NHWC
};

/// Resizes (bilinear; area when shrinking a lot) and normalises a BGR 8-bit image into a
/// [1, H, W, 3] or [1, 3, H, W] float tensor.
Tensor ImageToTensor(const cv::Mat& bgr, const ImagePreprocessing& p);

}  // namespace argus::engine
