// moderation (MobileNetV2 content scores) on real weights.
#include <gtest/gtest.h>

#include "engine/extractors/test_support.h"

namespace argus::engine {
namespace {

using testing::kOpenCvData;
using testing::ReadFile;

class ModerationTest : public testing::RuntimeSuite<&NewModerationExtractor> {};

TEST_F(ModerationTest, ModerationScoresSumToOne) {
  auto r = Infer("moderation", ReadFile(kOpenCvData + "baboon.jpg"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  double sum = 0;
  for (const auto& [label, score] : (*r)["scores"].items()) sum += score.get<double>();
  EXPECT_NEAR(sum, 1.0, 1e-3);
  EXPECT_EQ((*r)["label"], "neutral");
}

}  // namespace
}  // namespace argus::engine
