// Image → model input tensor. Pure functions, thread-safe.
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
  /// A Gaussian blur of this sigma (model-input pixels) after resizing; 0: none. A mild low-pass
  /// makes features depend on the picture rather than on how it was last resampled.
  float blur_sigma = 0;
};

/// Resizes (bilinear; area when shrinking a lot) and normalises a BGR 8-bit image into a
/// [1, H, W, 3] or [1, 3, H, W] float tensor. Stretches: the aspect ratio is not kept.
Tensor ImageToTensor(const cv::Mat& bgr, const ImagePreprocessing& p);

/// Where a letterboxed image sits inside the model input: the source, scaled by (scale_x,
/// scale_y), occupies the rectangle at (left, top) of size (width, height); the rest is padding.
/// scale_x and scale_y differ from each other only by the rounding of the content size to whole
/// pixels, so mapping back is exact.
struct Letterbox {
  float scale_x = 1;
  float scale_y = 1;
  int left = 0;
  int top = 0;
  int width = 0;   ///< content width in model-input pixels
  int height = 0;  ///< content height in model-input pixels

  /// A model-input point (pixels) in source-image pixels (not clamped).
  cv::Point2f ToSource(cv::Point2f model) const {
    return {(model.x - left) / scale_x, (model.y - top) / scale_y};
  }
  /// A source-image point (pixels) in model-input pixels.
  cv::Point2f ToModel(cv::Point2f source) const {
    return {source.x * scale_x + left, source.y * scale_y + top};
  }
};

/// Like ImageToTensor, but keeps the aspect ratio: the image is scaled to fit p.width × p.height
/// and centred, the margins are black (normalised like any black pixel). `*letterbox` (if not
/// null) receives the placement, to map model coordinates back to the source image.
Tensor LetterboxToTensor(const cv::Mat& bgr, const ImagePreprocessing& p, Letterbox* letterbox);

}  // namespace argus::engine
