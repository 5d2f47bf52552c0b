// hnswlib spaces over compact storage (docs/adr/0014-vector-index.md): f16 halves the bytes of a
// vector, i8 quarters them. A stored vector and a query are both encoded; the distances follow
// hnswlib's conventions (1 - dot for inner product, squared Euclidean for L2), so scores read the
// same as with f32.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "hnswlib/hnswlib.h"

namespace argus::store::hnsw {

/// IEEE 754 half precision, rounded to nearest even (F16C instructions when compiled for them).
uint16_t FloatToHalf(float value);
float HalfToFloat(uint16_t value);

/// i8 storage scales components in [-1, 1] (normalised vectors) by 127.
inline constexpr float kInt8Scale = 127.0f;

/// f16 vectors: 2 bytes per component; inner product or L2.
class HalfSpace final : public hnswlib::SpaceInterface<float> {
 public:
  HalfSpace(size_t dim, bool l2) : dim_(dim), l2_(l2) {}
  size_t get_data_size() override { return dim_ * sizeof(uint16_t); }
  hnswlib::DISTFUNC<float> get_dist_func() override;
  void* get_dist_func_param() override { return &dim_; }

 private:
  size_t dim_;
  bool l2_;
};

/// i8 vectors of normalised components: 1 byte per component; inner product only.
class Int8Space final : public hnswlib::SpaceInterface<float> {
 public:
  explicit Int8Space(size_t dim) : dim_(dim) {}
  size_t get_data_size() override { return dim_; }
  hnswlib::DISTFUNC<float> get_dist_func() override;
  void* get_dist_func_param() override { return &dim_; }

 private:
  size_t dim_;
};

/// `row` in the space's bytes (f16, or i8 clamped to [-127, 127]).
std::vector<uint8_t> EncodeHalf(std::span<const float> row);
std::vector<uint8_t> EncodeInt8(std::span<const float> row);
std::vector<float> DecodeHalf(const void* data, size_t dim);
std::vector<float> DecodeInt8(const void* data, size_t dim);

}  // namespace argus::store::hnsw
