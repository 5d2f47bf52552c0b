// thumbnail (no model): the image fit into max_side², upright, in the format asked for.
#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

#include "core/crypto.h"
#include "engine/extractors/test_support.h"

namespace argus::engine {
namespace {

using testing::kOpenCvData;
using testing::ReadFile;

Result<Json> Thumbnail(const std::string& media, const Json& params) {
  auto extractor = NewThumbnailExtractor();
  ExtractContext ctx;
  return extractor->Extract(MediaRef::FromBytes(media), params, ctx);
}

TEST(ThumbnailTest, TheImageFitsIntoMaxSideKeepingItsShapeInTheFormatAskedFor) {
  const std::string messi = ReadFile(kOpenCvData + "messi5.jpg");  // 548 x 342
  ASSERT_FALSE(messi.empty());
  auto r = Thumbnail(messi, {{"max_side", 128}, {"format", "png"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)["width"], 128);
  EXPECT_EQ((*r)["height"], 80);
  EXPECT_EQ((*r)["media_type"], "image/png");
  std::string bytes;
  ASSERT_TRUE(Base64Decode((*r)["data"].get<std::string>(), &bytes));
  EXPECT_EQ(static_cast<int64_t>(bytes.size()), (*r)["size"].get<int64_t>());
  cv::Mat decoded =
      cv::imdecode(std::vector<unsigned char>(bytes.begin(), bytes.end()), cv::IMREAD_COLOR);
  EXPECT_EQ(decoded.cols, 128);
  EXPECT_EQ(decoded.rows, 80);
  // Defaults: 256 on the long side, JPEG.
  auto plain = Thumbnail(messi, Json::object());
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_EQ((*plain)["width"], 256);
  EXPECT_EQ((*plain)["media_type"], "image/jpeg");
}

TEST(ThumbnailTest, MediaThatIsNoImageIsAClearError) {
  auto r = Thumbnail("plain text, no image", Json::object());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
}

}  // namespace
}  // namespace argus::engine
