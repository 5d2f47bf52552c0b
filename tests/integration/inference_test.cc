// The real-time endpoint over real HTTP with real weights (models/, made by scripts/models.sh)
// and real media (opencv-doc): answers, parameters, bad input, back-pressure.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "core/crypto.h"
#include "tests/integration/test_server.h"

namespace argus::testing {
namespace {

const std::string kData = "/usr/share/doc/opencv-doc/examples/data/";

class InferenceTest : public ::testing::Test {
 protected:
  void Start(std::vector<std::string> env = {}) {
    env.push_back("ARGUS_INFERENCE_PRELOAD=true");
    server_ = TestServer::Start({.env = std::move(env)});
    ASSERT_GT(server_->port(), 0) << server_->Log();
    // Models warm up in the background: /readyz says when.
    for (int i = 0; i < 300; ++i) {
      if (Request(server_->port(), "GET", "/readyz").status == 200) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    FAIL() << "models never warmed up: " << Request(server_->port(), "GET", "/readyz").body;
  }
  HttpResult Infer(const std::string& target, const std::string& body,
                   std::map<std::string, std::string> headers = {}) {
    headers["Authorization"] = "Bearer " + server_->admin_key();
    return Request(server_->port(), "POST", "/v1/inference/" + target, headers, body);
  }
  std::unique_ptr<TestServer> server_;
};

TEST_F(InferenceTest, DetectsObjectsInMessi) {
  ASSERT_NO_FATAL_FAILURE(Start());
  std::string messi = ReadFile(kData + "messi5.jpg");
  auto r = Infer("object_detection", messi, {{"Content-Type", "image/jpeg"}});
  ASSERT_EQ(r.status, 200) << r.body;
  std::set<std::string> labels;
  for (const auto& d : r.json()["detections"]) labels.insert(d["label"]);
  EXPECT_TRUE(labels.count("person")) << r.body;
  EXPECT_TRUE(labels.count("sports ball")) << r.body;
  EXPECT_EQ(r.json()["model"], "centernet@3.3.6");
  EXPECT_EQ(r.json()["extractor"], "object_detection@1");

  // Parameters as query parameters, typed by the schema.
  auto strict = Infer("object_detection?score_threshold=0.99&classes=person,sports%20ball", messi);
  ASSERT_EQ(strict.status, 200) << strict.body;
  EXPECT_LT(strict.json()["detections"].size(), r.json()["detections"].size());
  // ... or a multipart form: the image in "file", parameters in "params".
  std::string form =
      "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"m.jpg\"\r\n"
      "Content-Type: image/jpeg\r\n\r\n" +
      messi +
      "\r\n--XyZ\r\nContent-Disposition: form-data; name=\"params\"\r\n\r\n"
      "{\"classes\": [\"sports ball\"]}\r\n--XyZ--\r\n";
  auto balls =
      Infer("object_detection", form, {{"Content-Type", "multipart/form-data; boundary=XyZ"}});
  ASSERT_EQ(balls.status, 200) << balls.body;
  ASSERT_FALSE(balls.json()["detections"].empty());
  for (const auto& d : balls.json()["detections"]) EXPECT_EQ(d["label"], "sports ball");

  auto embedding = Infer("image_embedding", messi);
  ASSERT_EQ(embedding.status, 200) << embedding.body;
  EXPECT_EQ(embedding.json()["embedding"].size(), 1280u);

  auto models = server_->Call("GET", "/v1/models", server_->admin_key());
  ASSERT_EQ(models.status, 200);
  bool centernet_ready = false;
  for (const auto& m : models.json()["items"]) {
    if (m["name"] != "centernet") continue;
    centernet_ready = m["state"] == "ready";
    EXPECT_GE(m["requests"].get<int>(), 3) << m.dump();  // the three calls above
    EXPECT_GT(m["mean_run_ms"].get<double>(), 0) << m.dump();
    EXPECT_EQ(m["manifest"]["sha256"].get<std::string>().size(), 64u);
  }
  EXPECT_TRUE(centernet_ready) << models.body;
  auto extractors = server_->Call("GET", "/v1/extractors", server_->admin_key());
  ASSERT_EQ(extractors.status, 200);
  EXPECT_GE(extractors.json()["items"].size(), 3u);
  for (const auto& e : extractors.json()["items"]) {
    EXPECT_TRUE(e["params_schema"].is_object());
    EXPECT_TRUE(e["output_schema"].is_object());
  }
}

TEST_F(InferenceTest, StoredObjectsAreInferredByReference) {
  ASSERT_NO_FATAL_FAILURE(Start());
  const std::string key = server_->admin_key();
  ASSERT_EQ(server_->Call("POST", "/v1/namespaces", key, {{"name", "a"}}).status, 201);
  ASSERT_EQ(server_->Call("POST", "/v1/buckets", key, {{"name", "photos"}}, {{"X-Namespace", "a"}})
                .status,
            201);
  auto put = Request(server_->port(), "PUT", "/v1/buckets/photos/objects/2024/messi.jpg",
                     {{"Authorization", "Bearer " + key}, {"X-Namespace", "a"}},
                     ReadFile(kData + "messi5.jpg"));
  ASSERT_EQ(put.status, 201) << put.body;
  auto json = [&](const Json& body, std::string ns = "a") {
    std::map<std::string, std::string> h = {{"Content-Type", "application/json"}};
    if (!ns.empty()) h["X-Namespace"] = ns;
    return Infer("object_detection", body.dump(), h);
  };
  auto r = json({{"object", {{"bucket", "photos"}, {"key", "2024/messi.jpg"}}},
                 {"params", {{"classes", {"sports ball"}}}}});
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_FALSE(r.json()["detections"].empty()) << r.body;
  for (const auto& d : r.json()["detections"]) EXPECT_EQ(d["label"], "sports ball");
  EXPECT_EQ(json({{"object", {{"bucket", "photos"}, {"key", "nope.jpg"}}}}).status, 404);
  EXPECT_EQ(json({{"object", {{"bucket", "photos"}, {"key", "2024/messi.jpg"}}}}, "").status,
            400);  // no namespace in scope
  // Another namespace with a bucket of the same name sees nothing of this one.
  ASSERT_EQ(server_->Call("POST", "/v1/namespaces", key, {{"name", "b"}}).status, 201);
  ASSERT_EQ(server_->Call("POST", "/v1/buckets", key, {{"name", "photos"}}, {{"X-Namespace", "b"}})
                .status,
            201);
  EXPECT_EQ(json({{"object", {{"bucket", "photos"}, {"key", "2024/messi.jpg"}}}}, "b").status, 404);
  // Not an image: refused from the record (the media type sniffed at upload).
  ASSERT_EQ(Request(server_->port(), "PUT", "/v1/buckets/photos/objects/notes.txt",
                    {{"Authorization", "Bearer " + key}, {"X-Namespace", "a"}}, "plain words")
                .status,
            201);
  auto text = json({{"object", {{"bucket", "photos"}, {"key", "notes.txt"}}}});
  EXPECT_EQ(text.status, 415);
  EXPECT_NE(text.body.find("'object_detection' reads image/*"), std::string::npos) << text.body;
  EXPECT_EQ(json({{"object", {{"bucket", "photos"}, {"key", "../x"}}}}).status, 400);
  EXPECT_EQ(json({{"object", {{"bucket", "photos"}}}}).status, 400);
  EXPECT_EQ(json({{"text", "x"}, {"object", {{"bucket", "photos"}, {"key", "k"}}}}).status, 400);
  EXPECT_EQ(json({{"image", "x"}}).status, 400);  // unknown field
  EXPECT_EQ(json({{"object", {{"bucket", "photos"}, {"key", "2024/messi.jpg"}}},
                  {"params", {{"score_threshold", 7}}}})
                .status,
            400);
}

TEST_F(InferenceTest, BadInputGetsAClear4xx) {
  ASSERT_NO_FATAL_FAILURE(Start({"ARGUS_INFERENCE_MAX_BODY_BYTES=2000000"}));
  std::string messi = ReadFile(kData + "messi5.jpg");
  std::string bomb("\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0\xc3\x50\0\0\xc3\x50\x08\x02\0\0\0", 29);
  struct Case {
    std::string what, target, body;
    int status;
  };
  for (const auto& c : std::vector<Case>{
           {"empty", "object_detection", "", 400},
           {"not an image", "object_detection", "hello", 400},
           {"truncated jpeg", "object_detection", messi.substr(0, messi.size() / 2), 400},
           {"50000x50000 png", "object_detection", bomb, 400},
           {"unknown model", "no_such_model", messi, 404},
           {"threshold out of range", "object_detection?score_threshold=7", messi, 400},
           {"threshold not a number", "object_detection?score_threshold=high", messi, 400},
           {"unknown parameter", "object_detection?colour=red", messi, 400},
           {"unknown class", "object_detection?classes=unicorn", messi, 400},
           {"too large", "object_detection", std::string(3'000'000, 'x'), 413}}) {
    auto r = Infer(c.target, c.body);
    EXPECT_EQ(r.status, c.status) << c.what << ": " << r.body;
    EXPECT_TRUE(r.json().contains("error")) << c.what;
  }
  EXPECT_NE(Infer("object_detection", bomb).body.find("2500000000 pixels"), std::string::npos);
  EXPECT_NE(Infer("object_detection", "hello").body.find("reads image/*; this media is text/plain"),
            std::string::npos)
      << "the extractor names the media types it reads";
  EXPECT_EQ(Infer("object_detection", messi).status, 200);  // healthy after all that
}

TEST_F(InferenceTest, FullQueueIs429WithRetryAfter) {
  ASSERT_NO_FATAL_FAILURE(Start({"ARGUS_INFERENCE_MAX_QUEUE=1", "ARGUS_INFERENCE_MAX_BATCH=1"}));
  std::string messi = ReadFile(kData + "messi5.jpg");
  std::atomic<int> ok{0}, busy{0}, other{0};
  std::atomic<bool> retry_after{true};
  std::vector<std::thread> clients;
  for (int i = 0; i < 24; ++i) {
    clients.emplace_back([&] {
      auto r = Infer("object_detection", messi);
      if (r.status == 200) {
        ++ok;
      } else if (r.status == 429) {
        ++busy;
        if (r.Header("retry-after").empty()) retry_after = false;
      } else {
        ++other;
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_GT(ok.load(), 0);
  EXPECT_GT(busy.load(), 0);
  EXPECT_EQ(other.load(), 0);
  EXPECT_TRUE(retry_after.load());
}

TEST_F(InferenceTest, RequestPastItsDeadlineIs504) {
  // A 1 ms budget: decoding alone takes longer, so no request can make it.
  ASSERT_NO_FATAL_FAILURE(Start({"ARGUS_INFERENCE_TIMEOUT_S=0.001"}));
  auto r = Infer("object_detection", ReadFile(kData + "messi5.jpg"));
  EXPECT_EQ(r.status, 504) << r.body;
  EXPECT_EQ(r.json()["error"]["code"], "deadline_exceeded") << r.body;
  EXPECT_EQ(Request(server_->port(), "GET", "/healthz").status, 200);
}

TEST_F(InferenceTest, CliInfersAndListsModels) {
  ASSERT_NO_FATAL_FAILURE(Start());
  std::vector<std::string> env = {"ARGUS_URL=http://127.0.0.1:" + std::to_string(server_->port()),
                                  "ARGUS_API_KEY=" + server_->admin_key()};
  auto r = RunProcess({ArgusBinary(), "infer", "object_detection", kData + "messi5.jpg", "-p",
                       "score_threshold=0.4"},
                      env);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("sports ball"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("person"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("model: centernet@3.3.6"), std::string::npos) << r.output;
  auto json =
      RunProcess({ArgusBinary(), "infer", "image_embedding", kData + "messi5.jpg", "--json"}, env);
  ASSERT_EQ(json.exit_code, 0) << json.output;
  EXPECT_EQ(Json::parse(json.output)["embedding"].size(), 1280u);
  auto bad = RunProcess(
      {ArgusBinary(), "infer", "object_detection", kData + "messi5.jpg", "-p", "score_threshold=9"},
      env);
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.output.find("score_threshold"), std::string::npos) << bad.output;
  auto ls = RunProcess({ArgusBinary(), "models", "ls"}, env);
  ASSERT_EQ(ls.exit_code, 0) << ls.output;
  EXPECT_NE(ls.output.find("centernet"), std::string::npos) << ls.output;
  EXPECT_NE(ls.output.find("ready"), std::string::npos) << ls.output;
  auto extractors = RunProcess({ArgusBinary(), "models", "ls", "--extractors"}, env);
  EXPECT_NE(extractors.output.find("object_detection"), std::string::npos) << extractors.output;
}

}  // namespace
}  // namespace argus::testing

namespace argus::testing {
namespace {

std::string Sha256Of(const std::string& path) { return HexEncode(Sha256(ReadFile(path))); }

// A user's own models, registered by manifest entries alone (tiny graphs made by
// tests/models/make_tiny_models.py): a text embedder answers for a text body, a detector for an
// image, both over HTTP.
TEST_F(InferenceTest, UserTextEmbedderAndDetectorAnswerOverHttp) {
  std::string dir = NewTempDir("user-models");
  std::string make = "/usr/bin/python3 " + SourceDir() + "/tests/models/make_tiny_models.py " + dir;
  ASSERT_EQ(std::system(make.c_str()), 0);
  Json manifest = {
      {"format", 1},
      {"models",
       {{{"name", "my_text"},
         {"version", "1"},
         {"task", "text_embedding"},
         {"file", "text.onnx"},
         {"sha256", Sha256Of(dir + "/text.onnx")},
         {"inputs", {{{"name", "input_ids"}}, {{"name", "attention_mask"}}}},
         {"outputs", {{{"name", "embedding"}}}},
         {"preprocessing", {{"tokenizer", "wordpiece"}, {"vocab", "vocab.txt"}}}},
        {{"name", "my_detector"},
         {"version", "2"},
         {"task", "object_detection"},
         {"file", "detect.onnx"},
         {"sha256", Sha256Of(dir + "/detect.onnx")},
         {"inputs", {{{"name", "image"}, {"shape", {"N", 8, 8, 3}}}}},
         {"outputs", {{{"name", "boxes"}}, {{"name", "scores"}}, {{"name", "classes"}}}},
         {"preprocessing", {{"size", {8, 8}}, {"scale", 1.0 / 255}}},
         {"labels", {"red", "green"}}}}}};
  std::ofstream(dir + "/manifest.json") << manifest.dump();
  ASSERT_NO_FATAL_FAILURE(Start({"ARGUS_MODEL_DIR=" + dir}));

  auto models = Request(server_->port(), "GET", "/v1/models",
                        {{"Authorization", "Bearer " + server_->admin_key()}});
  ASSERT_EQ(models.status, 200) << models.body;
  std::map<std::string, Json> by_name;
  for (const auto& m : models.json()["items"]) by_name[m["name"]] = m;
  EXPECT_EQ(by_name["my_text"]["state"], "ready") << models.body;
  EXPECT_EQ(by_name["my_text"]["input"], "text");
  EXPECT_EQ(by_name["my_detector"]["state"], "ready");

  auto text = Infer("my_text", "Blue boats!", {{"Content-Type", "text/plain; charset=utf-8"}});
  ASSERT_EQ(text.status, 200) << text.body;
  EXPECT_EQ(text.json()["model"], "my_text@1");
  ASSERT_EQ(text.json()["embedding"].size(), 12u);
  // [CLS] blue boat ##s ! [SEP]: six tokens, one each → 1/sqrt(6) for "blue" (entry 6).
  EXPECT_NEAR(text.json()["embedding"][6].get<double>(), 1 / std::sqrt(6.0), 1e-6);
  EXPECT_EQ(Infer("my_text", "").status, 400);
  auto as_json = Infer("my_text", Json{{"text", "Blue boats!"}}.dump(),
                       {{"Content-Type", "application/json"}});
  ASSERT_EQ(as_json.status, 200) << as_json.body;
  EXPECT_EQ(as_json.json()["embedding"], text.json()["embedding"]);
  // The CLI sends a text with --text.
  std::vector<std::string> cli_env = {
      "ARGUS_URL=http://127.0.0.1:" + std::to_string(server_->port()),
      "ARGUS_API_KEY=" + server_->admin_key()};
  auto cli =
      RunProcess({ArgusBinary(), "infer", "my_text", "--text", "Blue boats!", "--json"}, cli_env);
  ASSERT_EQ(cli.exit_code, 0) << cli.output;
  EXPECT_EQ(Json::parse(cli.output)["embedding"], text.json()["embedding"]);
  auto neither = RunProcess({ArgusBinary(), "infer", "my_text"}, cli_env);
  EXPECT_NE(neither.exit_code, 0);
  EXPECT_NE(neither.output.find("--text"), std::string::npos) << neither.output;

  std::string png = ReadFile(dir + "/red.png");
  auto found = Infer("my_detector", png, {{"Content-Type", "image/png"}});
  ASSERT_EQ(found.status, 200) << found.body;
  ASSERT_EQ(found.json()["detections"].size(), 1u) << found.body;
  EXPECT_EQ(found.json()["detections"][0]["label"], "red");
  EXPECT_EQ(Infer("my_detector?classes=green", png).json()["detections"].size(), 0u);
  EXPECT_EQ(Infer("my_detector?score_threshold=5", png).status, 400);
  EXPECT_EQ(Infer("my_detector?classes=cat", png).status, 400);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace argus::testing
