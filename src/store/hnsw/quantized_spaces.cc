#include "store/hnsw/quantized_spaces.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#if defined(__F16C__) || defined(__AVX2__)
#include <immintrin.h>
#endif

namespace argus::store::hnsw {

namespace {

float HalfIp(const void* a, const void* b, const void* param) {
  const size_t dim = *static_cast<const size_t*>(param);
  const auto* x = static_cast<const uint16_t*>(a);
  const auto* y = static_cast<const uint16_t*>(b);
  size_t i = 0;
  float dot = 0;
#if defined(__F16C__) && defined(__FMA__)
  __m256 sum = _mm256_setzero_ps();
  for (; i + 8 <= dim; i += 8) {
    const __m256 vx = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i)));
    const __m256 vy = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(y + i)));
    sum = _mm256_fmadd_ps(vx, vy, sum);
  }
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, sum);
  for (float l : lanes) dot += l;
#endif
  for (; i < dim; ++i) dot += HalfToFloat(x[i]) * HalfToFloat(y[i]);
  return 1.0f - dot;
}

float HalfL2(const void* a, const void* b, const void* param) {
  const size_t dim = *static_cast<const size_t*>(param);
  const auto* x = static_cast<const uint16_t*>(a);
  const auto* y = static_cast<const uint16_t*>(b);
  size_t i = 0;
  float total = 0;
#if defined(__F16C__) && defined(__FMA__)
  __m256 sum = _mm256_setzero_ps();
  for (; i + 8 <= dim; i += 8) {
    const __m256 d =
        _mm256_sub_ps(_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i))),
                      _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(y + i))));
    sum = _mm256_fmadd_ps(d, d, sum);
  }
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, sum);
  for (float l : lanes) total += l;
#endif
  for (; i < dim; ++i) {
    const float d = HalfToFloat(x[i]) - HalfToFloat(y[i]);
    total += d * d;
  }
  return total;
}

float Int8Ip(const void* a, const void* b, const void* param) {
  const size_t dim = *static_cast<const size_t*>(param);
  const auto* x = static_cast<const int8_t*>(a);
  const auto* y = static_cast<const int8_t*>(b);
  size_t i = 0;
  int32_t dot = 0;
#if defined(__AVX2__)
  __m256i sum = _mm256_setzero_si256();
  for (; i + 16 <= dim; i += 16) {
    const __m256i vx =
        _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i)));
    const __m256i vy =
        _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(y + i)));
    sum = _mm256_add_epi32(sum, _mm256_madd_epi16(vx, vy));  // pairs of i16 products, in i32
  }
  alignas(32) int32_t lanes[8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), sum);
  for (int32_t l : lanes) dot += l;
#endif
  for (; i < dim; ++i) dot += static_cast<int32_t>(x[i]) * y[i];
  return 1.0f - static_cast<float>(dot) / (kInt8Scale * kInt8Scale);
}

}  // namespace

uint16_t FloatToHalf(float value) {
#if defined(__F16C__)
  return _cvtss_sh(value, _MM_FROUND_TO_NEAREST_INT);
#else
  uint32_t f;
  std::memcpy(&f, &value, sizeof(f));
  const uint32_t sign = (f >> 16) & 0x8000u;
  const int32_t exponent = static_cast<int32_t>((f >> 23) & 0xff) - 127 + 15;
  uint32_t mantissa = f & 0x7fffffu;
  if (((f >> 23) & 0xff) == 0xff) {  // Inf or NaN
    return static_cast<uint16_t>(sign | 0x7c00u | (mantissa != 0 ? 0x200u : 0));
  }
  if (exponent >= 0x1f) return static_cast<uint16_t>(sign | 0x7c00u);  // overflow: Inf
  if (exponent <= 0) {                                                 // subnormal half, or zero
    if (exponent < -10) return static_cast<uint16_t>(sign);
    mantissa |= 0x800000u;
    const int shift = 14 - exponent;
    uint32_t half = mantissa >> shift;
    const uint32_t rest = mantissa & ((1u << shift) - 1), mid = 1u << (shift - 1);
    if (rest > mid || (rest == mid && (half & 1u) != 0)) ++half;
    return static_cast<uint16_t>(sign | half);
  }
  uint32_t half = (static_cast<uint32_t>(exponent) << 10) | (mantissa >> 13);
  const uint32_t rest = mantissa & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (half & 1u) != 0)) ++half;  // may carry into Inf
  return static_cast<uint16_t>(sign | half);
#endif
}

float HalfToFloat(uint16_t value) {
#if defined(__F16C__)
  return _cvtsh_ss(value);
#else
  const uint32_t sign = static_cast<uint32_t>(value & 0x8000u) << 16;
  const uint32_t exponent = (value >> 10) & 0x1fu;
  const uint32_t mantissa = value & 0x3ffu;
  float out;
  if (exponent == 0) {
    out = std::ldexp(static_cast<float>(mantissa), -24);
    return sign != 0 ? -out : out;
  }
  uint32_t f;
  if (exponent == 0x1f) {
    f = sign | 0x7f800000u | (mantissa << 13);
  } else {
    f = sign | ((exponent + 127 - 15) << 23) | (mantissa << 13);
  }
  std::memcpy(&out, &f, sizeof(out));
  return out;
#endif
}

hnswlib::DISTFUNC<float> HalfSpace::get_dist_func() { return l2_ ? &HalfL2 : &HalfIp; }
hnswlib::DISTFUNC<float> Int8Space::get_dist_func() { return &Int8Ip; }

std::vector<uint8_t> EncodeHalf(std::span<const float> row) {
  std::vector<uint8_t> out(row.size() * sizeof(uint16_t));
  auto* halves = reinterpret_cast<uint16_t*>(out.data());
  for (size_t i = 0; i < row.size(); ++i) halves[i] = FloatToHalf(row[i]);
  return out;
}

std::vector<uint8_t> EncodeInt8(std::span<const float> row) {
  std::vector<uint8_t> out(row.size());
  for (size_t i = 0; i < row.size(); ++i) {
    const float q = std::round(std::clamp(row[i], -1.0f, 1.0f) * kInt8Scale);
    out[i] = static_cast<uint8_t>(static_cast<int8_t>(q));
  }
  return out;
}

std::vector<float> DecodeHalf(const void* data, size_t dim) {
  std::vector<float> out(dim);
  const auto* halves = static_cast<const uint16_t*>(data);
  for (size_t i = 0; i < dim; ++i) out[i] = HalfToFloat(halves[i]);
  return out;
}

std::vector<float> DecodeInt8(const void* data, size_t dim) {
  std::vector<float> out(dim);
  const auto* bytes = static_cast<const int8_t*>(data);
  for (size_t i = 0; i < dim; ++i) out[i] = static_cast<float>(bytes[i]) / kInt8Scale;
  return out;
}

}  // namespace argus::store::hnsw
