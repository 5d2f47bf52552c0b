// The extractors on real weights (the model directory scripts/models.sh made) and real media
// (opencv-doc).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <sstream>

#include "engine/extractors/test_support.h"
#include "engine/runtime/inference_runtime.h"

namespace argus::engine {
namespace {

const std::string kData = "/usr/share/doc/opencv-doc/examples/data/";

using testing::ModelDir;
using testing::ReadFile;

class ExtractorsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto manifest = LoadManifest(ModelDir());
    ASSERT_TRUE(manifest.ok()) << manifest.status().ToString() << " (run scripts/models.sh)";
    std::vector<std::unique_ptr<Extractor>> extractors;
    extractors.push_back(NewObjectDetectionExtractor());
    extractors.push_back(NewImageEmbeddingExtractor());
    extractors.push_back(NewModerationExtractor());
    extractors.push_back(NewImagePropertiesExtractor());
    extractors.push_back(NewFaceEmbeddingExtractor());
    runtime_ = testing::StartRuntime(std::move(manifest).value(), std::move(extractors)).release();
    ASSERT_NE(runtime_, nullptr);
  }
  static void TearDownTestSuite() {
    delete runtime_;
    runtime_ = nullptr;
  }
  static Result<Json> Infer(const std::string& name, const std::string& media,
                            Json params = Json::object()) {
    return runtime_->Infer({.name = name, .media = media, .params = std::move(params)});
  }
  static std::vector<float> Embedding(const std::string& media) {
    auto r = Infer("image_embedding", media);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return {};
    return (*r)["embedding"].get<std::vector<float>>();
  }
  static InferenceRuntime* runtime_;
};
InferenceRuntime* ExtractorsTest::runtime_ = nullptr;

float Cosine(const std::vector<float>& a, const std::vector<float>& b) {
  float dot = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) dot += a[i] * b[i];
  return dot;
}

TEST_F(ExtractorsTest, MessiHasAPersonAndASportsBall) {
  std::string messi = ReadFile(kData + "messi5.jpg");
  ASSERT_FALSE(messi.empty());
  auto r = Infer("object_detection", messi);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  std::set<std::string> labels;
  for (const auto& d : (*r)["detections"]) {
    labels.insert(d["label"]);
    const auto& box = d["box"];
    EXPECT_GE(box[0].get<double>(), 0);
    EXPECT_LE(box[2].get<double>(), (*r)["width"].get<double>());
    EXPECT_LT(box[0].get<double>(), box[2].get<double>());
    EXPECT_LT(box[1].get<double>(), box[3].get<double>());
  }
  EXPECT_TRUE(labels.count("person")) << r->dump();
  EXPECT_TRUE(labels.count("sports ball")) << r->dump();
  EXPECT_EQ((*r)["model"], "centernet@3.3.6");
  EXPECT_EQ((*r)["width"], 548);

  auto only_balls = Infer("object_detection", messi, {{"classes", {"sports ball"}}});
  ASSERT_TRUE(only_balls.ok());
  for (const auto& d : (*only_balls)["detections"]) EXPECT_EQ(d["label"], "sports ball");
  auto strict = Infer("object_detection", messi, {{"score_threshold", 0.99}});
  ASSERT_TRUE(strict.ok());
  EXPECT_LT((*strict)["detections"].size(), (*r)["detections"].size());
}

// The photo recompressed (JPEG q90) or resized to 3/4 and recompressed stays close (cosine ≥ 0.9);
// other photos are further. (This MobileNetV2 is nsfwjs's classifier: small subjects, as in
// messi5, move more under resizing: 0.82 there, see the closing note.)
std::string Variant(const std::string& file, double scale, int quality) {
  cv::Mat img = cv::imread(file), out;
  cv::resize(img, out, cv::Size(), scale, scale, cv::INTER_AREA);
  std::vector<unsigned char> buf;
  cv::imencode(".jpg", out, buf, {cv::IMWRITE_JPEG_QUALITY, quality});
  return std::string(buf.begin(), buf.end());
}

TEST_F(ExtractorsTest, EmbeddingSurvivesResizeAndRecompressionAndSeparatesImages) {
  const std::vector<std::string> photos = {"messi5.jpg",    "baboon.jpg",      "building.jpg",
                                           "home.jpg",      "fruits.jpg",      "orange.jpg",
                                           "butterfly.jpg", "starry_night.jpg"};
  std::map<std::string, std::vector<float>> original;
  for (const auto& p : photos) original[p] = Embedding(ReadFile(kData + p));
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
      float same = Cosine(original[p], Embedding(Variant(kData + p, scale, 90)));
      EXPECT_GE(same, 0.9f) << p << " at " << scale;
      EXPECT_LT(other, same) << p << " at " << scale;
    }
    EXPECT_LT(other, 0.9f) << p;
  }
}

TEST_F(ExtractorsTest, ModerationScoresSumToOne) {
  auto r = Infer("moderation", ReadFile(kData + "baboon.jpg"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  double sum = 0;
  for (const auto& [label, score] : (*r)["scores"].items()) sum += score.get<double>();
  EXPECT_NEAR(sum, 1.0, 1e-3);
  EXPECT_EQ((*r)["label"], "neutral");
}

int HammingDistance(const std::string& a, const std::string& b) {
  return __builtin_popcountll(std::stoull(a, nullptr, 16) ^ std::stoull(b, nullptr, 16));
}

TEST_F(ExtractorsTest, ImagePropertiesFindNearDuplicatesAndColours) {
  auto messi = Infer("image_properties", ReadFile(kData + "messi5.jpg"));
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
  auto copy = Infer("image_properties", Variant(kData + "messi5.jpg", 0.75, 80));
  auto other = Infer("image_properties", ReadFile(kData + "baboon.jpg"));
  ASSERT_TRUE(copy.ok() && other.ok());
  int near = HammingDistance((*messi)["dhash"], (*copy)["dhash"]);
  int far = HammingDistance((*messi)["dhash"], (*other)["dhash"]);
  EXPECT_LE(near, 6);
  EXPECT_GE(far, 16);
  EXPECT_EQ(
      Infer("image_properties", ReadFile(kData + "messi5.jpg"), {{"colors", 0}}).status().code(),
      StatusCode::kInvalidArgument);
}

// Each face of a group photo, recompressed, is still closest to itself; different people score
// lower.
TEST_F(ExtractorsTest, FaceEmbeddingsRecogniseTheSameFaces) {
  const std::string photo = "/usr/share/doc/libdlib19.1/examples/faces/2008_002470.jpg";
  auto a = Infer("face_embedding", ReadFile(photo));
  auto b = Infer("face_embedding", Variant(photo, 1.0, 85));
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

TEST_F(ExtractorsTest, BadInputIsAClearError) {
  EXPECT_EQ(Infer("object_detection", "").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Infer("object_detection", "not an image").status().code(),
            StatusCode::kInvalidArgument);
  std::string messi = ReadFile(kData + "messi5.jpg");
  EXPECT_EQ(Infer("object_detection", messi.substr(0, messi.size() / 2)).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Infer("object_detection", messi, {{"score_threshold", 7}}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Infer("object_detection", messi, {{"bogus", 1}}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Infer("no_such_thing", messi).status().code(), StatusCode::kNotFound);
}

TEST_F(ExtractorsTest, RawModelsAnswerWithTheirOutputs) {
  auto r = Infer("mobilenet_v2", ReadFile(kData + "messi5.jpg"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)["model"], "mobilenet_v2@4.3.0");
  EXPECT_EQ((*r)["embedding"].size(), 1280u);  // task image_embedding
  auto big = Infer("centernet", ReadFile(kData + "messi5.jpg"));
  EXPECT_EQ(big.status().code(), StatusCode::kInvalidArgument);  // 1.3 M numbers: use the extractor
}

}  // namespace
}  // namespace argus::engine
