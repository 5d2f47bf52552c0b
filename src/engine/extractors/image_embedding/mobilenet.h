// MobileNetV2 (nsfwjs's Keras model converted to ONNX): one run gives both the 1280-d pooled
// features (image_embedding) and the five content scores (moderation).
#pragma once

#include <cstdint>

#include "engine/extractors/extractors.h"
#include "engine/runtime/tensor.h"

namespace argus::engine {

inline constexpr char kMobileNetModel[] = "mobilenet_v2";

/// Runs the model on the image (its input blurred by `blur_sigma` pixels at 224², 0: none);
/// returns the output whose last dimension is `width`.
Result<Tensor> RunMobileNet(const DecodedImage& image, ExtractContext& ctx, int64_t width,
                            float blur_sigma);

}  // namespace argus::engine
