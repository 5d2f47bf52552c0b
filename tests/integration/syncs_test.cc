// Syncs over real HTTP with the real binary: folder syncs (allowed roots, inotify, stable size,
// symlinks, pause/resume, failures and retry, exactly once across restarts and kill -9) and
// S3 syncs against s3rver (when run under tests/s3/run_with_s3rver.sh).
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

#include "core/crypto.h"
#include "tests/integration/test_server.h"

namespace argus::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const std::string kPng("\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0\x90wS\xde",
                       33);

std::string Hex(const std::string& bytes) { return HexEncode(Sha256(bytes)); }

void WriteFile(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
}

// Polls `done` every 100 ms for up to `timeout`.
bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout = 20s) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (done()) return true;
    std::this_thread::sleep_for(100ms);
  }
  return done();
}

class SyncsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = NewTempDir("sync-root");
    data_dir_ = NewTempDir("sync-data");
    ASSERT_NO_FATAL_FAILURE(Start(true));
  }
  void TearDown() override {
    server_.reset();
    std::error_code ec;
    fs::remove_all(root_, ec);
    fs::remove_all(data_dir_, ec);
  }
  // Starts the server on data_dir_ (kept across restarts); `fresh`: also makes namespace "a" and
  // bucket "photos".
  void Start(bool fresh, std::vector<std::string> extra_env = {}) {
    std::vector<std::string> env = {"ARGUS_SYNCS_ALLOWED_ROOTS=/nonexistent-root:" + root_,
                                    "ARGUS_SYNCS_STABLE_S=0.3"};
    for (auto& e : extra_env) env.push_back(std::move(e));
    server_ = TestServer::Start({.env = env, .data_dir = data_dir_});
    ASSERT_GT(server_->port(), 0) << server_->Log();
    if (fresh) {
      ASSERT_EQ(Call("POST", "/v1/namespaces", {{"name", "a"}}, "").status, 201);
      ASSERT_EQ(Call("POST", "/v1/buckets", {{"name", "photos"}}).status, 201);
    }
  }
  HttpResult Call(const std::string& method, const std::string& path, const Json& body = nullptr,
                  const std::string& ns = "a") {
    std::map<std::string, std::string> headers;
    if (!ns.empty()) headers["X-Namespace"] = ns;
    return server_->Call(method, path, server_->admin_key(), body, headers);
  }
  // Creates a folder sync of `dir` (below the root) and returns its id.
  std::string CreateFolderSync(const std::string& dir, Json extra = Json::object(),
                               const std::string& bucket = "photos") {
    Json body = std::move(extra);
    body["source"] = {{"type", "folder"}, {"path", dir}};
    auto created = Call("POST", "/v1/buckets/" + bucket + "/syncs", body);
    EXPECT_EQ(created.status, 201) << created.body;
    return created.json().value("id", "");
  }
  Json Sync(const std::string& id, const std::string& bucket = "photos") {
    return Call("GET", "/v1/buckets/" + bucket + "/syncs/" + id).json();
  }
  // Waits until the sync's latest run is finished and the counts satisfy `want`.
  bool WaitCounts(const std::string& id, const std::function<bool(const Json&)>& want,
                  const std::string& bucket = "photos") {
    return WaitFor([&] {
      Json s = Sync(id, bucket);
      return s["run"].is_object() && s["run"]["status"] == "succeeded" && want(s["counts"]);
    });
  }
  // Starts a run now and waits until a run that started after this call has finished.
  void RunOnce(const std::string& id) {
    std::string before = Sync(id)["run"].is_object() ? Sync(id)["run"]["task_id"] : "";
    ASSERT_EQ(Call("POST", "/v1/buckets/photos/syncs/" + id + "/run").status, 200);
    ASSERT_TRUE(WaitFor([&] {
      Json s = Sync(id);
      return s["run"].is_object() && s["run"]["task_id"] != before &&
             s["run"]["status"] == "succeeded";
    })) << Sync(id).dump();
  }
  Json Object(const std::string& key, const std::string& bucket = "photos") {
    auto r = Call("GET", "/v1/buckets/" + bucket + "/objects/" + key);
    return r.status == 200 ? r.json() : Json(nullptr);
  }
  size_t ObjectCount(const std::string& bucket = "photos") {
    size_t n = 0;
    std::string cursor;
    while (true) {
      auto page = Call("GET", "/v1/buckets/" + bucket + "/objects?limit=1000" +
                                  (cursor.empty() ? "" : "&cursor=" + cursor));
      EXPECT_EQ(page.status, 200) << page.body;
      if (page.status != 200) return n;
      n += page.json()["items"].size();
      if (!page.json()["next_cursor"].is_string()) return n;
      cursor = page.json()["next_cursor"].get<std::string>();
    }
  }

  std::string root_;
  std::string data_dir_;
  std::unique_ptr<TestServer> server_;
};

TEST_F(SyncsTest, FolderSourcesOnlyBelowAllowedRoots) {
  auto etc = Call("POST", "/v1/buckets/photos/syncs",
                  {{"source", {{"type", "folder"}, {"path", "/etc"}}}});
  EXPECT_EQ(etc.status, 403) << etc.body;
  // A sibling whose name merely starts with the root's is outside it.
  fs::create_directories(root_ + "-evil");
  auto sibling = Call("POST", "/v1/buckets/photos/syncs",
                      {{"source", {{"type", "folder"}, {"path", root_ + "-evil"}}}});
  EXPECT_EQ(sibling.status, 403) << sibling.body;
  fs::remove_all(root_ + "-evil");
  auto dotdot = Call("POST", "/v1/buckets/photos/syncs",
                     {{"source", {{"type", "folder"}, {"path", root_ + "/../../etc"}}}});
  EXPECT_EQ(dotdot.status, 403) << dotdot.body;
  EXPECT_EQ(Call("POST", "/v1/buckets/photos/syncs",
                 {{"source", {{"type", "folder"}, {"path", "relative/dir"}}}})
                .status,
            400);
  EXPECT_EQ(Call("POST", "/v1/buckets/photos/syncs",
                 {{"source", {{"type", "folder"}, {"path", root_ + "/missing"}}}})
                .status,
            400);
  EXPECT_EQ(Call("POST", "/v1/buckets/photos/syncs",
                 {{"source", {{"type", "folder"}, {"path", root_}, {"bogus", 1}}}})
                .status,
            400);
  EXPECT_EQ(Call("POST", "/v1/buckets/photos/syncs", {{"source", {{"type", "ftp"}}}}).status, 400);
  EXPECT_EQ(Call("POST", "/v1/buckets/photos/syncs",
                 {{"source", {{"type", "folder"}, {"path", root_}}}, {"interval_s", 0}})
                .status,
            400);
  EXPECT_EQ(
      Call("POST", "/v1/buckets/nope/syncs", {{"source", {{"type", "folder"}, {"path", root_}}}})
          .status,
      404);
  // Sync runs are the scheduler's: a client cannot start one as a plain task.
  auto task = Call("POST", "/v1/tasks", {{"kind", "sync.run"}, {"input", {{"sync_id", "x"}}}});
  EXPECT_EQ(task.status, 400) << task.body;
  EXPECT_NE(task.body.find("started by Argus itself"), std::string::npos) << task.body;

  // Without any configured root, folder syncs are refused outright.
  server_.reset();
  server_ = TestServer::Start({.data_dir = data_dir_});
  auto none =
      Call("POST", "/v1/buckets/photos/syncs", {{"source", {{"type", "folder"}, {"path", root_}}}});
  EXPECT_EQ(none.status, 403) << none.body;
  EXPECT_NE(none.body.find("allowed_roots"), std::string::npos) << none.body;
}

TEST_F(SyncsTest, FolderFilesBecomeObjectsOnce) {
  WriteFile(root_ + "/cam/a.png", kPng);
  WriteFile(root_ + "/cam/sub/b.txt", "hello b");
  WriteFile(root_ + "/cam/.partial", "hidden");
  std::string id = CreateFolderSync(
      root_ + "/cam",
      {{"key_prefix", "in/"}, {"metadata", {{"src", "cam"}}}, {"interval_s", 3600}});
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(WaitCounts(id, [](const Json& c) { return c["ingested"] == 2; })) << Sync(id).dump();
  Json a = Object("in/a.png");
  ASSERT_TRUE(a.is_object());
  EXPECT_EQ(a["sha256"], Hex(kPng));
  EXPECT_EQ(a["media_type"], "image/png");
  EXPECT_EQ(a["metadata"], Json({{"src", "cam"}}));
  Json b = Object("in/sub/b.txt");
  ASSERT_TRUE(b.is_object());
  EXPECT_EQ(b["sha256"], Hex("hello b"));
  EXPECT_TRUE(Object("in/.partial").is_null());
  EXPECT_EQ(ObjectCount(), 2u);

  Json s = Sync(id);
  EXPECT_EQ(s["state"], "active");
  EXPECT_EQ(s["source"], Json({{"type", "folder"}, {"path", root_ + "/cam"}}));
  EXPECT_EQ(s["counts"]["discovered"], 2);
  EXPECT_EQ(s["counts"]["failed"], 0);
  EXPECT_FALSE(s["last_success_at"].is_null());
  EXPECT_TRUE(s["last_error"].is_null());

  // Another run finds nothing new: the objects are the same rows (same ids), not rewritten.
  RunOnce(id);
  EXPECT_EQ(Object("in/a.png")["id"], a["id"]);
  EXPECT_EQ(Object("in/sub/b.txt")["id"], b["id"]);
  // A changed file becomes a new version of its object.
  WriteFile(root_ + "/cam/sub/b.txt", "hello b, again");
  ASSERT_TRUE(WaitFor([&] { return Object("in/sub/b.txt")["sha256"] == Hex("hello b, again"); }));
  EXPECT_EQ(ObjectCount(), 2u);

  auto listed = Call("GET", "/v1/buckets/photos/syncs");
  ASSERT_EQ(listed.status, 200);
  EXPECT_EQ(listed.json()["items"].size(), 1u);
  auto files = Call("GET", "/v1/buckets/photos/syncs/" + id + "/files?state=ingested");
  ASSERT_EQ(files.status, 200) << files.body;
  ASSERT_EQ(files.json()["items"].size(), 2u);
  EXPECT_EQ(files.json()["items"][0]["path"], "a.png");
  EXPECT_EQ(files.json()["items"][0]["object_key"], "in/a.png");

  EXPECT_EQ(Call("DELETE", "/v1/buckets/photos/syncs/" + id).status, 204);
  EXPECT_EQ(Call("GET", "/v1/buckets/photos/syncs/" + id).status, 404);
  EXPECT_TRUE(Object("in/a.png").is_object());  // objects outlive their sync
}

TEST_F(SyncsTest, WatchedFolderTakesNewFilesWithoutWaitingForTheInterval) {
  fs::create_directories(root_ + "/watched");
  std::string id = CreateFolderSync(root_ + "/watched", {{"interval_s", 3600}});
  ASSERT_TRUE(WaitCounts(id, [](const Json& c) { return c["discovered"] == 0; }));
  // A file in a directory made after the watch started.
  WriteFile(root_ + "/watched/new/dir/c.txt", "from inotify");
  EXPECT_TRUE(WaitFor([&] { return Object("new/dir/c.txt").is_object(); }, 15s))
      << Sync(id).dump() << server_->Log();
}

TEST_F(SyncsTest, GrowingFileIsTakenOnlyWhenItsSizeIsStable) {
  fs::create_directories(root_ + "/grow");
  std::string id = CreateFolderSync(root_ + "/grow", {{"interval_s", 1}});
  std::string full;
  {
    std::ofstream out(root_ + "/grow/log.txt", std::ios::binary);
    for (int i = 0; i < 15; ++i) {  // 1.5 s of appends, each within the 0.3 s stable window
      std::string line = "line " + std::to_string(i) + "\n";
      out << line << std::flush;
      full += line;
      std::this_thread::sleep_for(100ms);
    }
  }
  ASSERT_TRUE(WaitFor([&] { return Object("log.txt").is_object(); })) << Sync(id).dump();
  Json obj = Object("log.txt");
  EXPECT_EQ(obj["size"], full.size());  // never a prefix of the file
  EXPECT_EQ(obj["sha256"], Hex(full));
}

TEST_F(SyncsTest, SymlinksOutsideTheRootsAreSkipped) {
  WriteFile(root_ + "/links/real.txt", "real");
  fs::create_symlink("/etc/hostname", root_ + "/links/outside.txt");
  fs::create_symlink(root_ + "/links/real.txt", root_ + "/links/inside.txt");
  std::string id = CreateFolderSync(root_ + "/links", {{"interval_s", 3600}});
  ASSERT_TRUE(WaitCounts(id, [](const Json& c) { return c["ingested"] == 2; })) << Sync(id).dump();
  EXPECT_TRUE(Object("real.txt").is_object());
  EXPECT_EQ(Object("inside.txt")["sha256"], Hex("real"));
  EXPECT_TRUE(Object("outside.txt").is_null());
  auto failures = Call("GET", "/v1/buckets/photos/syncs/" + id + "/failures");
  ASSERT_EQ(failures.status, 200) << failures.body;
  ASSERT_EQ(failures.json()["items"].size(), 1u) << failures.body;
  EXPECT_EQ(failures.json()["items"][0]["path"], "outside.txt");
  EXPECT_NE(failures.json()["items"][0]["error"].get<std::string>().find("outside"),
            std::string::npos);
}

TEST_F(SyncsTest, PauseResumeAndRetryFailures) {
  ASSERT_EQ(
      Call("POST", "/v1/buckets", {{"name", "imgs"}, {"allowed_media_types", {"image/*"}}}).status,
      201);
  WriteFile(root_ + "/mixed/a.png", kPng);
  WriteFile(root_ + "/mixed/notes.txt", "not an image");
  std::string id = CreateFolderSync(root_ + "/mixed", {{"interval_s", 3600}}, "imgs");
  ASSERT_TRUE(WaitCounts(
      id, [](const Json& c) { return c["ingested"] == 1 && c["failed"] == 1; }, "imgs"))
      << Sync(id, "imgs").dump();
  auto failures = Call("GET", "/v1/buckets/imgs/syncs/" + id + "/failures");
  ASSERT_EQ(failures.json()["items"].size(), 1u);
  EXPECT_EQ(failures.json()["items"][0]["path"], "notes.txt");
  EXPECT_NE(failures.json()["items"][0]["error"].get<std::string>().find("does not accept"),
            std::string::npos)
      << failures.body;
  EXPECT_EQ(failures.json()["items"][0]["attempts"], 1);

  // Paused: no run starts, not even on a watched change or when asked.
  auto paused = Call("POST", "/v1/buckets/imgs/syncs/" + id + "/pause");
  ASSERT_EQ(paused.status, 200);
  EXPECT_EQ(paused.json()["state"], "paused");
  EXPECT_EQ(Call("POST", "/v1/buckets/imgs/syncs/" + id + "/run").status, 409);
  WriteFile(root_ + "/mixed/b.png", kPng + "b");
  std::this_thread::sleep_for(2s);
  EXPECT_TRUE(Object("b.png", "imgs").is_null());

  // The bucket now takes text; resuming runs at once, and a retry takes the failed file.
  ASSERT_EQ(
      Call("PATCH", "/v1/buckets/imgs", {{"allowed_media_types", {"image/*", "text/*"}}}).status,
      200);
  auto resumed = Call("POST", "/v1/buckets/imgs/syncs/" + id + "/resume");
  ASSERT_EQ(resumed.status, 200);
  EXPECT_EQ(resumed.json()["state"], "active");
  ASSERT_TRUE(WaitFor([&] { return Object("b.png", "imgs").is_object(); }));
  EXPECT_TRUE(Object("notes.txt", "imgs").is_null());  // failed stays failed until retried
  auto retried = Call("POST", "/v1/buckets/imgs/syncs/" + id + "/failures/retry", Json::object());
  ASSERT_EQ(retried.status, 200) << retried.body;
  EXPECT_EQ(retried.json()["retried"], 1);
  ASSERT_TRUE(WaitFor([&] { return Object("notes.txt", "imgs").is_object(); }));
  EXPECT_TRUE(Call("GET", "/v1/buckets/imgs/syncs/" + id + "/failures").json()["items"].empty());
}

TEST_F(SyncsTest, ExactlyOnceAcrossRestartsAndKill9) {
  constexpr int kFiles = 1000;
  for (int i = 0; i < kFiles; ++i) {
    WriteFile(root_ + "/many/d" + std::to_string(i % 7) + "/f" + std::to_string(i) + ".txt",
              "file " + std::to_string(i));
  }
  std::this_thread::sleep_for(400ms);  // all stable
  std::string id = CreateFolderSync(root_ + "/many", {{"interval_s", 3600}});
  // kill -9 once part of the files are objects.
  ASSERT_TRUE(WaitFor([&] { return ObjectCount() >= 1; }));
  std::map<std::string, std::string> before;  // key → object id
  auto listed = Call("GET", "/v1/buckets/photos/objects?limit=1000");
  for (const auto& o : listed.json()["items"]) {
    before[o["key"]] = o["id"];
  }
  EXPECT_LT(before.size(), static_cast<size_t>(kFiles)) << "the kill came after the run";
  server_->Stop(SIGKILL);
  server_.reset();

  ASSERT_NO_FATAL_FAILURE(Start(false));
  ASSERT_TRUE(WaitFor([&] { return ObjectCount() == kFiles; }, 60s)) << ObjectCount();
  for (const auto& [key, oid] : before) EXPECT_EQ(Object(key)["id"], oid) << key;
  ASSERT_TRUE(WaitCounts(id, [&](const Json& c) { return c["ingested"] == kFiles; }));
  EXPECT_EQ(Sync(id)["counts"]["discovered"], kFiles);

  // A clean restart and another run change nothing.
  Json some = Object("d3/f3.txt");
  server_->Stop();
  server_.reset();
  ASSERT_NO_FATAL_FAILURE(Start(false));
  RunOnce(id);
  EXPECT_EQ(ObjectCount(), static_cast<size_t>(kFiles));
  EXPECT_EQ(Object("d3/f3.txt")["id"], some["id"]);
  EXPECT_EQ(Object("d3/f3.txt")["sha256"], Hex("file 3"));
}

TEST_F(SyncsTest, S3CredentialsAreNeverReturned) {
  const std::string secret = "TOPSECRETvalue-that-must-not-leak";
  Json source = {
      {"type", "s3"},      {"endpoint", "https://s3.example.com"}, {"bucket", "media"},
      {"prefix", "cams/"}, {"access_key_id", "AKIAEXAMPLE"},       {"secret_access_key", secret}};
  // Paused: the test never reaches beyond loopback.
  auto created = Call("POST", "/v1/buckets/photos/syncs", {{"source", source}, {"paused", true}});
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.body.find(secret), std::string::npos);
  EXPECT_EQ(created.json()["source"]["access_key_id"], "AKIAEXAMPLE");
  EXPECT_FALSE(created.json()["source"].contains("secret_access_key"));
  std::string id = created.json()["id"];
  EXPECT_EQ(Call("GET", "/v1/buckets/photos/syncs/" + id).body.find(secret), std::string::npos);
  EXPECT_EQ(Call("GET", "/v1/buckets/photos/syncs").body.find(secret), std::string::npos);
  EXPECT_EQ(Call("POST", "/v1/buckets/photos/syncs/" + id + "/pause").body.find(secret),
            std::string::npos);

  // Endpoints on private addresses are refused unless the operator allows them.
  for (const char* endpoint : {"http://127.0.0.1:9000", "http://10.1.2.3", "http://169.254.169.254",
                               "http://[::1]:9000"}) {
    source["endpoint"] = endpoint;
    auto refused = Call("POST", "/v1/buckets/photos/syncs", {{"source", source}, {"paused", true}});
    EXPECT_EQ(refused.status, 400) << endpoint << " " << refused.body;
  }
  source["endpoint"] = "ftp://s3.example.com";
  EXPECT_EQ(Call("POST", "/v1/buckets/photos/syncs", {{"source", source}}).status, 400);
}

// Runs under tests/s3/run_with_s3rver.sh (ctest SyncsTest.S3WithServer): objects put with the
// AWS CLI under a prefix become objects of the bucket; later ones too, in the next run.
TEST_F(SyncsTest, S3PrefixBecomesObjects) {
  const char* endpoint = std::getenv("ARGUS_TEST_S3_ENDPOINT");
  if (endpoint == nullptr) GTEST_SKIP() << "no S3 server (run under tests/s3/run_with_s3rver.sh)";
  std::string bucket = std::getenv("ARGUS_TEST_S3_BUCKET");
  std::vector<std::string> aws_env = {
      std::string("AWS_ACCESS_KEY_ID=") + std::getenv("ARGUS_TEST_S3_ACCESS_KEY_ID"),
      std::string("AWS_SECRET_ACCESS_KEY=") + std::getenv("ARGUS_TEST_S3_SECRET_ACCESS_KEY"),
      "AWS_DEFAULT_REGION=us-east-1", "AWS_EC2_METADATA_DISABLED=true"};
  std::string prefix = "sync-" + std::to_string(getpid()) + "/";
  auto put = [&](const std::string& key, const std::string& bytes) {
    std::string file = root_ + "/upload.bin";
    WriteFile(file, bytes);
    auto r = RunProcess(
        {"aws", "--endpoint-url", endpoint, "s3", "cp", file, "s3://" + bucket + "/" + key},
        aws_env);
    ASSERT_EQ(r.exit_code, 0) << r.output;
  };
  put(prefix + "a.png", kPng);
  put(prefix + "deep/b.txt", "bee");
  put("elsewhere/c.txt", "not in the prefix");

  server_.reset();
  ASSERT_NO_FATAL_FAILURE(Start(false, {"ARGUS_SYNCS_ALLOW_PRIVATE_ENDPOINTS=true"}));
  Json source = {{"type", "s3"},
                 {"endpoint", endpoint},
                 {"bucket", bucket},
                 {"prefix", prefix},
                 {"access_key_id", std::getenv("ARGUS_TEST_S3_ACCESS_KEY_ID")},
                 {"secret_access_key", std::getenv("ARGUS_TEST_S3_SECRET_ACCESS_KEY")}};
  auto created = Call("POST", "/v1/buckets/photos/syncs",
                      {{"source", source}, {"interval_s", 3600}, {"key_prefix", "s3/"}});
  ASSERT_EQ(created.status, 201) << created.body;
  std::string id = created.json()["id"];
  ASSERT_TRUE(WaitCounts(id, [](const Json& c) { return c["ingested"] == 2; })) << Sync(id).dump();
  EXPECT_EQ(Object("s3/a.png")["sha256"], Hex(kPng));
  EXPECT_EQ(Object("s3/a.png")["media_type"], "image/png");
  EXPECT_EQ(Object("s3/deep/b.txt")["sha256"], Hex("bee"));
  EXPECT_EQ(ObjectCount(), 2u);

  put(prefix + "later.txt", "later");
  RunOnce(id);
  // A run within stable_s of the PUT leaves the object pending and comes back soon by itself.
  ASSERT_TRUE(WaitCounts(id, [](const Json& c) { return c["ingested"] == 3; })) << Sync(id).dump();
  EXPECT_EQ(Object("s3/later.txt")["sha256"], Hex("later"));
  EXPECT_EQ(ObjectCount(), 3u);
  EXPECT_EQ(Sync(id)["counts"]["ingested"], 3);
}

}  // namespace
}  // namespace argus::testing
