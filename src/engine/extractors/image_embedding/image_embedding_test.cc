// image_embedding (MobileNetV2 features) on real weights and opencv-doc photos.
#include <gtest/gtest.h>

#include <map>

#include "engine/extractors/test_support.h"

namespace argus::engine {
namespace {

using testing::Cosine;
using testing::JpegVariant;
using testing::kOpenCvData;
using testing::ReadFile;

class ImageEmbeddingTest : public testing::RuntimeSuite<&NewImageEmbeddingExtractor> {
 protected:
  static std::vector<float> Embedding(const std::string& media) {
    auto r = Infer("image_embedding", media);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return {};
    return (*r)["embedding"].get<std::vector<float>>();
  }
};

TEST_F(ImageEmbeddingTest, EmbeddingSurvivesResizeAndRecompressionAndSeparatesImages) {
  const std::vector<std::string> photos = {"messi5.jpg",    "baboon.jpg",      "building.jpg",
                                           "home.jpg",      "fruits.jpg",      "orange.jpg",
                                           "butterfly.jpg", "starry_night.jpg"};
  std::map<std::string, std::vector<float>> original;
  for (const auto& p : photos) original[p] = Embedding(ReadFile(kOpenCvData + p));
  const auto& messi = original["messi5.jpg"];
  ASSERT_EQ(messi.size(), 1280u);
  float norm = 0;
  for (float v : messi) norm += v * v;
  EXPECT_NEAR(norm, 1.0f, 1e-3);
  for (const auto& p : photos) {
    // The most similar different photo...
    float other = 0;
    for (const auto& q : photos) {
      if (q != p) other = std::max(other, Cosine(original[p], original[q]));
    }
    // ...scores below every copy of the photo: recompressed, and resized to 3/4 and 1/2.
    for (double scale : {1.0, 0.75, 0.5}) {
      float same = Cosine(original[p], Embedding(JpegVariant(kOpenCvData + p, scale, 90)));
      EXPECT_GE(same, 0.9f) << p << " at " << scale;
      EXPECT_LT(other, same) << p << " at " << scale;
    }
    EXPECT_LT(other, 0.9f) << p;
  }
}

TEST_F(ImageEmbeddingTest, RawModelsAnswerWithTheirOutputs) {
  auto r = Infer("mobilenet_v2", ReadFile(kOpenCvData + "messi5.jpg"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)["model"], "mobilenet_v2@4.3.0");
  EXPECT_EQ((*r)["embedding"].size(), 1280u);  // task image_embedding
  auto big = Infer("centernet", ReadFile(kOpenCvData + "messi5.jpg"));
  EXPECT_EQ(big.status().code(), StatusCode::kInvalidArgument);  // 1.3 M numbers: use the extractor
}

}  // namespace
}  // namespace argus::engine
