// face_embedding (BlazeFace + faceres) on a dlib example group photo.
#include <gtest/gtest.h>

#include "engine/extractors/test_support.h"

namespace argus::engine {
namespace {

using testing::Cosine;
using testing::JpegVariant;
using testing::ReadFile;

class FaceEmbeddingTest : public testing::RuntimeSuite<&NewFaceEmbeddingExtractor> {};

// Each face of a group photo, recompressed, is still closest to itself; different people score
// lower.
TEST_F(FaceEmbeddingTest, FaceEmbeddingsRecogniseTheSameFaces) {
  const std::string photo = "/usr/share/doc/libdlib19.1/examples/faces/2008_002470.jpg";
  auto a = Infer("face_embedding", ReadFile(photo));
  auto b = Infer("face_embedding", JpegVariant(photo, 1.0, 85));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  const auto& fa = (*a)["faces"];
  const auto& fb = (*b)["faces"];
  ASSERT_EQ(fa.size(), 6u);
  ASSERT_EQ(fb.size(), 6u);
  EXPECT_EQ((*a)["model"], "faceres@3.3.6");
  for (size_t i = 0; i < fa.size(); ++i) {
    auto ea = fa[i]["embedding"].get<std::vector<float>>();
    EXPECT_EQ(ea.size(), 1024u);
    EXPECT_TRUE(fa[i].contains("age") && fa[i].contains("gender"));
    // The same face in the other copy: the one whose box centre is nearest.
    size_t same = 0;
    double nearest = 1e9;
    for (size_t j = 0; j < fb.size(); ++j) {
      double dx = fa[i]["box"][0].get<double>() - fb[j]["box"][0].get<double>();
      double dy = fa[i]["box"][1].get<double>() - fb[j]["box"][1].get<double>();
      if (dx * dx + dy * dy < nearest) {
        nearest = dx * dx + dy * dy;
        same = j;
      }
    }
    float self = Cosine(ea, fb[same]["embedding"].get<std::vector<float>>());
    EXPECT_GE(self, 0.9f) << "face " << i;
    for (size_t j = 0; j < fa.size(); ++j) {
      if (j == i) continue;
      EXPECT_LT(Cosine(ea, fa[j]["embedding"].get<std::vector<float>>()), self)
          << "faces " << i << " and " << j;
    }
  }
}

}  // namespace
}  // namespace argus::engine
