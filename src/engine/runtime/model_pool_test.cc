// A user's own models: manifest entries over tiny ONNX graphs generated for the test
// (tests/models/make_tiny_models.py), next to entries that must fail without hurting the rest.
#include "engine/runtime/model_pool.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <thread>

#include "core/crypto.h"
#include "engine/runtime/inference_runtime.h"

namespace argus::engine {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string FileSha256(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return HexEncode(Sha256(bytes));
}

class UserModelsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("argus-user-models-" + std::to_string(getpid()));
    std::string cmd =
        "/usr/bin/python3 " ARGUS_SOURCE_DIR "/tests/models/make_tiny_models.py " + dir_.string();
    ASSERT_EQ(std::system(cmd.c_str()), 0);
    Json manifest = {
        {"format", 1},
        {"models",
         {{{"name", "tiny_embed"},
           {"version", "0.1"},
           {"task", "image_embedding"},
           {"file", "embed.onnx"},
           {"sha256", FileSha256(dir_ / "embed.onnx")},
           {"batchable", true},
           {"inputs", {{{"name", "image"}, {"shape", {"N", 8, 8, 3}}, {"layout", "NHWC"}}}},
           {"outputs", {{{"name", "embedding"}, {"shape", {"N", 3}}}}},
           {"preprocessing", {{"size", {8, 8}}, {"color", "RGB"}, {"scale", 1.0 / 255}}}},
          {{"name", "tiny_double"},
           {"version", "1"},
           {"task", "custom"},
           {"file", "double.onnx"},
           {"sha256", FileSha256(dir_ / "double.onnx")},
           {"inputs", {{{"name", "x"}, {"shape", {"N", 3}}}}},
           {"outputs", {{{"name", "y"}, {"shape", {"N", 3}}}}}},
          {{"name", "tiny_text"},
           {"version", "2"},
           {"task", "text_embedding"},
           {"file", "text.onnx"},
           {"sha256", FileSha256(dir_ / "text.onnx")},
           {"inputs",
            {{{"name", "input_ids"}, {"shape", {"N", "S"}}, {"dtype", "int64"}},
             {{"name", "attention_mask"}, {"shape", {"N", "S"}}, {"dtype", "int64"}}}},
           {"outputs", {{{"name", "embedding"}, {"shape", {"N", 12}}}}},
           {"preprocessing",
            {{"tokenizer", "wordpiece"}, {"vocab", "vocab.txt"}, {"max_length", 16}}}},
          {{"name", "tiny_tokens"},
           {"version", "1"},
           {"task", "text_embedding"},
           {"file", "tokens.onnx"},
           {"sha256", FileSha256(dir_ / "tokens.onnx")},
           {"inputs", {{{"name", "input_ids"}, {"shape", {"N", "S"}}, {"dtype", "int64"}}}},
           {"outputs", {{{"name", "token_embeddings"}, {"shape", {"N", "S", 12}}}}},
           {"preprocessing",
            {{"tokenizer", "wordpiece"}, {"vocab", "vocab.txt"}, {"max_length", 8}}}},
          {{"name", "tiny_detect"},
           {"version", "3"},
           {"task", "object_detection"},
           {"file", "detect.onnx"},
           {"sha256", FileSha256(dir_ / "detect.onnx")},
           {"batchable", true},
           {"inputs", {{{"name", "image"}, {"shape", {"N", 8, 8, 3}}, {"layout", "NHWC"}}}},
           {"outputs", {{{"name", "boxes"}}, {{"name", "scores"}}, {{"name", "classes"}}}},
           {"preprocessing", {{"size", {8, 8}}, {"scale", 1.0 / 255}}},
           {"postprocessing",
            {{"boxes", "boxes"},
             {"scores", "scores"},
             {"classes", "classes"},
             {"box_format", "xyxy"}}},
           {"labels", {"red", "green"}}},
          {{"name", "tiny_detect_none"},
           {"version", "1"},
           {"task", "object_detection"},
           {"file", "detect_none.onnx"},
           {"sha256", FileSha256(dir_ / "detect_none.onnx")},
           {"inputs", {{{"name", "image"}, {"shape", {"N", 8, 8, 3}}}}},
           {"outputs", {{{"name", "boxes"}}, {{"name", "scores"}}}},
           {"preprocessing", {{"size", {8, 8}}, {"scale", 1.0 / 255}}},
           {"postprocessing", {{"boxes", 7}}},  // malformed: the default name is used
           {"labels", {"red", "green"}}},
          {{"name", "tiny_text_bad_vocab"},
           {"version", "1"},
           {"task", "text_embedding"},
           {"file", "tokens.onnx"},
           {"sha256", FileSha256(dir_ / "tokens.onnx")},
           {"inputs", {{{"name", "input_ids"}}}},
           {"preprocessing", {{"tokenizer", "wordpiece"}, {"vocab", "missing.txt"}}}},
          {{"name", "tiny_text_other_vocab"},
           {"version", "1"},
           {"task", "text_embedding"},
           {"file", "tokens.onnx"},
           {"sha256", FileSha256(dir_ / "tokens.onnx")},
           {"inputs", {{{"name", "input_ids"}}}},
           {"preprocessing",
            {{"tokenizer", "wordpiece"},
             {"vocab", "vocab.txt"},
             {"vocab_sha256", std::string(64, '0')}}}},
          {{"name", "misnamed"},
           {"version", "1"},
           {"task", "custom"},
           {"file", "double.onnx"},
           {"sha256", FileSha256(dir_ / "double.onnx")},
           {"outputs", {{{"name", "not_y"}}}}},
          {{"name", "tampered"},
           {"version", "1"},
           {"task", "custom"},
           {"file", "fixed.onnx"},
           {"sha256", std::string(64, '0')}},
          {{"name", "gone"},
           {"version", "1"},
           {"task", "custom"},
           {"file", "nowhere.onnx"},
           {"sha256", std::string(64, 'a')}},
          {{"version", "1"}, {"file", "double.onnx"}}}}};
    std::ofstream(dir_ / "manifest.json") << manifest.dump(2);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<InferenceRuntime> Runtime(MetricsRegistry* metrics = nullptr,
                                            ModelPoolOptions options = {},
                                            int request_threads = 2) {
    auto manifest = LoadManifest(dir_.string());
    EXPECT_TRUE(manifest.ok()) << manifest.status().ToString();
    auto runtime = std::make_unique<InferenceRuntime>(
        std::make_unique<ModelPool>(std::move(manifest).value(), options, metrics),
        InferenceRuntimeOptions{.request_threads = request_threads});
    runtime->Start(/*preload=*/true);
    for (int i = 0; i < 100 && !runtime->Warm(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_TRUE(runtime->Warm());
    return runtime;
  }

  fs::path dir_;
};

TEST_F(UserModelsTest, ManifestEntriesLoadOrFailOneByOne) {
  auto runtime = Runtime();
  std::map<std::string, store::InferenceTarget> by_name;
  for (auto& t : runtime->Targets()) by_name[t.name] = t;
  EXPECT_EQ(by_name["tiny_embed"].state, "ready");
  EXPECT_EQ(by_name["tiny_double"].state, "ready");
  EXPECT_EQ(by_name["tampered"].state, "failed");
  EXPECT_NE(by_name["tampered"].error.find("SHA-256"), std::string::npos);
  EXPECT_EQ(by_name["gone"].state, "failed");
  EXPECT_NE(by_name["gone"].error.find("missing"), std::string::npos);
  EXPECT_EQ(by_name["?"].state, "failed");  // the entry without a name
  // Outputs listed under other names than the file's: refused, naming both.
  EXPECT_EQ(by_name["misnamed"].state, "failed");
  EXPECT_NE(by_name["misnamed"].error.find("[not_y]"), std::string::npos);
  EXPECT_NE(by_name["misnamed"].error.find("[y]"), std::string::npos);
  EXPECT_EQ(by_name["tiny_text"].state, "ready");
  // A text model whose vocabulary is missing or not the one its entry names is failed too.
  EXPECT_EQ(by_name["tiny_text_bad_vocab"].state, "failed");
  EXPECT_NE(by_name["tiny_text_bad_vocab"].error.find("missing.txt"), std::string::npos);
  EXPECT_EQ(by_name["tiny_text_other_vocab"].state, "failed");
  EXPECT_NE(by_name["tiny_text_other_vocab"].error.find("SHA-256"), std::string::npos);
  EXPECT_EQ(by_name["tiny_text"].details["input"], "text");
  EXPECT_EQ(by_name["tiny_detect"].details["input"], "image");
  EXPECT_EQ(by_name["tiny_detect"].params_schema["properties"]["classes"]["items"]["enum"],
            Json({"red", "green"}));
  EXPECT_TRUE(by_name["tiny_embed"].details["batchable"].get<bool>());
}

TEST_F(UserModelsTest, UserImageEmbedderAnswersThroughTheRuntime) {
  auto runtime = Runtime();
  cv::Mat img(40, 60, CV_8UC3, cv::Scalar(255, 0, 0));  // BGR: pure blue
  std::vector<unsigned char> png;
  cv::imencode(".png", img, png);
  auto r = runtime->Infer({.name = "tiny_embed", .media = std::string(png.begin(), png.end())});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)["model"], "tiny_embed@0.1");
  ASSERT_EQ((*r)["embedding"].size(), 3u);
  // The mean colour in RGB order, L2-normalised: blue → (0, 0, 1).
  EXPECT_NEAR((*r)["embedding"][0].get<double>(), 0.0, 1e-5);
  EXPECT_NEAR((*r)["embedding"][2].get<double>(), 1.0, 1e-5);
  auto refused = runtime->Infer({.name = "tampered", .media = std::string(png.begin(), png.end())});
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable);
  auto not_image =
      runtime->Infer({.name = "tiny_double", .media = std::string(png.begin(), png.end())});
  EXPECT_EQ(not_image.status().code(), StatusCode::kInvalidArgument);  // no image input
}

std::vector<double> Embedding(const Result<Json>& r) {
  std::vector<double> v;
  if (!r.ok()) return v;
  for (const auto& x : (*r)["embedding"]) v.push_back(x.get<double>());
  return v;
}

// The vocabulary of make_tiny_models.py: [PAD] [UNK] [CLS] [SEP] red green blue car ##s boat , !
TEST_F(UserModelsTest, UserTextEmbedderReadsWordPieceIdsOfItsOwnVocabulary) {
  auto runtime = Runtime();
  // Token counts: [CLS] 1, red 2, car 1, ##s 1, "," 1, [UNK] 1 ("Zebra"), "!" 1, [SEP] 1; the
  // padding to 16 is masked out. L2-normalised: each count / sqrt(1+4+1+1+1+1+1+1 = 11).
  auto r = runtime->Infer({.name = "tiny_text", .media = "Red cars, RED zebra!"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)["model"], "tiny_text@2");
  EXPECT_EQ((*r)["tokens"], 9);  // [CLS] red car ##s , red [UNK] ! [SEP]
  std::vector<double> e = Embedding(r);
  ASSERT_EQ(e.size(), 12u);
  const double unit = 1 / std::sqrt(11.0);
  EXPECT_NEAR(e[0], 0.0, 1e-6);       // [PAD]: masked
  EXPECT_NEAR(e[1], unit, 1e-6);      // [UNK] (zebra)
  EXPECT_NEAR(e[2], unit, 1e-6);      // [CLS]
  EXPECT_NEAR(e[3], unit, 1e-6);      // [SEP]
  EXPECT_NEAR(e[4], 2 * unit, 1e-6);  // red, red
  EXPECT_NEAR(e[6], 0.0, 1e-6);       // blue
  EXPECT_NEAR(e[7], unit, 1e-6);      // car
  EXPECT_NEAR(e[8], unit, 1e-6);      // ##s
  EXPECT_NEAR(e[10], unit, 1e-6);     // ,
  EXPECT_NEAR(e[11], unit, 1e-6);     // !
  // Per-token outputs are mean-pooled over the text's tokens (not the padding to max_length).
  auto pooled = runtime->Infer({.name = "tiny_tokens", .media = "blue boat"});
  ASSERT_TRUE(pooled.ok()) << pooled.status().ToString();
  e = Embedding(pooled);
  EXPECT_NEAR(e[0], 0.0, 1e-6);
  EXPECT_NEAR(e[6], 0.5, 1e-6);  // [CLS] blue boat [SEP]: four ones → 1/2 each
  EXPECT_NEAR(e[9], 0.5, 1e-6);
  // Longer than max_length 8: cut, [SEP] kept.
  auto cut = runtime->Infer({.name = "tiny_tokens", .media = "red red red red red red red red"});
  ASSERT_TRUE(cut.ok());
  EXPECT_EQ((*cut)["tokens"], 8);
  EXPECT_EQ(runtime->Infer({.name = "tiny_text", .media = "  "}).status().code(),
            StatusCode::kInvalidArgument);
  // A huge text costs no more than its first max_length tokens.
  std::string huge;
  for (int i = 0; i < 2'000'000; ++i) huge += "car ";
  auto capped = runtime->Infer({.name = "tiny_text", .media = huge});
  ASSERT_TRUE(capped.ok()) << capped.status().ToString();
  EXPECT_EQ((*capped)["tokens"], 16);
  // A model whose vocabulary is missing is the server's problem: 503, naming the file.
  auto broken = runtime->Infer({.name = "tiny_text_bad_vocab", .media = "red"});
  EXPECT_EQ(broken.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(broken.status().message().find("missing.txt"), std::string::npos);
  EXPECT_EQ(
      runtime->Infer({.name = "tiny_text", .media = "red", .params = {{"x", 1}}}).status().code(),
      StatusCode::kInvalidArgument);
}

// From the rendered argus_inference_batch_size histogram of `model`: {runs, runs of one request}.
std::pair<int64_t, int64_t> BatchRuns(const MetricsRegistry& metrics, const std::string& model) {
  std::string rendered = metrics.Render();
  auto value = [&](const std::string& series) -> int64_t {
    auto at = rendered.find(series);
    EXPECT_NE(at, std::string::npos) << series << " in\n" << rendered;
    if (at == std::string::npos) return -1;
    return std::stoll(rendered.substr(at + series.size() + 1));
  };
  return {value("argus_inference_batch_size_count{model=\"" + model + "\"}"),
          value("argus_inference_batch_size_bucket{model=\"" + model + "\",le=\"1\"}")};
}

TEST_F(UserModelsTest, ConcurrentTextsOfSimilarLengthAreBatched) {
  MetricsRegistry metrics;
  // As many request threads as callers, and time to gather them: batching, not timing, is tested.
  auto runtime = Runtime(&metrics, {.sessions_per_model = 1, .max_batch = 8, .max_wait_us = 20000},
                         /*request_threads=*/12);
  std::vector<std::thread> callers;
  std::atomic<int> ok{0};
  for (int i = 0; i < 12; ++i) {
    callers.emplace_back([&, i] {
      auto r = runtime->Infer({.name = "tiny_text", .media = i % 2 ? "red car" : "blue boats!"});
      if (r.ok() && (*r)["dimensions"] == 12) ++ok;
    });
  }
  for (auto& t : callers) t.join();
  EXPECT_EQ(ok.load(), 12);
  // Some run answered more than one text (its batch dimension was above 1).
  auto [runs, single] = BatchRuns(metrics, "tiny_text");
  EXPECT_GT(runs - single, 0) << runs << " runs, " << single << " of them of one request";
}

TEST_F(UserModelsTest, UserDetectorAnswersLabelledBoxesInSourcePixels) {
  auto runtime = Runtime();
  cv::Mat red(40, 60, CV_8UC3, cv::Scalar(0, 0, 255));  // BGR
  std::vector<unsigned char> png;
  cv::imencode(".png", red, png);
  std::string media(png.begin(), png.end());
  auto r = runtime->Infer({.name = "tiny_detect", .media = media});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)["model"], "tiny_detect@3");
  ASSERT_EQ((*r)["detections"].size(), 1u) << r->dump();
  const Json& d = (*r)["detections"][0];
  EXPECT_EQ(d["label"], "red");
  EXPECT_NEAR(d["score"].get<double>(), 1.0, 1e-5);
  // (0.25, 0.25, 0.75, 0.5) of a 60 × 40 image.
  EXPECT_EQ(d["box"], Json({15.0, 10.0, 45.0, 20.0}));
  // The class filter and the score threshold apply.
  auto green_only =
      runtime->Infer({.name = "tiny_detect", .media = media, .params = {{"classes", {"green"}}}});
  ASSERT_TRUE(green_only.ok()) << green_only.status().ToString();
  EXPECT_TRUE((*green_only)["detections"].empty());
  cv::Mat dim(40, 60, CV_8UC3, cv::Scalar(0, 0, 50));  // red at 0.2 < 0.3
  cv::imencode(".png", dim, png);
  auto none = runtime->Infer({.name = "tiny_detect", .media = std::string(png.begin(), png.end())});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE((*none)["detections"].empty());
  auto low = runtime->Infer({.name = "tiny_detect",
                             .media = std::string(png.begin(), png.end()),
                             .params = {{"score_threshold", 0.1}}});
  ASSERT_TRUE(low.ok());
  EXPECT_EQ((*low)["detections"].size(), 1u);
  // A graph that found nothing (K = 0) answers no detections.
  auto empty = runtime->Infer({.name = "tiny_detect_none", .media = media});
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_TRUE((*empty)["detections"].empty());
  EXPECT_EQ(
      runtime->Infer({.name = "tiny_detect", .media = media, .params = {{"classes", {"cat"}}}})
          .status()
          .code(),
      StatusCode::kInvalidArgument);
}

TEST_F(UserModelsTest, ConcurrentRunsOfABatchableModelAreBatched) {
  auto manifest = LoadManifest(dir_.string());
  ASSERT_TRUE(manifest.ok());
  MetricsRegistry metrics;
  ModelPool pool(std::move(manifest).value(),
                 {.sessions_per_model = 1, .max_batch = 8, .max_wait_us = 20000}, &metrics);
  pool.StartLoading();
  for (int i = 0; i < 100 && !pool.loaded(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::vector<std::thread> callers;
  std::vector<float> got(16, -1);
  for (int i = 0; i < 16; ++i) {
    callers.emplace_back([&, i] {
      float v = static_cast<float>(i);
      auto r = pool.Run("tiny_double", {Tensor{{1, 3}, {v, v, v}}},
                        Clock::now() + std::chrono::seconds(5));
      if (r.ok()) got[i] = (*r)[0].data[0];
    });
  }
  for (auto& t : callers) t.join();
  for (int i = 0; i < 16; ++i) EXPECT_EQ(got[i], 2.0f * i) << i;
  // Some runs held more than one request, and no request ran twice.
  auto [runs, single] = BatchRuns(metrics, "tiny_double");
  EXPECT_GT(runs - single, 0) << runs << " runs, " << single << " of them of one request";
  EXPECT_LT(runs, 16);
  EXPECT_EQ(pool.Run("nope", {}, Clock::now()).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace argus::engine
