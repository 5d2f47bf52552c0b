// The argus CLI against a real server.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

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
