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
