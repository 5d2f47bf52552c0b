#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"

namespace argus::engine {

/// A dense float tensor in row-major order. The first dimension is the batch where a model has
/// one.
struct Tensor {
  std::vector<int64_t> shape;
  std::vector<float> data;

  int64_t elements() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
  }
  /// Elements per item of the first dimension.
  int64_t item_elements() const { return shape.empty() ? 1 : elements() / shape[0]; }
};

/// Stacks tensors of equal shape [1, ...] (or [n_i, ...]) along the first dimension.
/// InvalidArgument when their trailing dimensions differ.
Result<Tensor> Concat(const std::vector<const Tensor*>& parts);
/// Items [begin, begin + count) of the first dimension.
Tensor Slice(const Tensor& t, int64_t begin, int64_t count);
/// `v` scaled to unit length (cosine = dot product), in double; all zeros stay zeros.
std::vector<double> L2Normalised(const std::vector<float>& v);

}  // namespace argus::engine
