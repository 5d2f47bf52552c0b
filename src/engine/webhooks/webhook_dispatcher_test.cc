#include "engine/webhooks/webhook_dispatcher.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "engine/webhooks/keep_alive_receiver_for_test.h"
#include "engine/webhooks/webhook_sender.h"

namespace argus::engine {
namespace {

TEST(EventTypeMatchesTest, ExactPrefixAndAll) {
  EXPECT_TRUE(EventTypeMatches("task.failed", "task.failed"));
  EXPECT_FALSE(EventTypeMatches("task.failed", "task.failed2"));
  EXPECT_TRUE(EventTypeMatches("task.*", "task.succeeded"));
  EXPECT_FALSE(EventTypeMatches("task.*", "taskx.succeeded"));
  EXPECT_FALSE(EventTypeMatches("task.*", "task."));
  EXPECT_FALSE(EventTypeMatches("task.*", "object.created"));
  EXPECT_TRUE(EventTypeMatches("*", "object.created"));
}

TEST(WebhookBackoffTest, DoublesWithJitterUpToTheCap) {
  DispatcherOptions o;
  o.initial_backoff_s = 5;
  o.max_backoff_s = 60;
  EXPECT_DOUBLE_EQ(WebhookBackoffS(o, 1, 0.5), 5);
  EXPECT_DOUBLE_EQ(WebhookBackoffS(o, 2, 0.5), 10);
  EXPECT_DOUBLE_EQ(WebhookBackoffS(o, 3, 0.5), 20);
  EXPECT_DOUBLE_EQ(WebhookBackoffS(o, 10, 0.5), 60);
  EXPECT_DOUBLE_EQ(WebhookBackoffS(o, 1, 0.0), 4);        // -20 %
  EXPECT_NEAR(WebhookBackoffS(o, 1, 0.999999), 6, 1e-4);  // +20 %
}

TEST(DispatcherOptionsTest, RejectsOutOfRangeSettings) {
  Config config;
  auto ok = DispatcherOptionsFromConfig(config);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_FALSE(ok->sender.allow_private_targets);
  ASSERT_TRUE(config.Set("webhooks.max_attempts", "0", "test").ok());
  auto bad = DispatcherOptionsFromConfig(config);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("webhooks.max_attempts"), std::string::npos);
}

// The SSRF guard decides on the address a connection is about to be made to. These cases are
// decided without sending anything.
TEST(OutboundAddressTest, RefusesNonPublicTargetsUnlessAllowed) {
  SenderOptions strict;
  SenderOptions lax;
  lax.allow_private_targets = true;
  for (const char* text : {"127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254",
                           "100.64.0.1", "0.0.0.0", "::1", "fe80::1", "fd00::1", "::ffff:10.0.0.1",
                           "64:ff9b::a00:1", "2002:a00:1::1"}) {
    IpBytes ip;
    ASSERT_TRUE(ParseIp(text, &ip)) << text;
    EXPECT_FALSE(OutboundAddressAllowed(ip, strict)) << text;
    EXPECT_TRUE(OutboundAddressAllowed(ip, lax)) << text;
  }
  for (const char* text : {"93.184.216.34", "2606:4700::1111"}) {
    IpBytes ip;
    ASSERT_TRUE(ParseIp(text, &ip)) << text;
    EXPECT_TRUE(OutboundAddressAllowed(ip, strict)) << text;
  }
}

// A one-shot HTTP server on 127.0.0.1 that answers every connection with `response`.
class CannedServer {
 public:
  explicit CannedServer(std::string response) : response_(std::move(response)) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    socklen_t len = sizeof(addr);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    listen(fd_, 8);
    thread_ = std::thread([this] {
      for (;;) {
        int c = accept(fd_, nullptr, nullptr);
        if (c < 0) return;
        std::string request;
        char buf[4096];
        // Read the head and the Content-Length body, then answer.
        while (request.find("\r\n\r\n") == std::string::npos) {
          ssize_t n = read(c, buf, sizeof(buf));
          if (n <= 0) break;
          request.append(buf, static_cast<size_t>(n));
        }
        size_t head_end = request.find("\r\n\r\n");
        size_t want = 0;
        if (auto p = request.find("Content-Length: "); p != std::string::npos) {
          want = std::stoul(request.substr(p + 16));
        }
        while (head_end != std::string::npos && request.size() < head_end + 4 + want) {
          ssize_t n = read(c, buf, sizeof(buf));
          if (n <= 0) break;
          request.append(buf, static_cast<size_t>(n));
        }
        last_request_ = request;
        ++requests_;
        (void)!write(c, response_.data(), response_.size());
        close(c);
      }
    });
  }
  ~CannedServer() {
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hook"; }
  int requests() const { return requests_; }
  std::string last_request() const { return last_request_; }

 private:
  std::string response_;
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::atomic<int> requests_{0};
  std::string last_request_;
};

OutboundResult SendOne(WebhookSender& sender, const std::string& url) {
  sender.Start({.tag = 7, .url = url, .headers = {"webhook-id: evt_1"}, .body = R"({"a":1})"});
  for (int i = 0; i < 200; ++i) {
    auto done = sender.Poll(50);
    if (!done.empty()) return done.front();
  }
  return {.error = "no result"};
}

TEST(WebhookSenderTest, PostsTheBodyAndHeadersWhenPrivateTargetsAreAllowed) {
  CannedServer server("HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
  auto sender = WebhookSender::Create({.timeout_s = 5, .allow_private_targets = true});
  ASSERT_TRUE(sender.ok());
  OutboundResult r = SendOne(**sender, server.url());
  EXPECT_TRUE(r.success) << r.error;
  EXPECT_EQ(r.tag, 7u);
  EXPECT_EQ(r.status_code, 204);
  EXPECT_EQ(server.requests(), 1);
  EXPECT_NE(server.last_request().find("POST /hook HTTP/1.1"), std::string::npos);
  EXPECT_NE(server.last_request().find("webhook-id: evt_1"), std::string::npos);
  EXPECT_NE(server.last_request().find("Content-Type: application/json"), std::string::npos);
  EXPECT_NE(server.last_request().find("\r\n\r\n{\"a\":1}"), std::string::npos);
}

TEST(WebhookSenderTest, KeepsConnectionsAliveForLaterRequests) {
  KeepAliveReceiver server;
  auto sender = WebhookSender::Create({.timeout_s = 5, .allow_private_targets = true});
  ASSERT_TRUE(sender.ok());
  for (int i = 0; i < 5; ++i) {
    OutboundResult r = SendOne(**sender, server.url());
    EXPECT_TRUE(r.success) << r.error;
  }
  EXPECT_EQ(server.requests(), 5);
  EXPECT_EQ(server.connections(), 1);
  // Requests in flight together take one connection each, all kept for the next ones, also
  // while fewer are in flight.
  for (int round = 0; round < 3; ++round) {
    for (uint64_t tag = 1; tag <= 16; ++tag) {
      (*sender)->Start({.tag = tag, .url = server.url(), .body = "{}"});
    }
    size_t done = 0;
    for (int i = 0; i < 200 && done < 16; ++i) done += (*sender)->Poll(50).size();
    EXPECT_EQ(done, 16u);
    EXPECT_TRUE(SendOne(**sender, server.url()).success);
  }
  EXPECT_EQ(server.requests(), 5 + 3 * 17);
  EXPECT_LE(server.connections(), 16);
}

TEST(WebhookSenderTest, RefusesLoopbackTargetsByDefaultWithoutConnecting) {
  CannedServer server("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  auto sender = WebhookSender::Create({.timeout_s = 5});
  ASSERT_TRUE(sender.ok());
  OutboundResult r = SendOne(**sender, server.url());
  EXPECT_FALSE(r.success);
  EXPECT_EQ(r.status_code, 0);
  EXPECT_NE(r.error.find("refused to connect to 127.0.0.1"), std::string::npos) << r.error;
  EXPECT_EQ(server.requests(), 0);  // the socket was never opened
  // A name that resolves to loopback is refused the same way: the check is on the address.
  r = SendOne(**sender, "http://localhost:" + server.url().substr(server.url().rfind(':') + 1));
  EXPECT_FALSE(r.success);
  EXPECT_NE(r.error.find("not a public address"), std::string::npos) << r.error;
  EXPECT_EQ(server.requests(), 0);
}

TEST(WebhookSenderTest, DoesNotFollowRedirects) {
  CannedServer server(
      "HTTP/1.1 307 Temporary Redirect\r\nLocation: http://127.0.0.1:1/x\r\nContent-Length: "
      "0\r\n\r\n");
  auto sender = WebhookSender::Create({.timeout_s = 5, .allow_private_targets = true});
  ASSERT_TRUE(sender.ok());
  OutboundResult r = SendOne(**sender, server.url());
  EXPECT_FALSE(r.success);
  EXPECT_EQ(r.status_code, 307);
  EXPECT_NE(r.error.find("redirects are not followed"), std::string::npos) << r.error;
}

TEST(WebhookSenderTest, ReportsServerErrorsWithTheStartOfTheBody) {
  CannedServer server("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 9\r\n\r\noverload\n");
  auto sender = WebhookSender::Create({.timeout_s = 5, .allow_private_targets = true});
  ASSERT_TRUE(sender.ok());
  OutboundResult r = SendOne(**sender, server.url());
  EXPECT_FALSE(r.success);
  EXPECT_EQ(r.status_code, 503);
  EXPECT_NE(r.error.find("HTTP 503: overload"), std::string::npos) << r.error;
}

TEST(WebhookSenderTest, RefusesOtherSchemes) {
  auto sender = WebhookSender::Create({.timeout_s = 5, .allow_private_targets = true});
  ASSERT_TRUE(sender.ok());
  OutboundResult r = SendOne(**sender, "file:///etc/passwd");
  EXPECT_FALSE(r.success);
  EXPECT_FALSE(r.error.empty());
}

}  // namespace
}  // namespace argus::engine
