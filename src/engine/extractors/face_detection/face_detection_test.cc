// face_detection on real weights (the model directory) and dlib's annotated faces (PASCAL VOC
// photos, boxes in imglab XML), scored with tests/eval.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <regex>
#include <sstream>
#include <thread>

#include "core/json_schema.h"
#include "engine/extractors/extractors.h"
#include "engine/extractors/test_support.h"
#include "engine/runtime/inference_runtime.h"
#include "tests/eval/average_precision.h"

namespace argus::engine {
namespace {

const std::string kFaces = "/usr/share/doc/libdlib19.1/examples/faces/";

using testing::ModelDir;
using testing::ReadFile;

struct Annotated {
  std::string file;
  std::vector<eval::GroundTruth> truth;
};

// dlib imglab XML: <image file='x.jpg'> <box top='' left='' width='' height='' [ignore='1']/>...
std::vector<Annotated> ReadImglab(const std::string& path) {
  const std::string xml = ReadFile(path);
  static const std::regex kImage(R"(<image file='([^']+)'[^>]*>([\s\S]*?)</image>)");
  static const std::regex kBox(R"(<box\b([^>]*)>)");
  static const std::regex kAttr(R"((\w+)='([^']*)')");
  std::vector<Annotated> out;
  for (std::sregex_iterator i(xml.begin(), xml.end(), kImage), end; i != end; ++i) {
    Annotated image{.file = (*i)[1].str(), .truth = {}};
    const std::string body = (*i)[2].str();
    for (std::sregex_iterator b(body.begin(), body.end(), kBox); b != end; ++b) {
      const std::string attrs = (*b)[1].str();
      std::map<std::string, double> v;
      for (std::sregex_iterator a(attrs.begin(), attrs.end(), kAttr); a != end; ++a) {
        v[(*a)[1].str()] = std::atof((*a)[2].str().c_str());
      }
      image.truth.push_back(
          {.box = {v["left"], v["top"], v["left"] + v["width"], v["top"] + v["height"]},
           .ignore = v["ignore"] != 0});
    }
    out.push_back(std::move(image));
  }
  return out;
}

std::vector<eval::Detection> DetectionsOf(const Json& answer) {
  std::vector<eval::Detection> out;
  for (const auto& f : answer["faces"]) {
    const auto& b = f["box"];
    out.push_back(
        {.box = {b[0].get<double>(), b[1].get<double>(), b[2].get<double>(), b[3].get<double>()},
         .score = f["score"].get<double>()});
  }
  return out;
}

class FaceDetectionTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto manifest = LoadManifest(ModelDir());
    ASSERT_TRUE(manifest.ok()) << manifest.status().ToString() << " (run scripts/models.sh)";
    std::erase_if(manifest->models,
                  [](const ModelSpec& m) { return m.name.rfind("blazeface_", 0) != 0; });
    ASSERT_EQ(manifest->models.size(), 2u) << "blazeface_back and blazeface_front";
    std::vector<std::unique_ptr<Extractor>> extractors;
    extractors.push_back(NewFaceDetectionExtractor());
    runtime_ = testing::StartRuntime(std::move(manifest).value(), std::move(extractors)).release();
    ASSERT_NE(runtime_, nullptr);
  }
  static void TearDownTestSuite() {
    delete runtime_;
    runtime_ = nullptr;
  }
  static Result<Json> Detect(const std::string& media, Json params = Json::object()) {
    return runtime_->Infer({.name = "face_detection", .media = media, .params = std::move(params)});
  }
  // AP@0.5 of `model` over every image of an imglab file, every detection down to 0.05.
  eval::ApResult Score(const std::string& xml, const std::string& model) {
    std::vector<eval::ImageResult> results;
    for (const auto& image : ReadImglab(kFaces + xml)) {
      auto r = Detect(ReadFile(kFaces + image.file), {{"model", model}, {"score_threshold", 0.05}});
      EXPECT_TRUE(r.ok()) << image.file << ": " << r.status().ToString();
      if (!r.ok()) continue;
      results.push_back({.truth = image.truth, .detections = DetectionsOf(*r)});
      eval::ApResult one = eval::AveragePrecision({results.back()});
      std::cout << "  " << model << " " << image.file << ": " << image.truth.size() << " faces, "
                << one.best_f1.true_positives << " found, " << one.best_f1.false_positives
                << " false at best F1 (score " << one.best_f1.score_threshold << "), AP "
                << one.average_precision << "\n";
    }
    eval::ApResult ap = eval::AveragePrecision(results);
    std::cout << model << " on " << xml << ": AP@0.5 " << ap.average_precision << " over "
              << ap.ground_truth << " faces; best F1 " << ap.best_f1.f1 << " at score "
              << ap.best_f1.score_threshold << " (precision " << ap.best_f1.precision << ", recall "
              << ap.best_f1.recall << ", TP " << ap.best_f1.true_positives << ", FP "
              << ap.best_f1.false_positives << ", FN " << ap.best_f1.false_negatives
              << "); AP@0.75 " << eval::AveragePrecision(results, 0.75).average_precision << "\n";
    RecordProperty(model + "_" + xml + "_ap50", std::to_string(ap.average_precision));
    return ap;
  }
  static InferenceRuntime* runtime_;
};
InferenceRuntime* FaceDetectionTest::runtime_ = nullptr;

TEST_F(FaceDetectionTest, FindsTheSixFacesOfAGroupPhoto) {
  auto images = ReadImglab(kFaces + "testing.xml");
  ASSERT_FALSE(images.empty());
  ASSERT_EQ(images[0].file, "2008_002470.jpg");
  auto r = Detect(ReadFile(kFaces + images[0].file));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)["width"], 500);
  EXPECT_EQ((*r)["height"], 332);
  EXPECT_EQ((*r)["model"], "blazeface_back@1.2.0");
  EXPECT_TRUE(ValidateJson(*r, NewFaceDetectionExtractor()->info().output_schema).ok())
      << r->dump();
  const auto detections = DetectionsOf(*r);
  for (const auto& truth : images[0].truth) {
    double best = 0;
    for (const auto& d : detections) best = std::max(best, eval::IoU(truth.box, d.box));
    std::cout << "  face at (" << truth.box.x1 << ", " << truth.box.y1 << "): best IoU " << best
              << "\n";
    EXPECT_GE(best, 0.5) << "face at " << truth.box.x1 << ", " << truth.box.y1 << ": " << r->dump();
  }
  EXPECT_EQ(detections.size(), images[0].truth.size()) << r->dump();
  for (const auto& f : (*r)["faces"]) {
    const auto& b = f["box"];
    EXPECT_GE(f["score"].get<double>(), 0.6);
    ASSERT_EQ(f["landmarks"].size(), 6u);
    // The eyes and the nose lie inside the box; the subject's right eye is on the image's left.
    for (int k = 0; k < 3; ++k) {
      const double x = f["landmarks"][k][0], y = f["landmarks"][k][1];
      EXPECT_GT(x, b[0].get<double>());
      EXPECT_LT(x, b[2].get<double>());
      EXPECT_GT(y, b[1].get<double>());
      EXPECT_LT(y, b[3].get<double>());
    }
    EXPECT_LT(f["landmarks"][0][0].get<double>(), f["landmarks"][1][0].get<double>());
  }
}

// Measured (2026-11-24, weighted NMS): back 1.0 on testing.xml (25/25 faces at best F1, no false
// positive; AP@0.75 0.40: dlib's boxes are tighter squares than BlazeFace's) and 0.944 on
// training.xml (17/18). front 0.22 on testing.xml: it is the short-range model, and these faces
// are 37-109 px in 500-px photos, ~10-28 px at its 128² input; it finds the two images with
// large faces only. Floors: the measured value minus 0.05.
TEST_F(FaceDetectionTest, AveragePrecisionOnDlibTestingFaces) {
  eval::ApResult back = Score("testing.xml", "back");
  EXPECT_EQ(back.ground_truth, 25);
  EXPECT_GE(back.average_precision, 0.95);
  EXPECT_GE(back.best_f1.recall, 0.95);
  eval::ApResult front = Score("testing.xml", "front");
  EXPECT_GE(front.average_precision, 0.17);
  eval::ApResult training = Score("training.xml", "back");
  EXPECT_EQ(training.ground_truth, 18);
  EXPECT_GE(training.average_precision, 0.89);
}

TEST_F(FaceDetectionTest, BadParametersAreInvalidArgument) {
  const std::string photo = ReadFile(kFaces + "2008_002470.jpg");
  EXPECT_EQ(Detect(photo, {{"model", "side"}}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Detect(photo, {{"score_threshold", 7}}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Detect(photo, {{"max_faces", 0}}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Detect(photo, {{"bogus", 1}}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Detect("not an image").status().code(), StatusCode::kInvalidArgument);
}

// The letterbox maps back exactly: the photo twice as large, or with a 120-pixel margin on top
// (another aspect ratio, so another padding), gives the same faces, scaled or shifted.
std::string Png(const cv::Mat& img) {
  std::vector<unsigned char> buf;
  cv::imencode(".png", img, buf);
  return std::string(buf.begin(), buf.end());
}

TEST_F(FaceDetectionTest, BoxesFollowTheImageWhenItIsResizedOrPadded) {
  cv::Mat photo = cv::imread(kFaces + "2008_002470.jpg");
  ASSERT_FALSE(photo.empty());
  cv::Mat larger, padded;
  cv::resize(photo, larger, cv::Size(), 2, 2, cv::INTER_LINEAR);
  cv::copyMakeBorder(photo, padded, 120, 0, 0, 0, cv::BORDER_CONSTANT, cv::Scalar(0, 0, 0));
  auto original = Detect(Png(photo));
  auto twice = Detect(Png(larger));
  auto shifted = Detect(Png(padded));
  ASSERT_TRUE(original.ok() && twice.ok() && shifted.ok());
  auto base = DetectionsOf(*original);
  ASSERT_FALSE(base.empty());
  auto check = [&](const Json& answer, double scale, double dy, const char* what) {
    for (const auto& d : DetectionsOf(answer)) {
      eval::Box back = {d.box.x1 / scale, (d.box.y1 - dy) / scale, d.box.x2 / scale,
                        (d.box.y2 - dy) / scale};
      double best = 0;
      for (const auto& b : base) best = std::max(best, eval::IoU(back, b.box));
      EXPECT_GE(best, 0.8) << what << ": " << answer.dump();
    }
    EXPECT_EQ(answer["faces"].size(), base.size()) << what;
  };
  check(*twice, 2.0, 0.0, "twice as large");
  check(*shifted, 1.0, 120.0, "margin on top");
}

TEST_F(FaceDetectionTest, MaxFacesKeepsTheBest) {
  auto all = Detect(ReadFile(kFaces + "2008_002470.jpg"));
  auto two = Detect(ReadFile(kFaces + "2008_002470.jpg"), {{"max_faces", 2}});
  ASSERT_TRUE(all.ok() && two.ok());
  ASSERT_EQ((*two)["faces"].size(), 2u);
  EXPECT_EQ((*two)["faces"][0], (*all)["faces"][0]);
  EXPECT_EQ((*two)["faces"][1], (*all)["faces"][1]);
}

TEST_F(FaceDetectionTest, FruitsHaveNoFaces) {
  auto r = Detect(ReadFile("/usr/share/doc/opencv-doc/examples/data/fruits.jpg"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE((*r)["faces"].empty()) << r->dump();
  auto front =
      Detect(ReadFile("/usr/share/doc/opencv-doc/examples/data/fruits.jpg"), {{"model", "front"}});
  ASSERT_TRUE(front.ok()) << front.status().ToString();
  EXPECT_TRUE((*front)["faces"].empty()) << front->dump();
}

}  // namespace
}  // namespace argus::engine
