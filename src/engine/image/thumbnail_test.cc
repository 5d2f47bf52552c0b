#include "engine/image/thumbnail.h"

#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

namespace argus::engine {
namespace {

cv::Mat Decode(const std::string& bytes) {
  return cv::imdecode(std::vector<unsigned char>(bytes.begin(), bytes.end()), cv::IMREAD_COLOR);
}

TEST(ThumbnailTest, FitsTheLongerSideAndKeepsTheAspectRatio) {
  cv::Mat wide(600, 900, CV_8UC3, cv::Scalar(40, 120, 200));
  auto t = MakeThumbnail(wide, {.max_side = 256});
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->media_type, "image/jpeg");
  EXPECT_EQ(t->width, 256);
  EXPECT_EQ(t->height, 171);  // 600 × 256 / 900 = 170.7
  cv::Mat back = Decode(t->bytes);
  ASSERT_FALSE(back.empty());
  EXPECT_EQ(back.cols, 256);
  EXPECT_EQ(back.rows, 171);
  cv::Scalar mean = cv::mean(back);  // the colour survives
  EXPECT_NEAR(mean[0], 40, 3);
  EXPECT_NEAR(mean[2], 200, 3);
  cv::Mat tall(900, 30, CV_8UC3, cv::Scalar::all(255));
  auto thin = MakeThumbnail(tall, {.max_side = 64});
  ASSERT_TRUE(thin.ok());
  EXPECT_EQ(thin->height, 64);
  EXPECT_EQ(thin->width, 2);
}

TEST(ThumbnailTest, SmallImagesAreNotEnlarged) {
  cv::Mat small(40, 60, CV_8UC3, cv::Scalar::all(0));
  auto t = MakeThumbnail(small, {.max_side = 256, .format = "png"});
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->width, 60);
  EXPECT_EQ(t->height, 40);
  EXPECT_EQ(t->media_type, "image/png");
  EXPECT_EQ(t->bytes.substr(1, 3), "PNG");
}

TEST(ThumbnailTest, WebpAndQualityMakeSmallerFiles) {
  cv::Mat noise(480, 640, CV_8UC3);
  cv::randu(noise, cv::Scalar::all(0), cv::Scalar::all(255));
  cv::GaussianBlur(noise, noise, cv::Size(5, 5), 0);
  auto high = MakeThumbnail(noise, {.max_side = 320, .quality = 95});
  auto low = MakeThumbnail(noise, {.max_side = 320, .quality = 30});
  auto webp = MakeThumbnail(noise, {.max_side = 320, .format = "webp", .quality = 30});
  ASSERT_TRUE(high.ok() && low.ok() && webp.ok());
  EXPECT_LT(low->bytes.size(), high->bytes.size());
  EXPECT_EQ(webp->media_type, "image/webp");
  EXPECT_EQ(webp->bytes.substr(8, 4), "WEBP");
  EXPECT_EQ(Decode(webp->bytes).cols, 320);
}

TEST(ThumbnailTest, BadOptionsAreInvalidArgument) {
  cv::Mat img(10, 10, CV_8UC3, cv::Scalar::all(0));
  EXPECT_EQ(MakeThumbnail(cv::Mat(), {}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(MakeThumbnail(img, {.max_side = 0}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(MakeThumbnail(img, {.format = "gif"}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(MakeThumbnail(img, {.quality = 101}).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace argus::engine
