#include "store/hnsw/quantized_spaces.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace argus::store::hnsw {
namespace {

TEST(HalfTest, KnownBitPatternsRoundTrip) {
  const std::pair<float, uint16_t> cases[] = {
      {0.0f, 0x0000},    {1.0f, 0x3c00},    {-2.0f, 0xc000},  {0.5f, 0x3800}, {65504.0f, 0x7bff},
      {6.0e-8f, 0x0001}, {1.0e-8f, 0x0000}, {1.0e6f, 0x7c00}, {0.1f, 0x2e66}, {-0.333333f, 0xb555}};
  for (const auto& [f, h] : cases) {
    EXPECT_EQ(FloatToHalf(f), h) << f;
  }
  EXPECT_EQ(HalfToFloat(0x3c00), 1.0f);
  EXPECT_EQ(HalfToFloat(0xc000), -2.0f);
  EXPECT_FLOAT_EQ(HalfToFloat(0x0001), 5.9604645e-8f);
  EXPECT_TRUE(std::isinf(HalfToFloat(0x7c00)));
  EXPECT_TRUE(std::isnan(HalfToFloat(FloatToHalf(std::numeric_limits<float>::quiet_NaN()))));
  // Every value in [-1, 1] comes back within half a unit in the last place (2^-11 relative).
  for (float v = -1.0f; v <= 1.0f; v += 0.001f) {
    EXPECT_NEAR(HalfToFloat(FloatToHalf(v)), v, std::fabs(v) / 2048 + 3e-8f) << v;
  }
}

TEST(QuantizedSpacesTest, DistancesMatchTheFloatArithmetic) {
  // 37 components: the SIMD loops and their scalar tails both count.
  constexpr size_t kDim = 37;
  std::vector<float> a(kDim), b(kDim);
  double na = 0, nb = 0;
  for (size_t i = 0; i < kDim; ++i) {
    a[i] = std::sin(0.3f * i);
    b[i] = std::cos(0.2f * i);
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  for (size_t i = 0; i < kDim; ++i) {
    a[i] /= static_cast<float>(std::sqrt(na));
    b[i] /= static_cast<float>(std::sqrt(nb));
  }
  double dot = 0, l2 = 0;
  for (size_t i = 0; i < kDim; ++i) {
    dot += a[i] * b[i];
    l2 += (a[i] - b[i]) * (a[i] - b[i]);
  }
  HalfSpace ip(kDim, false), euclid(kDim, true);
  const auto ha = EncodeHalf(a), hb = EncodeHalf(b);
  EXPECT_NEAR(ip.get_dist_func()(ha.data(), hb.data(), ip.get_dist_func_param()), 1 - dot, 2e-3);
  EXPECT_NEAR(euclid.get_dist_func()(ha.data(), hb.data(), euclid.get_dist_func_param()), l2, 2e-3);
  Int8Space i8(kDim);
  const auto qa = EncodeInt8(a), qb = EncodeInt8(b);
  EXPECT_NEAR(i8.get_dist_func()(qa.data(), qb.data(), i8.get_dist_func_param()), 1 - dot, 2e-2);
  const auto back = DecodeInt8(qa.data(), kDim);
  for (size_t i = 0; i < kDim; ++i) EXPECT_NEAR(back[i], a[i], 0.5 / 127 + 1e-6);
}

}  // namespace
}  // namespace argus::store::hnsw
