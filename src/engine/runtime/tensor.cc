#include "engine/runtime/tensor.h"

#include <algorithm>
#include <cmath>

namespace argus::engine {

Result<Tensor> Concat(const std::vector<const Tensor*>& parts) {
  if (parts.empty()) return InvalidArgumentError("nothing to concatenate");
  Tensor out;
  out.shape = parts.front()->shape;
  if (out.shape.empty()) return InvalidArgumentError("a scalar has no batch dimension");
  out.shape[0] = 0;
  size_t total = 0;
  for (const Tensor* t : parts) {
    if (t->shape.size() != out.shape.size() ||
        !std::equal(t->shape.begin() + 1, t->shape.end(), out.shape.begin() + 1)) {
      return InvalidArgumentError("tensors of different shapes cannot form a batch");
    }
    out.shape[0] += t->shape[0];
    total += t->data.size();
  }
  out.data.reserve(total);
  for (const Tensor* t : parts) out.data.insert(out.data.end(), t->data.begin(), t->data.end());
  return out;
}

Tensor Slice(const Tensor& t, int64_t begin, int64_t count) {
  Tensor out;
  out.shape = t.shape;
  if (out.shape.empty()) return t;
  out.shape[0] = count;
  const int64_t item = t.item_elements();
  out.data.assign(t.data.begin() + begin * item, t.data.begin() + (begin + count) * item);
  return out;
}

std::vector<double> L2Normalised(const std::vector<float>& v) {
  double norm = 0;
  for (float x : v) norm += static_cast<double>(x) * x;
  norm = std::sqrt(norm);
  std::vector<double> out;
  out.reserve(v.size());
  for (float x : v) out.push_back(norm > 0 ? x / norm : 0.0);
  return out;
}

}  // namespace argus::engine
