// Hostile and malformed requests: each gets a clear 4xx JSON error, and the server keeps
// serving everyone else.
#include <gtest/gtest.h>

#include <thread>

#include "tests/integration/test_server.h"

namespace argus::testing {
namespace {

class BadInputTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    TestServer::Options o;
    o.env = {"ARGUS_HTTP_MAX_BODY_BYTES=4096", "ARGUS_HTTP_MAX_HEADER_BYTES=2048",
             "ARGUS_HTTP_READ_TIMEOUT_S=1", "ARGUS_HTTP_JSON_MAX_DEPTH=8",
             "ARGUS_HTTP_JSON_MAX_STRING_BYTES=64"};
    server_ = TestServer::Start(o).release();
    ASSERT_GT(server_->port(), 0) << server_->Log();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void TearDown() override {
    // Whatever the test sent, the server is still healthy afterwards.
    EXPECT_EQ(Request(server_->port(), "GET", "/healthz").status, 200);
  }

  HttpResult Echo(const std::string& body, const std::string& content_type = "application/json") {
    return Request(
        server_->port(), "POST", "/v1/diagnostics/echo",
        {{"Authorization", "Bearer " + server_->admin_key()}, {"Content-Type", content_type}},
        body);
  }
  static void ExpectError(const HttpResult& r, int status, const std::string& code) {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_EQ(r.json()["error"]["code"], code) << r.body;
    EXPECT_FALSE(r.json()["error"]["message"].get<std::string>().empty());
  }

  static TestServer* server_;
};

TestServer* BadInputTest::server_ = nullptr;

TEST_F(BadInputTest, ValidEchoRoundTrips) {
  auto r = Echo(R"({"name":"cam-1","values":[1,2.5],"tags":["a"],"attributes":{"k":"v"}})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["values"][1], 2.5);
}

TEST_F(BadInputTest, MalformedJson) {
  ExpectError(Echo("{\"name\": "), 400, "invalid_argument");
  ExpectError(Echo("not json"), 400, "invalid_argument");
}

TEST_F(BadInputTest, WronglyTypedAndUnknownFields) {
  ExpectError(Echo(R"({"name": 7, "values": []})"), 400, "invalid_argument");
  ExpectError(Echo(R"({"name": "x", "values": ["a"]})"), 400, "invalid_argument");
  auto r = Echo(R"({"name": "x", "values": [], "surprise": true})");
  ExpectError(r, 400, "invalid_argument");
  EXPECT_NE(r.body.find("surprise"), std::string::npos);
  ExpectError(Echo(R"({"values": []})"), 400, "invalid_argument");
}

TEST_F(BadInputTest, DeepNestingAndLongStrings) {
  std::string deep = R"({"name":"x","values":[],"attributes":)";
  deep.append(20, '[').append(20, ']').append("}");
  ExpectError(Echo(deep), 400, "invalid_argument");
  std::string long_name = R"({"name":")";
  long_name.append(100, 'a').append(R"(","values":[]})");
  ExpectError(Echo(long_name), 400, "invalid_argument");
}

TEST_F(BadInputTest, WrongContentType) {
  ExpectError(Echo(R"({"name":"x","values":[]})", "text/plain"), 415, "unsupported_media_type");
}

TEST_F(BadInputTest, BodyOverLimitByContentLength) {
  // Refused from the header alone: the body is never sent.
  Connection c(server_->port());
  c.Send(
      "POST /v1/diagnostics/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Authorization: Bearer " +
      server_->admin_key() + "\r\nContent-Length: 100000\r\n\r\n");
  auto r = c.Read();
  ExpectError(r, 413, "payload_too_large");
  EXPECT_TRUE(c.ClosedByPeer());
}

TEST_F(BadInputTest, BodyOverLimitWhileStreaming) {
  Connection c(server_->port());
  std::string req =
      "POST /v1/diagnostics/echo HTTP/1.1\r\nHost: x\r\nContent-Type: "
      "application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 10; ++i) req += "400\r\n" + std::string(1024, ' ') + "\r\n";
  req += "0\r\n\r\n";
  c.Send(req);
  ExpectError(c.Read(), 413, "payload_too_large");
}

TEST_F(BadInputTest, OversizedHeaders) {
  Connection c(server_->port());
  std::string req = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ";
  req.append(4000, 'a');
  req.append("\r\n\r\n");
  c.Send(req);
  ExpectError(c.Read(), 431, "headers_too_large");
}

TEST_F(BadInputTest, ContentLengthWithTransferEncodingClosesTheConnection) {
  Connection c(server_->port());
  c.Send(
      "POST /v1/diagnostics/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
      "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
  auto r = c.Read();
  ExpectError(r, 400, "invalid_argument");
  EXPECT_EQ(r.Header("connection"), "close");
  EXPECT_TRUE(c.ClosedByPeer());
}

TEST_F(BadInputTest, TwoDifferentContentLengthsCloseTheConnection) {
  Connection c(server_->port());
  c.Send(
      "POST /v1/diagnostics/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
      "Content-Length: 7\r\n\r\nabcdefg");
  auto r = c.Read();
  ExpectError(r, 400, "invalid_argument");
  EXPECT_TRUE(c.ClosedByPeer());
}

TEST_F(BadInputTest, GarbageRequestLine) {
  Connection c(server_->port());
  c.Send("HELLO\x01\x02 what\r\n\r\n");
  ExpectError(c.Read(), 400, "invalid_argument");
}

TEST_F(BadInputTest, UnknownRouteAndWrongMethod) {
  auto r = Request(server_->port(), "GET", "/v1/nothing-here");
  ExpectError(r, 404, "not_found");
  r = Request(server_->port(), "PUT", "/healthz");
  ExpectError(r, 405, "method_not_allowed");
  EXPECT_EQ(r.Header("allow"), "GET");
}

TEST_F(BadInputTest, SlowlorisIsCutOffWhileOthersAreServed) {
  Connection slow(server_->port());
  ASSERT_TRUE(slow.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n"));
  // Trickle a header byte at a time; meanwhile another client is served promptly.
  auto start = std::chrono::steady_clock::now();
  bool cut = false;
  for (int i = 0; i < 40 && !cut; ++i) {
    EXPECT_EQ(Request(server_->port(), "GET", "/healthz").status, 200);
    if (!slow.Send("X")) cut = true;
    auto r = slow.Read(100);
    if (r.status != 0) {
      EXPECT_EQ(r.status, 408);
      cut = true;
    }
  }
  EXPECT_TRUE(cut || slow.ClosedByPeer(2000));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(8));
}

TEST_F(BadInputTest, InventedMethodsDoNotGrowMetricLabels) {
  EXPECT_EQ(Request(server_->port(), "BREW", "/coffee").status, 404);
  auto m = Request(server_->port(), "GET", "/metrics");
  EXPECT_NE(m.body.find("route=\"unmatched\",method=\"other\",code=\"404\""), std::string::npos);
  EXPECT_EQ(m.body.find("BREW"), std::string::npos);
}

TEST_F(BadInputTest, RequestIdIsEchoedOrGenerated) {
  auto r = Request(server_->port(), "GET", "/healthz", {{"X-Request-Id", "trace-abc-123"}});
  EXPECT_EQ(r.Header("x-request-id"), "trace-abc-123");
  r = Request(server_->port(), "GET", "/healthz", {{"X-Request-Id", std::string(300, 'a')}});
  EXPECT_EQ(r.Header("x-request-id").size(), 36u);
  r = Request(server_->port(), "GET", "/nope");
  EXPECT_EQ(r.json()["error"]["request_id"], r.Header("x-request-id"));
}

TEST_F(BadInputTest, KeepAliveServesManyRequestsOnOneConnection) {
  Connection c(server_->port());
  std::string pipelined;
  for (int i = 0; i < 5; ++i) pipelined += "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  c.Send(pipelined);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(c.Read().status, 200) << i;
  c.Send("GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(c.Read().status, 200);
}

TEST_F(BadInputTest, ExpectContinueIsAnswered) {
  Connection c(server_->port());
  std::string body = R"({"name":"x","values":[]})";
  c.Send(
      "POST /v1/diagnostics/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Authorization: Bearer " +
      server_->admin_key() +
      "\r\nExpect: 100-continue\r\n"
      "Content-Length: " +
      std::to_string(body.size()) + "\r\n\r\n");
  auto interim = c.Read(2000);
  EXPECT_EQ(interim.status, 100);
  c.Send(body);
  EXPECT_EQ(c.Read().status, 200);
}

}  // namespace
}  // namespace argus::testing
