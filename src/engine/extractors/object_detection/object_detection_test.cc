// object_detection (CenterNet) on real weights and opencv-doc photos.
#include <gtest/gtest.h>

#include <set>

#include "engine/extractors/test_support.h"

namespace argus::engine {
namespace {

using testing::kOpenCvData;
using testing::ReadFile;

class ObjectDetectionTest : public testing::RuntimeSuite<&NewObjectDetectionExtractor> {};

TEST_F(ObjectDetectionTest, MessiHasAPersonAndASportsBall) {
  std::string messi = ReadFile(kOpenCvData + "messi5.jpg");
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

TEST_F(ObjectDetectionTest, BadInputIsAClearError) {
  EXPECT_EQ(Infer("object_detection", "").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Infer("object_detection", "not an image").status().code(),
            StatusCode::kInvalidArgument);
  std::string messi = ReadFile(kOpenCvData + "messi5.jpg");
  EXPECT_EQ(Infer("object_detection", messi.substr(0, messi.size() / 2)).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Infer("object_detection", messi, {{"score_threshold", 7}}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Infer("object_detection", messi, {{"bogus", 1}}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Infer("no_such_thing", messi).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace argus::engine
