// The ocr extractor on real weights (the model directory scripts/models.sh made): opencv-doc's
// text page against a transcript checked by eye (tests/data/ocr), and photos without text.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "engine/extractors/extractors.h"
#include "engine/extractors/test_support.h"
#include "engine/runtime/inference_runtime.h"

namespace argus::engine {
namespace {

const std::string kData = "/usr/share/doc/opencv-doc/examples/data/";

using testing::ModelDir;
using testing::ReadFile;

// Runs of whitespace (line breaks included) become one space; none at the ends.
std::string NormaliseSpaces(const std::string& s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

// Levenshtein distance over bytes (the texts compared here are ASCII).
size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

// Measured 0.026 with the manifest's unclip ratio 1.5 (0.112 with 2.0).
constexpr double kRotatedMaxCer = 0.05;

class OcrTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto manifest = LoadManifest(ModelDir());
    ASSERT_TRUE(manifest.ok()) << manifest.status().ToString() << " (run scripts/models.sh)";
    std::vector<std::unique_ptr<Extractor>> extractors;
    extractors.push_back(NewOcrExtractor());
    runtime_ = testing::StartRuntime(std::move(manifest).value(), std::move(extractors)).release();
    ASSERT_NE(runtime_, nullptr);
  }
  static void TearDownTestSuite() {
    delete runtime_;
    runtime_ = nullptr;
  }
  static Result<Json> Ocr(const std::string& media, Json params = Json::object()) {
    return runtime_->Infer({.name = "ocr", .media = media, .params = std::move(params)});
  }
  // The answer for a file, timed (the best of three runs, after a warm-up run).
  static Result<Json> TimedOcr(const std::string& file) {
    const std::string media = ReadFile(file);
    auto r = Ocr(media);
    double best_ms = 1e9;
    for (int i = 0; i < 3 && r.ok(); ++i) {
      const auto start = std::chrono::steady_clock::now();
      r = Ocr(media);
      best_ms = std::min(best_ms, std::chrono::duration<double, std::milli>(
                                      std::chrono::steady_clock::now() - start)
                                      .count());
    }
    if (r.ok()) {
      std::printf("%s: %zu lines in %.1f ms\n", file.c_str(), (*r)["lines"].size(), best_ms);
    }
    return r;
  }
  static InferenceRuntime* runtime_;
};
InferenceRuntime* OcrTest::runtime_ = nullptr;

TEST_F(OcrTest, ReadsTheTextPage) {
  auto r = TimedOcr(kData + "imageTextN.png");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const std::string expected = ReadFile(ARGUS_SOURCE_DIR "/tests/data/ocr/imageTextN.txt");
  ASSERT_FALSE(expected.empty());
  const std::string got = (*r)["text"];
  const std::string a = NormaliseSpaces(got), b = NormaliseSpaces(expected);
  const double cer = static_cast<double>(EditDistance(a, b)) / static_cast<double>(b.size());
  std::printf("character error rate %.4f (%zu edits over %zu characters)\n", cer,
              EditDistance(a, b), b.size());
  if (a != b) std::printf("read:\n%s\n", got.c_str());
  EXPECT_LE(cer, 0.05) << got;
  EXPECT_EQ((*r)["lines"].size(), 13u) << got;
  EXPECT_EQ((*r)["model"], "ppocr_rec@1.4.2");

  // Lines read top to bottom; each carries a confidence and lies inside the image.
  double last_top = -1;
  for (const auto& line : (*r)["lines"]) {
    EXPECT_GE(line["confidence"].get<double>(), 0.5);
    EXPECT_LE(line["confidence"].get<double>(), 1.0);
    const auto& bbox = line["bbox"];
    EXPECT_GE(bbox[0].get<double>(), 0);
    EXPECT_GE(bbox[1].get<double>(), 0);
    EXPECT_LE(bbox[2].get<double>(), 556);
    EXPECT_LE(bbox[3].get<double>(), 257);
    EXPECT_LT(bbox[0].get<double>(), bbox[2].get<double>());
    EXPECT_LT(bbox[1].get<double>(), bbox[3].get<double>());
    EXPECT_GT(bbox[1].get<double>(), last_top);
    last_top = bbox[1].get<double>();
    ASSERT_EQ(line["box"].size(), 4u);
    for (const auto& p : line["box"]) {
      EXPECT_GE(p[0].get<double>(), 0);
      EXPECT_LE(p[0].get<double>(), 556);
      EXPECT_GE(p[1].get<double>(), 0);
      EXPECT_LE(p[1].get<double>(), 257);
    }
    // Clockwise from the top-left: top-left is left of top-right and above bottom-left.
    EXPECT_LT(line["box"][0][0].get<double>(), line["box"][1][0].get<double>());
    EXPECT_LT(line["box"][0][1].get<double>(), line["box"][3][1].get<double>());
  }
}

// The same page rotated by about 10° and blurred: boxes follow the slant and crops are warped
// upright. Spaces and small letters suffer; how much depends on the detector's unclip ratio
// (models/manifest.json): 1.5 (PaddleOCR's default) reads it far better than 2.0.
// The second engine on the same page: Tesseract is at home on clean printed text.
TEST_F(OcrTest, TesseractEngineReadsTheTextPage) {
  auto r = Ocr(ReadFile(kData + "imageTextN.png"), {{"engine", "tesseract"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const std::string expected = ReadFile(ARGUS_SOURCE_DIR "/tests/data/ocr/imageTextN.txt");
  const std::string a = NormaliseSpaces((*r)["text"]), b = NormaliseSpaces(expected);
  const double cer = static_cast<double>(EditDistance(a, b)) / static_cast<double>(b.size());
  std::printf("tesseract: character error rate %.4f\n", cer);
  EXPECT_LE(cer, 0.05) << (*r)["text"];
  EXPECT_EQ((*r)["model"].get<std::string>().rfind("tesseract@", 0), 0u);
  for (const auto& line : (*r)["lines"]) {
    EXPECT_LE(line["bbox"][2].get<double>(), 556);
    EXPECT_LE(line["bbox"][3].get<double>(), 257);
  }
  EXPECT_EQ(Ocr(ReadFile(kData + "imageTextN.png"), {{"engine", "abbyy"}}).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(OcrTest, ReadsTheRotatedPage) {
  auto r = TimedOcr(kData + "imageTextR.png");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const std::string expected = ReadFile(ARGUS_SOURCE_DIR "/tests/data/ocr/imageTextN.txt");
  const std::string got = (*r)["text"];
  const std::string a = NormaliseSpaces(got), b = NormaliseSpaces(expected);
  const double cer = static_cast<double>(EditDistance(a, b)) / static_cast<double>(b.size());
  std::printf("rotated page: character error rate %.4f\n", cer);
  EXPECT_LE(cer, kRotatedMaxCer) << got;
  EXPECT_EQ((*r)["lines"].size(), 13u) << got;
  for (const auto& line : (*r)["lines"]) {
    // Slanted up to the right: the top-right corner is higher than the top-left.
    EXPECT_LT(line["box"][1][1].get<double>(), line["box"][0][1].get<double>());
  }
}

TEST_F(OcrTest, SmallerDetectionInputStillReads) {
  // 320 shrinks the 556-wide page to 320×160: the text gets small, yet most of it reads.
  auto r = Ocr(ReadFile(kData + "imageTextN.png"), {{"max_side", 320}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_GE((*r)["lines"].size(), 1u);
}

TEST_F(OcrTest, PhotosWithoutTextGiveFewLines) {
  for (const char* photo : {"fruits.jpg", "baboon.jpg"}) {
    auto r = TimedOcr(kData + photo);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_LE((*r)["lines"].size(), 2u) << photo << ": " << r->dump();
  }
}

TEST_F(OcrTest, BadParamsAreInvalidArgument) {
  const std::string page = ReadFile(kData + "imageTextN.png");
  for (const Json& params :
       {Json{{"min_score", 1.5}}, Json{{"min_confidence", -0.1}}, Json{{"max_side", 100}},
        Json{{"max_side", 4096}}, Json{{"max_side", "big"}}, Json{{"language", "en"}}}) {
    auto r = Ocr(page, params);
    ASSERT_FALSE(r.ok()) << params.dump();
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << params.dump();
  }
}

// Concurrent requests on images of different sizes. DISABLED: the model pool's Batcher stacks
// whatever requests are queued, and the OCR models take inputs of varying width and height, so
// requests of different shapes that meet in one batch all fail with "tensors of different shapes
// cannot form a batch" (8 of these 12 did). It passes with the working tree's pending Batcher
// change (batch only equal shapes): enable it with that change.
TEST_F(OcrTest, ConcurrentImagesOfDifferentSizes) {
  const std::string page = ReadFile(kData + "imageTextN.png");
  const std::string other = ReadFile(kData + "imageTextR.png");
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 3; ++i) {
        auto r = Ocr(t % 2 == 0 ? page : other);
        if (!r.ok()) {
          ++failed;
          ADD_FAILURE() << r.status().ToString();
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failed.load(), 0);
}

}  // namespace
}  // namespace argus::engine
