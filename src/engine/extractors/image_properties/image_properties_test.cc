// image_properties (no model): size, format, colours, dHash on opencv-doc photos.
#include <gtest/gtest.h>

#include "engine/extractors/test_support.h"

namespace argus::engine {
namespace {

using testing::JpegVariant;
using testing::kOpenCvData;
using testing::ReadFile;

class ImagePropertiesTest : public testing::RuntimeSuite<&NewImagePropertiesExtractor> {};

int HammingDistance(const std::string& a, const std::string& b) {
  return __builtin_popcountll(std::stoull(a, nullptr, 16) ^ std::stoull(b, nullptr, 16));
}

TEST_F(ImagePropertiesTest, ImagePropertiesFindNearDuplicatesAndColours) {
  auto messi = Infer("image_properties", ReadFile(kOpenCvData + "messi5.jpg"));
  ASSERT_TRUE(messi.ok()) << messi.status().ToString();
  EXPECT_EQ((*messi)["width"], 548);
  EXPECT_EQ((*messi)["height"], 342);
  EXPECT_EQ((*messi)["format"], "jpeg");
  EXPECT_TRUE((*messi)["exif"].is_object());
  ASSERT_EQ((*messi)["colors"].size(), 5u);
  double total = 0;
  for (const auto& c : (*messi)["colors"]) total += c["fraction"].get<double>();
  EXPECT_NEAR(total, 1.0, 1e-6);
  // The pitch: the most common colour of messi5 is green.
  auto rgb = (*messi)["colors"][0]["rgb"];
  EXPECT_GT(rgb[1].get<int>(), rgb[0].get<int>()) << messi->dump();
  auto copy = Infer("image_properties", JpegVariant(kOpenCvData + "messi5.jpg", 0.75, 80));
  auto other = Infer("image_properties", ReadFile(kOpenCvData + "baboon.jpg"));
  ASSERT_TRUE(copy.ok() && other.ok());
  int near = HammingDistance((*messi)["dhash"], (*copy)["dhash"]);
  int far = HammingDistance((*messi)["dhash"], (*other)["dhash"]);
  EXPECT_LE(near, 6);
  EXPECT_GE(far, 16);
  EXPECT_EQ(Infer("image_properties", ReadFile(kOpenCvData + "messi5.jpg"), {{"colors", 0}})
                .status()
                .code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace argus::engine
