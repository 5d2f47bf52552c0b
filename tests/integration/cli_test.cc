// The argus CLI against a real server.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "core/crypto.h"
#include "tests/integration/test_server.h"

namespace argus::testing {
namespace {

TEST(CliTest, VersionAndConfigPrint) {
  auto v = RunProcess({ArgusBinary(), "version"});
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_EQ(v.output.rfind("argus 0.", 0), 0u) << v.output;
  auto c = RunProcess(
      {ArgusBinary(), "config", "print", "--listen", "0.0.0.0:9999"},
      {"ARGUS_ADMIN_KEY=topsecret-topsecret-topsecret-123", "ARGUS_HTTP_MAX_BODY_BYTES=77"});
  EXPECT_EQ(c.exit_code, 0) << c.output;
  EXPECT_NE(c.output.find("listen: \"0.0.0.0:9999\"  # flag"), std::string::npos) << c.output;
  EXPECT_NE(c.output.find("max_body_bytes: 77  # env"), std::string::npos) << c.output;
  EXPECT_EQ(c.output.find("topsecret"), std::string::npos) << c.output;
  // What this host lacks is listed: here, whether folder syncs get openat2(RESOLVE_NO_SYMLINKS).
  open_how how{};
  how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
  how.resolve = RESOLVE_NO_SYMLINKS;
  long fd = ::syscall(SYS_openat2, AT_FDCWD, "/", &how, sizeof(how));
  if (fd >= 0) {
    ::close(static_cast<int>(fd));
    EXPECT_NE(c.output.find("# host warnings: none\n"), std::string::npos) << c.output;
  } else {
    EXPECT_NE(c.output.find("#   source 'folder': folder syncs: this kernel refuses openat2"),
              std::string::npos)
        << c.output;
  }
  auto bad = RunProcess({ArgusBinary(), "config", "print", "--set", "no.such=1"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.output.find("unknown configuration key 'no.such'"), std::string::npos);
}

TEST(CliTest, NamespacesAndKeysOverHttp) {
  auto s = TestServer::Start();
  ASSERT_GT(s->port(), 0);
  std::vector<std::string> env = {"ARGUS_URL=http://127.0.0.1:" + std::to_string(s->port()),
                                  "ARGUS_API_KEY=" + s->admin_key()};
  auto create = RunProcess({ArgusBinary(), "ns", "create", "cli-team"}, env);
  ASSERT_EQ(create.exit_code, 0) << create.output;
  EXPECT_NE(create.output.find("cli-team"), std::string::npos);
  auto ls = RunProcess({ArgusBinary(), "ns", "ls", "--json"}, env);
  ASSERT_EQ(ls.exit_code, 0);
  Json list = Json::parse(ls.output);
  EXPECT_EQ(list["items"][0]["name"], "cli-team");

  auto key = RunProcess({ArgusBinary(), "keys", "create", "ci", "--role", "editor", "--namespace",
                         "cli-team", "--json"},
                        env);
  ASSERT_EQ(key.exit_code, 0) << key.output;
  Json k = Json::parse(key.output);
  std::string secret = k["secret"], id = k["id"];
  EXPECT_EQ(s->Call("GET", "/v1/whoami", secret).json()["role"], "editor");
  auto table = RunProcess({ArgusBinary(), "keys", "ls", "--namespace", "cli-team"}, env);
  EXPECT_NE(table.output.find("ID"), std::string::npos);
  EXPECT_NE(table.output.find(id), std::string::npos);
  auto revoke = RunProcess({ArgusBinary(), "keys", "revoke", id, "--namespace", "cli-team"}, env);
  EXPECT_EQ(revoke.exit_code, 0) << revoke.output;
  EXPECT_EQ(s->Call("GET", "/v1/whoami", secret).status, 401);

  auto denied = RunProcess({ArgusBinary(), "ns", "ls", "--key", secret}, env);
  EXPECT_NE(denied.exit_code, 0);
  EXPECT_NE(denied.output.find("unauthenticated"), std::string::npos) << denied.output;
  auto down = RunProcess({ArgusBinary(), "ns", "ls", "--url", "http://127.0.0.1:1"}, env);
  EXPECT_NE(down.exit_code, 0);
  EXPECT_NE(down.output.find("cannot reach argus"), std::string::npos) << down.output;
}

}  // namespace
}  // namespace argus::testing

namespace argus::testing {
namespace {

TEST(ConfigDocTest, ReadmeTableMatchesTheBinary) {
  auto ref = RunProcess({ArgusBinary(), "config", "reference"});
  ASSERT_EQ(ref.exit_code, 0);
  std::ifstream in(SourceDir() + "/README.md");
  std::string readme((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream lines(ref.output);
  std::string line;
  int rows = 0;
  while (std::getline(lines, line)) {
    EXPECT_NE(readme.find(line), std::string::npos)
        << "README.md lacks (or has a stale copy of): " << line
        << "\nregenerate with: build/argus config reference";
    ++rows;
  }
  EXPECT_GT(rows, 20);
}

}  // namespace
}  // namespace argus::testing

namespace argus::testing {
namespace {

TEST(CliTest, TasksSubmitWatchAndList) {
  auto s = TestServer::Start();
  ASSERT_GT(s->port(), 0);
  std::vector<std::string> env = {"ARGUS_URL=http://127.0.0.1:" + std::to_string(s->port()),
                                  "ARGUS_API_KEY=" + s->admin_key(), "ARGUS_NAMESPACE=cli"};
  ASSERT_EQ(s->Call("POST", "/v1/namespaces", s->admin_key(), {{"name", "cli"}}).status, 201);
  auto done = RunProcess({ArgusBinary(), "tasks", "submit", "noop", "--wait", "10", "--json"}, env);
  ASSERT_EQ(done.exit_code, 0) << done.output;
  EXPECT_EQ(Json::parse(done.output)["status"], "succeeded");
  auto sleeper = RunProcess(
      {ArgusBinary(), "tasks", "submit", "sleep", "--input", "{\"seconds\": 1}", "--json"}, env);
  ASSERT_EQ(sleeper.exit_code, 0) << sleeper.output;
  std::string id = Json::parse(sleeper.output)["id"];
  auto watch = RunProcess({ArgusBinary(), "tasks", "watch", id}, env);
  EXPECT_EQ(watch.exit_code, 0) << watch.output;
  EXPECT_NE(watch.output.find("succeeded attempt 1 100%"), std::string::npos) << watch.output;
  auto ls = RunProcess({ArgusBinary(), "tasks", "ls", "--status", "succeeded"}, env);
  EXPECT_NE(ls.output.find(id), std::string::npos) << ls.output;
  auto bad = RunProcess({ArgusBinary(), "tasks", "submit", "sleep", "--input", "{oops"}, env);
  EXPECT_NE(bad.exit_code, 0);
}

}  // namespace
}  // namespace argus::testing

namespace argus::testing {
namespace {

namespace fs = std::filesystem;

std::string Hex(const std::string& bytes) { return HexEncode(Sha256(bytes)); }

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Percent-encodes each '/'-separated segment of a key.
std::string EncodeKey(const std::string& key) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : key) {
    if (std::isalnum(c) || c == '/' || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

// The JSON document printed on stdout by a --json command whose stderr lines ("argus: ...")
// came first in the same capture.
Json JsonIn(const std::string& output) {
  size_t start = output.rfind("\n{");
  start = output.starts_with("{") ? 0 : (start == std::string::npos ? 0 : start + 1);
  return Json::parse(output.substr(start), nullptr, /*allow_exceptions=*/false);
}

// `argus buckets|objects|upload` against a real server, in namespace "cli".
class CliObjectsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = TestServer::Start();
    ASSERT_GT(server_->port(), 0) << server_->Log();
    ASSERT_EQ(Api("POST", "/v1/namespaces", {{"name", "cli"}}, "").status, 201);
    env_ = {"ARGUS_URL=http://127.0.0.1:" + std::to_string(server_->port()),
            "ARGUS_API_KEY=" + server_->admin_key(), "ARGUS_NAMESPACE=cli"};
    dir_ = NewTempDir("cli-objects");
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  ProcessResult Argus(std::vector<std::string> args) {
    args.insert(args.begin(), ArgusBinary());
    return RunProcess(args, env_);
  }
  HttpResult Api(const std::string& method, const std::string& path, const Json& body = nullptr,
                 const std::string& ns = "cli") {
    std::map<std::string, std::string> headers;
    if (!ns.empty()) headers["X-Namespace"] = ns;
    return server_->Call(method, path, server_->admin_key(), body, headers);
  }
  HttpResult Record(const std::string& bucket, const std::string& key) {
    std::string path = "/v1/buckets/";
    path.append(bucket).append("/objects/").append(EncodeKey(key));
    return Api("GET", path);
  }
  // Writes `bytes` at `rel` under the test directory; returns the full path.
  std::string Write(const std::string& rel, const std::string& bytes) {
    std::string path = dir_;
    path.append("/").append(rel);
    fs::create_directories(fs::path(path).parent_path());
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
    return path;
  }

  std::unique_ptr<TestServer> server_;
  std::vector<std::string> env_;
  std::string dir_;
};

TEST_F(CliObjectsTest, BucketsCreateListRemove) {
  auto created = Argus({"buckets", "create", "photos", "--description", "holiday pictures",
                        "--max-object-bytes", "5000000", "--allow", "image/*", "--allow",
                        "text/plain", "--json"});
  ASSERT_EQ(created.exit_code, 0) << created.output;
  Json b = Json::parse(created.output, nullptr, false);
  EXPECT_EQ(b["name"], "photos") << created.output;
  EXPECT_EQ(b["description"], "holiday pictures");
  EXPECT_EQ(b["max_object_bytes"], 5000000);
  EXPECT_EQ(b["allowed_media_types"], Json({"image/*", "text/plain"}));
  auto docs = Argus({"buckets", "create", "docs"});
  ASSERT_EQ(docs.exit_code, 0) << docs.output;
  EXPECT_NE(docs.output.find("NAME"), std::string::npos) << docs.output;
  auto again = Argus({"buckets", "create", "docs"});
  EXPECT_EQ(again.exit_code, 1) << again.output;
  EXPECT_NE(again.output.find("already_exists"), std::string::npos) << again.output;

  auto table = Argus({"buckets", "ls"});
  ASSERT_EQ(table.exit_code, 0) << table.output;
  EXPECT_NE(table.output.find("holiday pictures"), std::string::npos) << table.output;
  EXPECT_NE(table.output.find("docs"), std::string::npos) << table.output;
  auto listed = Argus({"buckets", "ls", "--json"});
  ASSERT_EQ(listed.exit_code, 0) << listed.output;
  EXPECT_EQ(Json::parse(listed.output)["items"].size(), 2u) << listed.output;

  // A bucket holding an object is deleted only with --force.
  auto put = Request(server_->port(), "PUT", "/v1/buckets/docs/objects/a.txt",
                     {{"Authorization", "Bearer " + server_->admin_key()}, {"X-Namespace", "cli"}},
                     "hello");
  ASSERT_EQ(put.status, 201) << put.body;
  auto refused = Argus({"buckets", "rm", "docs"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.output.find("--force"), std::string::npos) << refused.output;
  auto forced = Argus({"buckets", "rm", "docs", "--force"});
  EXPECT_EQ(forced.exit_code, 0) << forced.output;
  EXPECT_NE(forced.output.find("deleted bucket docs"), std::string::npos);
  EXPECT_EQ(Argus({"buckets", "rm", "photos"}).exit_code, 0);
  EXPECT_EQ(Json::parse(Argus({"buckets", "ls", "--json"}).output)["items"].size(), 0u);
  auto gone = Argus({"buckets", "rm", "photos"});
  EXPECT_EQ(gone.exit_code, 1);
  EXPECT_NE(gone.output.find("not_found"), std::string::npos) << gone.output;
}

TEST_F(CliObjectsTest, CollectionsCreateListShowFeaturesRemove) {
  ASSERT_EQ(Api("POST", "/v1/buckets", {{"name", "photos"}}).status, 201);
  auto created = Argus({"collections", "create", "scenes", "--bucket", "photos", "-e",
                        "image_embedding:f16", "-e", "object_detection", "--index", "label:keyword",
                        "--passthrough", "metadata.camera", "--json"});
  ASSERT_EQ(created.exit_code, 0) << created.output;
  Json c = Json::parse(created.output, nullptr, false);
  EXPECT_EQ(c["source"], Json({{"bucket", "photos"}})) << created.output;
  EXPECT_EQ(c["extractors"].size(), 2u);
  EXPECT_EQ(c["extractors"][0]["vector_storage"], "f16") << created.output;
  EXPECT_EQ(c["payload_indexes"][0], Json({{"field", "label"}, {"type", "keyword"}}));
  auto tier = Argus({"collections", "create", "faces", "--bucket", "photos", "-e", "face_detection",
                     "--no-auto-process"});
  ASSERT_EQ(tier.exit_code, 0) << tier.output;
  EXPECT_NE(tier.output.find("INDEX_SIGNATURE"), std::string::npos) << tier.output;
  auto people =
      Argus({"collections", "create", "people", "--collection", "faces", "-e", "face_embedding"});
  ASSERT_EQ(people.exit_code, 0) << people.output;

  auto table = Argus({"collections", "ls"});
  ASSERT_EQ(table.exit_code, 0) << table.output;
  for (const char* name : {"scenes", "faces", "people"}) {
    EXPECT_NE(table.output.find(name), std::string::npos) << table.output;
  }
  auto features = Argus({"collections", "features", "scenes"});
  ASSERT_EQ(features.exit_code, 0) << features.output;
  EXPECT_NE(features.output.find("image_embedding@2/embedding"), std::string::npos)
      << features.output;
  EXPECT_NE(features.output.find("1280"), std::string::npos) << features.output;
  EXPECT_NE(features.output.find("f16"), std::string::npos) << features.output;
  EXPECT_EQ(Json::parse(Argus({"collections", "get", "people", "--json"}).output)["source"],
            Json({{"collection", "faces"}}));

  // Mistakes: exit 2 for what the user typed, with the server's words for the rest.
  auto no_source = Argus({"collections", "create", "x", "-e", "ocr"});
  EXPECT_EQ(no_source.exit_code, 2) << no_source.output;
  EXPECT_NE(no_source.output.find("--bucket"), std::string::npos) << no_source.output;
  auto bad_index =
      Argus({"collections", "create", "x", "--bucket", "photos", "-e", "ocr", "--index", "label"});
  EXPECT_EQ(bad_index.exit_code, 2) << bad_index.output;
  auto bad_storage =
      Argus({"collections", "create", "x", "--bucket", "photos", "-e", "image_embedding:"});
  EXPECT_EQ(bad_storage.exit_code, 2) << bad_storage.output;
  auto no_vectors = Argus({"collections", "create", "x", "--bucket", "photos", "-e", "ocr:i8"});
  EXPECT_EQ(no_vectors.exit_code, 2) << no_vectors.output;
  EXPECT_NE(no_vectors.output.find("makes no vectors"), std::string::npos) << no_vectors.output;
  auto unknown = Argus({"collections", "create", "x", "--bucket", "photos", "-e", "clip"});
  EXPECT_EQ(unknown.exit_code, 2) << unknown.output;
  EXPECT_NE(unknown.output.find("no extractor 'clip'"), std::string::npos) << unknown.output;
  auto in_use = Argus({"collections", "rm", "faces"});
  EXPECT_EQ(in_use.exit_code, 1) << in_use.output;
  EXPECT_NE(in_use.output.find("people"), std::string::npos) << in_use.output;
  for (const char* name : {"people", "faces", "scenes"}) {
    auto rm = Argus({"collections", "rm", name});
    EXPECT_EQ(rm.exit_code, 0) << rm.output;
    EXPECT_NE(rm.output.find(std::string("deleted collection ") + name), std::string::npos);
  }
  EXPECT_EQ(Json::parse(Argus({"collections", "ls", "--json"}).output)["items"].size(), 0u);
}

TEST_F(CliObjectsTest, BatchSubmitWaitsForItsTiersAndDocumentsList) {
  ASSERT_EQ(Api("POST", "/v1/buckets", {{"name", "photos"}}).status, 201);
  const std::string data = "/usr/share/doc/opencv-doc/examples/data/";
  for (const char* name : {"messi5.jpg", "pic1.png", "baboon.jpg"}) {
    auto put =
        Request(server_->port(), "PUT", std::string("/v1/buckets/photos/objects/") + name,
                {{"Authorization", "Bearer " + server_->admin_key()}, {"X-Namespace", "cli"}},
                ReadFile(data + name));
    ASSERT_EQ(put.status, 201) << put.body;
  }
  ASSERT_EQ(Argus({"collections", "create", "props", "--bucket", "photos", "-e", "image_properties",
                   "--no-auto-process"})
                .exit_code,
            0);
  auto submitted = Argus({"batch", "submit", "--bucket", "photos", "--wait", "--json"});
  ASSERT_EQ(submitted.exit_code, 0) << submitted.output;
  // The progress lines go to stderr, the batch as JSON to stdout.
  const size_t brace = submitted.output.find("{");
  ASSERT_NE(brace, std::string::npos) << submitted.output;
  EXPECT_NE(submitted.output.find("tier 1 ["), std::string::npos) << submitted.output;
  Json batch = Json::parse(submitted.output.substr(brace), nullptr, false);
  EXPECT_EQ(batch["status"], "completed") << submitted.output;
  EXPECT_EQ(batch["objects"], 3);
  auto one = Argus({"batch", "submit", "--bucket", "photos", "--object", "pic1.png", "--wait"});
  ASSERT_EQ(one.exit_code, 0) << one.output;
  EXPECT_NE(one.output.find("1/1 props"), std::string::npos) << one.output;
  auto listed = Argus({"batch", "ls", "--bucket", "photos", "--json"});
  ASSERT_EQ(listed.exit_code, 0) << listed.output;
  EXPECT_EQ(Json::parse(listed.output)["items"].size(), 2u);
  auto get = Argus({"batch", "get", batch["id"], "--bucket", "photos"});
  ASSERT_EQ(get.exit_code, 0) << get.output;
  EXPECT_NE(get.output.find("3/3 props"), std::string::npos) << get.output;

  auto docs = Argus({"documents", "ls", "props", "--filter", R"({"key": "baboon.jpg"})", "--json"});
  ASSERT_EQ(docs.exit_code, 0) << docs.output;
  Json items = Json::parse(docs.output)["items"];
  ASSERT_EQ(items.size(), 1u) << docs.output;
  EXPECT_EQ(items[0]["payload"]["image_properties"]["width"], 512);
  auto bad = Argus({"batch", "submit", "--bucket", "photos", "--object", "nope.jpg"});
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("keys[0]"), std::string::npos) << bad.output;
}

TEST_F(CliObjectsTest, UploadResumesAndObjectsRoundTrip) {
  ASSERT_EQ(Api("POST", "/v1/buckets", {{"name", "media"}}).status, 201);
  std::string big(3 * 1024 * 1024 + 123, '\0');
  std::mt19937 rng(42);
  for (auto& c : big) c = static_cast<char>(rng());
  const std::string koeln = "K\xc3\xb6ln \xc3\xbc.txt";
  std::map<std::string, std::string> files = {{"a.txt", "alpha\n"},
                                              {koeln, "umlaut\n"},
                                              {"empty.txt", ""},
                                              {"sub/big.bin", big},
                                              {"sub/deeper/c.json", "{\"c\": 1}\n"}};
  int64_t total = 0;
  for (const auto& [rel, bytes] : files) {
    Write("tree/" + rel, bytes);
    total += static_cast<int64_t>(bytes.size());
  }
  // A link to a file is uploaded; a link to a directory is not followed.
  std::string tree = dir_ + "/tree";
  ASSERT_EQ(::symlink("a.txt", (tree + "/a-link.txt").c_str()), 0);
  ASSERT_EQ(::symlink("sub", (tree + "/sub-link").c_str()), 0);
  files["a-link.txt"] = "alpha\n";
  total += 6;

  auto first = Argus({"upload", tree, "--bucket", "media", "--prefix", "up/", "--metadata",
                      "{\"place\": \"K\xc3\xb6ln\"}", "--parallel", "3", "--json"});
  ASSERT_EQ(first.exit_code, 0) << first.output;
  Json summary = JsonIn(first.output);
  EXPECT_EQ(summary["uploaded"], 6) << first.output;
  EXPECT_EQ(summary["skipped"], 0);
  EXPECT_EQ(summary["failed"], 0);
  EXPECT_EQ(summary["bytes"], total);
  EXPECT_TRUE(summary["errors"].empty());
  for (const auto& [rel, bytes] : files) {
    auto r = Record("media", "up/" + rel);
    ASSERT_EQ(r.status, 200) << rel << ": " << r.body;
    EXPECT_EQ(r.json()["size"], bytes.size()) << rel;
    EXPECT_EQ(r.json()["sha256"], Hex(bytes)) << rel;
    EXPECT_EQ(r.json()["metadata"]["place"], "K\xc3\xb6ln") << rel;
  }
  auto listed = Api("GET", "/v1/buckets/media/objects?limit=100");
  EXPECT_EQ(listed.json()["items"].size(), files.size()) << listed.body;  // nothing via sub-link

  // A re-run skips everything; after a change only the changed file goes up again.
  auto second = Argus({"upload", tree, "--bucket", "media", "--prefix", "up/", "--metadata",
                       "{\"place\": \"K\xc3\xb6ln\"}"});
  EXPECT_EQ(second.exit_code, 0) << second.output;
  EXPECT_NE(second.output.find("uploaded 0, skipped 6, failed 0 of 6 files"), std::string::npos)
      << second.output;
  big[1000] = static_cast<char>(big[1000] ^ 1);
  Write("tree/sub/big.bin", big);
  auto third = Argus({"upload", tree, "--bucket", "media", "--prefix", "up/", "--metadata",
                      "{\"place\": \"K\xc3\xb6ln\"}", "--json"});
  ASSERT_EQ(third.exit_code, 0) << third.output;
  summary = JsonIn(third.output);
  EXPECT_EQ(summary["uploaded"], 1) << third.output;
  EXPECT_EQ(summary["skipped"], 5);
  EXPECT_EQ(summary["bytes"], big.size());
  EXPECT_EQ(Record("media", "up/sub/big.bin").json()["sha256"], Hex(big));

  // A file given by itself is keyed by its name.
  auto single = Argus({"upload", tree + "/sub/deeper/c.json", "--bucket", "media"});
  EXPECT_EQ(single.exit_code, 0) << single.output;
  EXPECT_EQ(Record("media", "c.json").status, 200);

  auto folders = Argus({"objects", "ls", "media", "--prefix", "up/", "--delimiter", "/", "--json"});
  ASSERT_EQ(folders.exit_code, 0) << folders.output;
  Json page = Json::parse(folders.output);
  std::vector<std::string> keys;
  for (const auto& item : page["items"]) keys.push_back(item["key"]);
  EXPECT_EQ(keys,
            std::vector<std::string>({"up/" + koeln, "up/a-link.txt", "up/a.txt", "up/empty.txt"}));
  EXPECT_EQ(page["common_prefixes"], Json({"up/sub/"}));
  auto table = Argus({"objects", "ls", "media", "--prefix", "up/sub/"});
  ASSERT_EQ(table.exit_code, 0) << table.output;
  EXPECT_NE(table.output.find("KEY"), std::string::npos) << table.output;
  EXPECT_NE(table.output.find("up/sub/big.bin"), std::string::npos) << table.output;
  EXPECT_NE(table.output.find("up/sub/deeper/c.json"), std::string::npos) << table.output;
  EXPECT_EQ(table.output.find("up/a.txt"), std::string::npos) << table.output;

  std::string out = dir_ + "/out.bin";
  auto got = Argus({"objects", "get", "media", "up/sub/big.bin", "-o", out});
  ASSERT_EQ(got.exit_code, 0) << got.output;
  EXPECT_TRUE(ReadAll(out) == big);
  auto to_stdout = Argus({"objects", "get", "media", "up/" + koeln});
  EXPECT_EQ(to_stdout.exit_code, 0);
  EXPECT_EQ(to_stdout.output, "umlaut\n");
  auto empty = Argus({"objects", "get", "media", "up/empty.txt", "-o", dir_ + "/empty.out"});
  EXPECT_EQ(empty.exit_code, 0) << empty.output;
  EXPECT_TRUE(fs::exists(dir_ + "/empty.out"));
  EXPECT_EQ(fs::file_size(dir_ + "/empty.out"), 0u);
  auto missing = Argus({"objects", "get", "media", "up/nope", "-o", dir_ + "/nope.out"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.output.find("not_found"), std::string::npos) << missing.output;
  EXPECT_FALSE(fs::exists(dir_ + "/nope.out"));

  auto info = Argus({"objects", "info", "media", "up/a.txt"});
  ASSERT_EQ(info.exit_code, 0) << info.output;
  EXPECT_EQ(Json::parse(info.output)["sha256"], Hex("alpha\n"));
  auto rm = Argus({"objects", "rm", "media", "up/a.txt"});
  EXPECT_EQ(rm.exit_code, 0) << rm.output;
  EXPECT_EQ(Record("media", "up/a.txt").status, 404);
  auto info_gone = Argus({"objects", "info", "media", "up/a.txt"});
  EXPECT_EQ(info_gone.exit_code, 1);
  EXPECT_NE(info_gone.output.find("not_found"), std::string::npos) << info_gone.output;
}

TEST_F(CliObjectsTest, UploadFailuresAreReported) {
  std::string tree = dir_ + "/tree";
  Write("tree/ok.txt", "fine\n");
  Write("tree/big.bin", std::string(200 * 1024, 'x'));

  auto no_bucket = Argus({"upload", tree, "--bucket", "nope"});
  EXPECT_EQ(no_bucket.exit_code, 1);
  EXPECT_NE(no_bucket.output.find("bucket 'nope' does not exist"), std::string::npos)
      << no_bucket.output;

  // One file over the bucket's limit fails with the server's message; the other goes in.
  auto created = Argus({"buckets", "create", "small", "--max-object-bytes", "1000"});
  ASSERT_EQ(created.exit_code, 0) << created.output;
  auto partial = Argus(
      {"upload", tree, tree + "/missing.txt", "--bucket", "small", "--parallel", "1", "--json"});
  EXPECT_EQ(partial.exit_code, 1);
  Json summary = JsonIn(partial.output);
  EXPECT_EQ(summary["uploaded"], 1) << partial.output;
  EXPECT_EQ(summary["failed"], 2);
  ASSERT_EQ(summary["errors"].size(), 2u);
  EXPECT_EQ(summary["errors"][0]["key"], "big.bin");
  EXPECT_NE(summary["errors"][0]["error"].get<std::string>().find("at most 1000 bytes"),
            std::string::npos)
      << partial.output;
  EXPECT_NE(partial.output.find("argus: failed: " + tree + "/big.bin"), std::string::npos)
      << partial.output;
  EXPECT_NE(partial.output.find("missing.txt"), std::string::npos);
  EXPECT_EQ(Record("small", "ok.txt").status, 200);

  auto bad = Argus({"upload", tree, "--bucket", "small", "--metadata", "[1]"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.output.find("--metadata must be a JSON object"), std::string::npos);
}

}  // namespace
}  // namespace argus::testing
