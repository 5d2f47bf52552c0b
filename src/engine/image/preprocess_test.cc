#include "engine/image/preprocess.h"

#include <gtest/gtest.h>

namespace argus::engine {
namespace {

// Values in -1..1, as BlazeFace wants: (pixel / 255 − 0.5) / 0.5.
ImagePreprocessing MinusOneToOne(int width, int height, bool nchw = false) {
  ImagePreprocessing p;
  p.width = width;
  p.height = height;
  p.rgb = true;
  p.scale = 1.0f / 255;
  p.mean = {0.5f, 0.5f, 0.5f};
  p.std = {0.5f, 0.5f, 0.5f};
  p.nchw = nchw;
  return p;
}

float At(const Tensor& t, const ImagePreprocessing& p, int x, int y, int c) {
  const size_t plane = static_cast<size_t>(p.width) * p.height;
  const size_t i = static_cast<size_t>(y) * p.width + x;
  return p.nchw ? t.data[c * plane + i] : t.data[i * 3 + c];
}

TEST(ImageToTensorTest, StretchesAndNormalisesInModelChannelOrder) {
  cv::Mat img(10, 30, CV_8UC3, cv::Scalar(255, 0, 0));  // pure blue (BGR)
  auto p = MinusOneToOne(8, 8);
  Tensor t = ImageToTensor(img, p);
  EXPECT_EQ(t.shape, (std::vector<int64_t>{1, 8, 8, 3}));
  EXPECT_FLOAT_EQ(At(t, p, 3, 3, 0), -1.0f);  // R
  EXPECT_FLOAT_EQ(At(t, p, 3, 3, 2), 1.0f);   // B
  p.rgb = false;
  t = ImageToTensor(img, p);
  EXPECT_FLOAT_EQ(At(t, p, 3, 3, 0), 1.0f);  // B first
}

// A 200 × 100 image into 64 × 64: scale 0.32, content 64 × 32, centred with 16 rows of padding
// above and below.
TEST(ImageToTensorTest, BlurSigmaSmoothsPixelDetailButKeepsTheMean) {
  cv::Mat checker(32, 32, CV_8UC3);
  for (int y = 0; y < 32; ++y) {
    for (int x = 0; x < 32; ++x)
      checker.at<cv::Vec3b>(y, x) = cv::Vec3b::all((x + y) % 2 ? 255 : 0);
  }
  ImagePreprocessing p{.width = 32, .height = 32, .scale = 1.0f / 255};
  auto spread = [](const Tensor& t) {
    double mean = 0, var = 0;
    for (float v : t.data) mean += v;
    mean /= t.data.size();
    for (float v : t.data) var += (v - mean) * (v - mean);
    return std::make_pair(mean, var / t.data.size());
  };
  auto [sharp_mean, sharp_var] = spread(ImageToTensor(checker, p));
  p.blur_sigma = 1.0f;
  auto [soft_mean, soft_var] = spread(ImageToTensor(checker, p));
  EXPECT_NEAR(sharp_var, 0.25, 1e-3);  // ±0.5 around 0.5
  EXPECT_LT(soft_var, 0.01);           // the checkerboard is gone
  EXPECT_NEAR(soft_mean, sharp_mean, 0.01);
}

TEST(LetterboxToTensorTest, KeepsTheAspectRatioAndCentres) {
  cv::Mat img(100, 200, CV_8UC3, cv::Scalar(0, 0, 255));  // red
  auto p = MinusOneToOne(64, 64);
  Letterbox box;
  Tensor t = LetterboxToTensor(img, p, &box);
  EXPECT_EQ(t.shape, (std::vector<int64_t>{1, 64, 64, 3}));
  EXPECT_EQ(box.left, 0);
  EXPECT_EQ(box.top, 16);
  EXPECT_EQ(box.width, 64);
  EXPECT_EQ(box.height, 32);
  EXPECT_FLOAT_EQ(box.scale_x, 0.32f);
  EXPECT_FLOAT_EQ(box.scale_y, 0.32f);
  // Padding is black, normalised: -1 in every channel.
  for (int y : {0, 15, 48, 63}) {
    for (int c = 0; c < 3; ++c) EXPECT_FLOAT_EQ(At(t, p, 10, y, c), -1.0f) << y;
  }
  // Content is red: R = 1, G = B = -1.
  for (int y : {16, 30, 47}) {
    EXPECT_FLOAT_EQ(At(t, p, 10, y, 0), 1.0f) << y;
    EXPECT_FLOAT_EQ(At(t, p, 10, y, 1), -1.0f) << y;
  }
}

TEST(LetterboxToTensorTest, TallImagesArePaddedLeftAndRightInNchwToo) {
  cv::Mat img(300, 100, CV_8UC3, cv::Scalar(255, 255, 255));
  auto p = MinusOneToOne(30, 30, /*nchw=*/true);
  Letterbox box;
  Tensor t = LetterboxToTensor(img, p, &box);
  EXPECT_EQ(t.shape, (std::vector<int64_t>{1, 3, 30, 30}));
  EXPECT_EQ(box.width, 10);
  EXPECT_EQ(box.height, 30);
  EXPECT_EQ(box.left, 10);
  EXPECT_EQ(box.top, 0);
  EXPECT_FLOAT_EQ(At(t, p, 5, 15, 1), -1.0f);   // left margin
  EXPECT_FLOAT_EQ(At(t, p, 15, 15, 1), 1.0f);   // white content
  EXPECT_FLOAT_EQ(At(t, p, 25, 15, 1), -1.0f);  // right margin
  // The null placement is allowed.
  EXPECT_EQ(LetterboxToTensor(img, p, nullptr).data, t.data);
}

// Model coordinates map back to source pixels exactly, including when the content size had to be
// rounded (333 × 500 into 128²: content 85 × 128, scale_x 85/333 ≠ scale_y 128/500).
TEST(LetterboxToTensorTest, MapsPointsBackToTheSource) {
  cv::Mat img(500, 333, CV_8UC3, cv::Scalar(10, 20, 30));
  auto p = MinusOneToOne(128, 128);
  Letterbox box;
  LetterboxToTensor(img, p, &box);
  EXPECT_EQ(box.width, 85);
  EXPECT_EQ(box.height, 128);
  EXPECT_EQ(box.left, 21);
  cv::Point2f origin = box.ToSource({21.0f, 0.0f});
  EXPECT_NEAR(origin.x, 0.0f, 1e-4);
  EXPECT_NEAR(origin.y, 0.0f, 1e-4);
  cv::Point2f corner = box.ToSource({21.0f + 85, 128.0f});
  EXPECT_NEAR(corner.x, 333.0f, 1e-3);
  EXPECT_NEAR(corner.y, 500.0f, 1e-3);
  for (cv::Point2f source : {cv::Point2f(0, 0), cv::Point2f(100.5f, 250), cv::Point2f(333, 500)}) {
    cv::Point2f back = box.ToSource(box.ToModel(source));
    EXPECT_NEAR(back.x, source.x, 1e-3);
    EXPECT_NEAR(back.y, source.y, 1e-3);
  }
}

TEST(LetterboxToTensorTest, AnImageOfTheModelShapeIsNotPadded) {
  cv::Mat img(20, 40, CV_8UC3, cv::Scalar(0, 255, 0));
  auto p = MinusOneToOne(80, 40);
  Letterbox box;
  Tensor t = LetterboxToTensor(img, p, &box);
  EXPECT_EQ(box.left, 0);
  EXPECT_EQ(box.top, 0);
  EXPECT_FLOAT_EQ(box.scale_x, 2.0f);
  EXPECT_FLOAT_EQ(box.scale_y, 2.0f);
  EXPECT_EQ(t.data, ImageToTensor(img, p).data);
}

}  // namespace
}  // namespace argus::engine
