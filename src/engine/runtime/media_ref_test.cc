#include "engine/runtime/media_ref.h"

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "core/crypto.h"

namespace argus::engine {
namespace {

std::string Messi() {
  std::ifstream in("/usr/share/doc/opencv-doc/examples/data/messi5.jpg", std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

TEST(MediaRefTest, BytesAreLoadedOnceAndTheImageDecodedOnceForEveryCaller) {
  const std::string messi = Messi();
  ASSERT_FALSE(messi.empty());
  std::atomic<int> loads{0};
  MediaRef media("", "image/jpeg", -1, [&]() -> Result<std::string> {
    ++loads;
    return messi;
  });
  EXPECT_EQ(media.size(), -1) << "nothing is read before it is needed";
  EXPECT_EQ(loads.load(), 0);
  std::vector<std::shared_ptr<const DecodedImage>> seen(4);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i, copy = media] {
      auto image = copy.Image();
      if (image.ok()) seen[i] = *image;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(loads.load(), 1);
  ASSERT_NE(seen[0], nullptr);
  for (const auto& s : seen) EXPECT_EQ(s.get(), seen[0].get()) << "one decode, shared";
  EXPECT_EQ(seen[0]->bgr.cols, 548);
  EXPECT_EQ(media.size(), static_cast<int64_t>(messi.size()));
  EXPECT_EQ(*media.Sha256(), HexEncode(Sha256(messi)));
  EXPECT_EQ(media.media_type(), "image/jpeg");
  EXPECT_EQ(loads.load(), 1);
}

TEST(MediaRefTest, AGivenDigestIsNotRecomputedAndErrorsAreKept) {
  std::atomic<int> loads{0};
  MediaRef missing("ab12", "", 10, [&]() -> Result<std::string> {
    ++loads;
    return NotFoundError("no blob ab12");
  });
  EXPECT_EQ(*missing.Sha256(), "ab12");
  EXPECT_EQ(loads.load(), 0);
  EXPECT_EQ(missing.Image().status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.Bytes().status().code(), StatusCode::kNotFound);
  EXPECT_EQ(loads.load(), 1) << "a failed read is not retried per call";
  MediaRef text = MediaRef::FromBytes("no image here");
  EXPECT_EQ(text.Image().status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(*text.Bytes(), "no image here");
  EXPECT_EQ(text.size(), 13);
}

TEST(MediaRefTest, ADecodedImageIsItsImageAndEncodesToPngWhenAskedForBytes) {
  auto image = std::make_shared<DecodedImage>();
  image->bgr = cv::Mat(6, 8, CV_8UC3, cv::Scalar(10, 200, 30));
  image->header = {.format = "jpeg", .width = 8, .height = 6};
  MediaRef ref = MediaRef::FromImage(image);
  EXPECT_EQ(ref.Image()->get(), image.get()) << "no decoding";
  EXPECT_EQ(ref.media_type(), "image/png");
  auto bytes = ref.Bytes();
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  auto decoded = DecodeImage(*bytes, {});
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->header.format, "png");
  EXPECT_EQ(cv::norm(decoded->bgr, image->bgr, cv::NORM_INF), 0) << "lossless";
  EXPECT_EQ(ref.Sha256()->size(), 64u);
}

TEST(MediaRefTest, TheDecodeLimitsApply) {
  MediaRef big = MediaRef::FromBytes(Messi(), {.max_pixels = 1000});
  auto image = big.Image();
  EXPECT_EQ(image.status().code(), StatusCode::kInvalidArgument) << image.status().ToString();
}

}  // namespace
}  // namespace argus::engine
