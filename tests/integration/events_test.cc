// GET /v1/events: Server-Sent Events of task state changes, with resume.
#include <gtest/gtest.h>
#include <signal.h>

#include "tests/integration/test_server.h"

namespace argus::testing {
namespace {

class EventsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = TestServer::Start();
    ASSERT_GT(server_->port(), 0) << server_->Log();
    for (const char* ns : {"a", "b"}) {
      ASSERT_EQ(
          server_->Call("POST", "/v1/namespaces", server_->admin_key(), {{"name", ns}}).status,
          201);
    }
  }
  std::unique_ptr<Connection> Open(const std::string& query, const std::string& ns,
                                   const std::string& extra_headers = "") {
    auto c = std::make_unique<Connection>(server_->port());
    c->Send("GET /v1/events" + query + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
            server_->admin_key() + "\r\nX-Namespace: " + ns + "\r\n" + extra_headers + "\r\n");
    return c;
  }
  std::string Submit(const std::string& ns) {
    auto r = server_->Call("POST", "/v1/tasks", server_->admin_key(), {{"kind", "noop"}},
                           {{"X-Namespace", ns}, {"Prefer", "wait=10"}});
    EXPECT_EQ(r.json()["status"], "succeeded") << r.body;
    return r.json()["id"];
  }
  std::unique_ptr<TestServer> server_;
};

TEST_F(EventsTest, StreamsTaskEventsAsTheyHappen) {
  auto c = Open("?types=task.succeeded", "a");
  std::string head = c->ReadUntil(": argus event stream");
  ASSERT_NE(head.find("HTTP/1.1 200"), std::string::npos) << head;
  EXPECT_NE(head.find("Content-Type: text/event-stream"), std::string::npos);
  std::string id = Submit("a");
  std::string got = c->ReadUntil(id);
  ASSERT_NE(got.find(id), std::string::npos) << got;
  EXPECT_NE(got.find("event: task.succeeded\ndata: {"), std::string::npos) << got;
  EXPECT_EQ(got.find("event: task.started"), std::string::npos);  // filtered out
}

TEST_F(EventsTest, ResumeWithLastEventIdLosesNothing) {
  auto c = Open("?types=task.succeeded", "a");
  c->ReadUntil(": argus event stream");
  std::string first = Submit("a");
  std::string got = c->ReadUntil(first);
  size_t id_at = got.rfind("id: ", got.find(first));
  ASSERT_NE(id_at, std::string::npos) << got;
  std::string last_id = got.substr(id_at + 4, got.find('\n', id_at) - id_at - 4);
  c.reset();  // the client goes away...
  std::vector<std::string> missed = {Submit("a"), Submit("a"), Submit("a")};
  // ...and comes back with the last id it saw.
  auto again = Open("?types=task.succeeded", "a", "Last-Event-ID: " + last_id + "\r\n");
  std::string replay = again->ReadUntil(missed.back());
  for (const auto& id : missed) EXPECT_NE(replay.find(id), std::string::npos) << id;
  EXPECT_EQ(replay.find(first), std::string::npos);  // nothing seen twice
}

TEST_F(EventsTest, NamespacesOnlySeeTheirOwnEvents) {
  auto c = Open("", "a");
  c->ReadUntil(": argus event stream");
  std::string other = Submit("b");
  std::string mine = Submit("a");
  std::string got = c->ReadUntil(mine);
  EXPECT_NE(got.find(mine), std::string::npos);
  EXPECT_EQ(got.find(other), std::string::npos);
}

TEST_F(EventsTest, AccessTokenInTheQueryForEventSource) {
  auto ok = std::make_unique<Connection>(server_->port());
  ok->Send("GET /v1/events?access_token=" + server_->admin_key() + " HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(ok->ReadUntil(": argus event stream").find("200 OK"), std::string::npos);
  EXPECT_EQ(
      Request(server_->port(), "GET", "/v1/events?access_token=wrong-wrong-wrong-wrong-wrong-wrong")
          .status,
      401);
  // Only routes that need it accept a query token.
  EXPECT_EQ(
      Request(server_->port(), "GET", "/v1/whoami?access_token=" + server_->admin_key()).status,
      401);
  // The token never reaches the log.
  EXPECT_EQ(server_->Log().find(server_->admin_key()), std::string::npos);
}

TEST_F(EventsTest, ShutdownEndsStreamsAndExitsCleanly) {
  auto c = Open("", "a");
  c->ReadUntil(": argus event stream");
  EXPECT_EQ(server_->Stop(SIGTERM), 0) << server_->Log();
  EXPECT_TRUE(c->ClosedByPeer(3000));
}

}  // namespace
}  // namespace argus::testing

namespace argus::testing {
namespace {

// A minimal WebSocket client: the handshake, masked text frames out, unmasked frames in.
class WsClient {
 public:
  WsClient(int port, const std::string& key, const std::string& ns) : conn_(port) {
    conn_.Send(
        "GET /v1/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Authorization: Bearer " +
        key + "\r\nX-Namespace: " + ns + "\r\n\r\n");
    handshake_ = conn_.ReadUntil("\r\n\r\n");
    // ReadUntil returns everything the connection has read so far; track how much we took.
    seen_ = handshake_.size();
    buffer_ = handshake_.substr(handshake_.find("\r\n\r\n") + 4);
  }
  const std::string& handshake() const { return handshake_; }
  void SendText(const std::string& text) {
    std::string f;
    f.push_back(static_cast<char>(0x81));
    if (text.size() < 126) {
      f.push_back(static_cast<char>(0x80 | text.size()));
    } else {
      f.push_back(static_cast<char>(0x80 | 126));
      f.push_back(static_cast<char>(text.size() >> 8));
      f.push_back(static_cast<char>(text.size() & 0xff));
    }
    const char mask[4] = {1, 2, 3, 4};
    f.append(mask, 4);
    for (size_t i = 0; i < text.size(); ++i) f.push_back(static_cast<char>(text[i] ^ mask[i % 4]));
    conn_.Send(f);
  }
  /// The next text frame, or "" on timeout.
  std::string Next(int timeout_ms = 5000) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
      if (buffer_.size() >= 2) {
        size_t len = static_cast<unsigned char>(buffer_[1]) & 0x7f, off = 2;
        if (len == 126 && buffer_.size() >= 4) {
          len = (static_cast<unsigned char>(buffer_[2]) << 8) |
                static_cast<unsigned char>(buffer_[3]);
          off = 4;
        } else if (len == 127 && buffer_.size() >= 10) {
          len = 0;
          for (int i = 2; i < 10; ++i) len = (len << 8) | static_cast<unsigned char>(buffer_[i]);
          off = 10;
        }
        if ((len < 126 || off > 2) && buffer_.size() >= off + len) {
          int opcode = buffer_[0] & 0x0f;
          std::string payload = buffer_.substr(off, len);
          buffer_.erase(0, off + len);
          if (opcode == 1) return payload;
          continue;  // ping/pong/close: skip
        }
      }
      int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                      deadline - std::chrono::steady_clock::now())
                                      .count());
      if (left <= 0) return "";
      std::string more = conn_.ReadUntil("\x01\x02\x03never", std::min(left, 50));
      buffer_ += more.substr(seen_);
      seen_ = more.size();
    }
  }

 private:
  Connection conn_;
  std::string handshake_;
  std::string buffer_;
  size_t seen_ = 0;
};

TEST_F(EventsTest, WebSocketSubscribeDeliversFrames) {
  WsClient ws(server_->port(), server_->admin_key(), "a");
  ASSERT_NE(ws.handshake().find("101 Switching Protocols"), std::string::npos) << ws.handshake();
  ws.SendText(R"({"subscribe": {"events": ["task.succeeded"]}})");
  Json ack = Json::parse(ws.Next());
  ASSERT_TRUE(ack.contains("subscribed")) << ack.dump();
  std::string id = Submit("a");
  Json frame = Json::parse(ws.Next());
  EXPECT_EQ(frame["type"], "task.succeeded");
  EXPECT_EQ(frame["data"]["id"], id);
  EXPECT_FALSE(frame["id"].get<std::string>().empty());
  // Resume from before that event: it is delivered again, with the same id.
  WsClient again(server_->port(), server_->admin_key(), "a");
  int64_t before = std::stoll(frame["id"].get<std::string>()) - 1;
  again.SendText(R"({"subscribe": {"task_ids": [")" + id + R"("]}, "since": ")" +
                 std::to_string(before) + R"("})");
  again.Next();  // the ack
  Json replay = Json::parse(again.Next());
  EXPECT_EQ(replay["id"], frame["id"]);
  ws.SendText("{not json");
  EXPECT_NE(ws.Next().find("invalid_argument"), std::string::npos);
}

TEST_F(EventsTest, WebSocketNeedsAnUpgradeAndAKey) {
  EXPECT_EQ(Request(server_->port(), "GET", "/v1/ws",
                    {{"Authorization", "Bearer " + server_->admin_key()}})
                .status,
            400);
  WsClient anonymous(server_->port(), "wrong-key-wrong-key-wrong-key-wrong-key", "a");
  EXPECT_NE(anonymous.handshake().find("401"), std::string::npos) << anonymous.handshake();
}

}  // namespace
}  // namespace argus::testing
