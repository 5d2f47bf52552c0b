// Operational endpoints, checked with the tools operators use on them.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/integration/test_server.h"

namespace argus::testing {
namespace {

class OpsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    TestServer::Options o;
    o.env = {"ARGUS_HTTP_CORS_ALLOWED_ORIGINS=https://app.example"};
    server_ = TestServer::Start(o).release();
    ASSERT_GT(server_->port(), 0) << server_->Log();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static std::string WriteTemp(const std::string& name, const std::string& data) {
    std::string path = server_->data_dir() + "/" + name;
    std::ofstream(path) << data;
    return path;
  }
  static TestServer* server_;
};

TestServer* OpsTest::server_ = nullptr;

TEST_F(OpsTest, HealthAndReadiness) {
  auto h = Request(server_->port(), "GET", "/healthz");
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(h.json()["status"], "ok");
  auto r = Request(server_->port(), "GET", "/readyz");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.json()["checks"]["metadata"], "ok");
  EXPECT_EQ(r.json()["checks"]["startup"], "ok");
}

TEST_F(OpsTest, MetricsPassPromtoolWithTheRequiredSeries) {
  Request(server_->port(), "GET", "/healthz");
  Request(server_->port(), "GET", "/no-such-route");
  auto m = Request(server_->port(), "GET", "/metrics");
  ASSERT_EQ(m.status, 200);
  EXPECT_EQ(m.Header("content-type").rfind("text/plain; version=0.0.4", 0), 0u);
  for (const char* series :
       {"argus_http_requests_total{route=\"/healthz\",method=\"GET\",code=\"200\"}",
        "argus_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"",
        "argus_http_requests_total{route=\"unmatched\",method=\"GET\",code=\"404\"}",
        "argus_build_info{", "process_resident_memory_bytes ", "process_cpu_seconds_total ",
        "process_open_fds "}) {
    EXPECT_NE(m.body.find(series), std::string::npos) << series;
  }
  std::string path = WriteTemp("metrics.txt", m.body);
  auto check = RunProcess({"sh", "-c", "promtool check metrics < " + path});
  EXPECT_EQ(check.exit_code, 0) << check.output;
  EXPECT_EQ(check.output, "") << "promtool warned:\n" << check.output;
}

TEST_F(OpsTest, MetricsCanRequireAuth) {
  TestServer::Options o;
  o.env = {"ARGUS_METRICS_REQUIRE_AUTH=true"};
  auto s = TestServer::Start(o);
  ASSERT_GT(s->port(), 0);
  EXPECT_EQ(Request(s->port(), "GET", "/metrics").status, 401);
  EXPECT_EQ(s->Call("GET", "/metrics", s->admin_key()).status, 200);
  EXPECT_EQ(Request(s->port(), "GET", "/healthz").status, 200);
}

TEST_F(OpsTest, OpenApiIsValidAndCoversTheRoutes) {
  auto r = Request(server_->port(), "GET", "/openapi.json");
  ASSERT_EQ(r.status, 200);
  Json doc = r.json();
  EXPECT_EQ(doc["openapi"], "3.1.0");
  for (const char* path : {"/v1/namespaces", "/v1/namespaces/{name}", "/v1/keys", "/v1/keys/{id}",
                           "/healthz", "/metrics", "/v1/diagnostics/echo"}) {
    EXPECT_TRUE(doc["paths"].contains(path)) << path;
  }
  EXPECT_TRUE(doc["paths"]["/v1/keys"]["post"]["requestBody"].is_object());
  std::string path = WriteTemp("openapi.json", r.body);
  std::string validator = SourceDir() +
                          "/web/node_modules/@seriousme/openapi-schema-validator/bin/"
                          "validate-api-cli.js";
  auto v = RunProcess({"node", validator, path});
  EXPECT_EQ(v.exit_code, 0) << v.output;
  EXPECT_NE(v.output.find("\"valid\": true"), std::string::npos) << v.output;
}

TEST_F(OpsTest, DocsServeTheViewerFromTheInstalledPackage) {
  auto page = Request(server_->port(), "GET", "/docs");
  ASSERT_EQ(page.status, 200);
  EXPECT_EQ(page.Header("content-type"), "text/html; charset=utf-8");
  EXPECT_NE(page.body.find("/openapi.json"), std::string::npos);
  EXPECT_EQ(page.body.find("https://"), std::string::npos);  // nothing from a CDN
  auto js = Request(server_->port(), "GET", "/docs/swagger-ui-bundle.js");
  ASSERT_EQ(js.status, 200);
  EXPECT_GT(js.body.size(), 100000u);
  EXPECT_EQ(Request(server_->port(), "GET", "/docs/..%2F..%2Fetc%2Fpasswd").status, 404);
  EXPECT_EQ(Request(server_->port(), "GET", "/docs/package.json").status, 404);
}

TEST_F(OpsTest, GzipWhenAccepted) {
  auto plain = Request(server_->port(), "GET", "/openapi.json");
  auto zipped = Request(server_->port(), "GET", "/openapi.json", {{"Accept-Encoding", "gzip"}});
  ASSERT_EQ(zipped.status, 200);
  EXPECT_EQ(zipped.Header("content-encoding"), "gzip");
  EXPECT_LT(zipped.body.size(), plain.body.size() / 2);
  EXPECT_EQ(plain.Header("content-encoding"), "");
  // Small bodies are not worth compressing.
  auto small = Request(server_->port(), "GET", "/healthz", {{"Accept-Encoding", "gzip"}});
  EXPECT_EQ(small.Header("content-encoding"), "");
}

TEST_F(OpsTest, CorsForConfiguredOrigins) {
  auto r = Request(server_->port(), "GET", "/healthz", {{"Origin", "https://app.example"}});
  EXPECT_EQ(r.Header("access-control-allow-origin"), "https://app.example");
  r = Request(server_->port(), "GET", "/healthz", {{"Origin", "https://evil.example"}});
  EXPECT_EQ(r.Header("access-control-allow-origin"), "");
  auto pre =
      Request(server_->port(), "OPTIONS", "/v1/keys",
              {{"Origin", "https://app.example"}, {"Access-Control-Request-Method", "POST"}});
  EXPECT_EQ(pre.status, 204);
  EXPECT_NE(pre.Header("access-control-allow-headers").find("Authorization"), std::string::npos);
}

}  // namespace
}  // namespace argus::testing

namespace argus::testing {
namespace {

TEST(AccessLogTest, EveryRequestIsOneJsonLineWithItsRequestId) {
  auto s = TestServer::Start();
  ASSERT_GT(s->port(), 0);
  auto r = s->Call("GET", "/v1/whoami", s->admin_key(), nullptr, {{"X-Request-Id", "trace-77"}});
  ASSERT_EQ(r.status, 200);
  // The logger writes from a background thread and flushes at least once a second.
  std::string line;
  for (int i = 0; i < 300 && line.empty(); ++i) {
    std::istringstream log(s->Log());
    for (std::string l; std::getline(log, l);) {
      if (l.find("\"request_id\":\"trace-77\"") != std::string::npos) line = l;
    }
    if (line.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_FALSE(line.empty()) << s->Log();
  Json j = Json::parse(line);
  EXPECT_EQ(j["msg"], "request");
  EXPECT_EQ(j["route"], "/v1/whoami");
  EXPECT_EQ(j["status"], 200);
  EXPECT_EQ(j["method"], "GET");
  EXPECT_EQ(j["key"], s->admin_key().substr(0, 12));  // the prefix, never the secret
  EXPECT_EQ(s->Log().find(s->admin_key()), std::string::npos);
}

}  // namespace
}  // namespace argus::testing
