// Start, restart, lock, shutdown: the server as a process.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "tests/integration/test_server.h"

namespace argus::testing {
namespace {

TEST(LifecycleTest, FirstStartWritesAnAdminKeyFileReadableOnlyByOwner) {
  auto s = TestServer::Start();
  ASSERT_GT(s->port(), 0) << s->Log();
  ASSERT_GE(s->admin_key().size(), 32u);
  struct stat st;
  ASSERT_EQ(::stat((s->data_dir() + "/admin.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto r = s->Call("GET", "/v1/whoami", s->admin_key());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(r.json()["global"].get<bool>());
  // Only a hash is stored: the secret appears nowhere in the database files.
  for (const auto& f : std::filesystem::directory_iterator(s->data_dir())) {
    if (f.path().filename() == "admin.key" || !f.is_regular_file()) continue;
    std::ifstream in(f.path(), std::ios::binary);
    std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(data.find(s->admin_key()), std::string::npos) << f.path();
  }
}

TEST(LifecycleTest, AdminKeyFromEnvironment) {
  std::string key = "my-scripted-admin-key-0123456789-abcdefgh";
  TestServer::Options o;
  o.env = {"ARGUS_ADMIN_KEY=" + key};
  auto s = TestServer::Start(o);
  ASSERT_GT(s->port(), 0) << s->Log();
  EXPECT_EQ(s->Call("GET", "/v1/whoami", key).status, 200);
  EXPECT_FALSE(std::filesystem::exists(s->data_dir() + "/admin.key"));
}

TEST(LifecycleTest, ShortAdminKeyFromEnvironmentIsRefused) {
  TestServer::Options o;
  o.env = {"ARGUS_ADMIN_KEY=short"};
  auto s = TestServer::Start(o);
  EXPECT_EQ(s->port(), 0);
  EXPECT_NE(s->Log().find("at least 32"), std::string::npos) << s->Log();
}

TEST(LifecycleTest, SecondServerOnTheSameDataDirRefusesToStart) {
  auto first = TestServer::Start();
  ASSERT_GT(first->port(), 0);
  auto r = RunProcess(
      {ArgusBinary(), "serve", "--listen", "127.0.0.1:0", "--data-dir", first->data_dir()});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("in use by another argus process"), std::string::npos) << r.output;
  EXPECT_EQ(Request(first->port(), "GET", "/healthz").status, 200);
}

TEST(LifecycleTest, RestartKeepsNamespacesAndKeys) {
  std::string dir = NewTempDir("restart");
  std::string admin, secret;
  {
    TestServer::Options o;
    o.data_dir = dir;
    auto s = TestServer::Start(o);
    ASSERT_GT(s->port(), 0) << s->Log();
    admin = s->admin_key();
    ASSERT_EQ(s->Call("POST", "/v1/namespaces", admin, {{"name", "kept"}}).status, 201);
    auto k = s->Call("POST", "/v1/keys", admin, {{"name", "e"}, {"role", "editor"}},
                     {{"X-Namespace", "kept"}});
    ASSERT_EQ(k.status, 201);
    secret = k.json()["secret"];
    EXPECT_EQ(s->Stop(SIGKILL), 128 + SIGKILL);  // not even a clean shutdown
  }
  TestServer::Options o;
  o.data_dir = dir;
  auto s = TestServer::Start(o);
  ASSERT_GT(s->port(), 0) << s->Log();
  EXPECT_EQ(s->admin_key(), admin);  // not regenerated
  EXPECT_EQ(s->Call("GET", "/v1/namespaces/kept", admin).status, 200);
  auto who = s->Call("GET", "/v1/whoami", secret);
  ASSERT_EQ(who.status, 200);
  EXPECT_EQ(who.json()["namespace"], "kept");
  EXPECT_EQ(who.json()["role"], "editor");
  s.reset();
  std::filesystem::remove_all(dir);
}

TEST(LifecycleTest, DatabaseFromANewerArgusIsRefused) {
  std::string dir = NewTempDir("newer");
  {
    TestServer::Options o;
    o.data_dir = dir;
    auto s = TestServer::Start(o);
    ASSERT_GT(s->port(), 0) << s->Log();
    EXPECT_EQ(s->Stop(), 0);
  }
  // What a future argus would leave behind: a schema version this binary does not know.
  auto bump = RunProcess({"sqlite3", dir + "/metadata.db",
                          "INSERT INTO schema_migrations VALUES (999, 'from the future', 0)"});
  ASSERT_EQ(bump.exit_code, 0) << bump.output;
  TestServer::Options o;
  o.data_dir = dir;
  auto s = TestServer::Start(o);
  EXPECT_EQ(s->port(), 0);
  EXPECT_NE(s->Log().find("upgrade argus"), std::string::npos) << s->Log();
  s.reset();
  std::filesystem::remove_all(dir);
}

TEST(LifecycleTest, GracefulShutdownFinishesInFlightRequests) {
  auto s = TestServer::Start();
  ASSERT_GT(s->port(), 0);
  std::string body = R"({"name":"in-flight","values":[1]})";
  Connection inflight(s->port());
  Connection idle(s->port());
  ASSERT_TRUE(idle.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_EQ(idle.Read().status, 200);
  // Headers sent, body not yet: the request is in flight when SIGTERM arrives.
  ASSERT_TRUE(inflight.Send(
      "POST /v1/diagnostics/echo HTTP/1.1\r\nHost: x\r\n"
      "Content-Type: application/json\r\nAuthorization: Bearer " +
      s->admin_key() + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n"));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // let it be read
  ::kill(s->pid(), SIGTERM);
  EXPECT_TRUE(idle.ClosedByPeer(3000));  // idle keep-alive connections close at once
  ASSERT_TRUE(inflight.Send(body));
  auto r = inflight.Read();
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["name"], "in-flight");
  EXPECT_EQ(r.Header("connection"), "close");
  EXPECT_EQ(s->Stop(0), 0) << s->Log();  // signal 0: just wait for the exit code
  EXPECT_NE(s->Log().find("\"stopped\""), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(s->data_dir() + "/listen.addr"));
}

TEST(LifecycleTest, RateLimitsPerKeyAndPerAddress) {
  TestServer::Options o;
  o.env = {"ARGUS_RATE_LIMIT_PER_KEY_RPS=0.5", "ARGUS_RATE_LIMIT_PER_KEY_BURST=3"};
  auto s = TestServer::Start(o);
  ASSERT_GT(s->port(), 0);
  int ok = 0;
  HttpResult limited;
  for (int i = 0; i < 6; ++i) {
    auto r = s->Call("GET", "/v1/whoami", s->admin_key());
    if (r.status == 200) ++ok;
    if (r.status == 429) limited = r;
  }
  EXPECT_EQ(ok, 3);
  ASSERT_EQ(limited.status, 429);
  EXPECT_EQ(limited.json()["error"]["code"], "rate_limited");
  EXPECT_GE(std::stoi(limited.Header("retry-after")), 1);
  // An unauthenticated call is refused before it reaches any bucket.
  auto k = s->Call("POST", "/v1/namespaces", "", {{"name", "x"}});
  EXPECT_EQ(k.status, 401);

  TestServer::Options ip;
  ip.env = {"ARGUS_RATE_LIMIT_PER_IP_RPS=0.5", "ARGUS_RATE_LIMIT_PER_IP_BURST=2",
            "ARGUS_HTTP_TRUSTED_PROXIES=127.0.0.1/32"};
  auto t = TestServer::Start(ip);
  ASSERT_GT(t->port(), 0);
  EXPECT_EQ(Request(t->port(), "GET", "/healthz").status, 200);
  EXPECT_EQ(Request(t->port(), "GET", "/healthz").status, 200);
  EXPECT_EQ(Request(t->port(), "GET", "/healthz").status, 429);
  // Behind the trusted proxy, each forwarded client is its own address.
  EXPECT_EQ(Request(t->port(), "GET", "/healthz", {{"X-Forwarded-For", "203.0.113.7"}}).status,
            200);
}

// Over its per-address rate, a client is answered from the request head: its large body is never
// waited for (it is not even sent here), on a streamed upload route and on a buffered JSON one.
TEST(LifecycleTest, OverTheAddressRateIsRefusedBeforeTheBodyIsRead) {
  TestServer::Options o;
  o.env = {"ARGUS_RATE_LIMIT_PER_IP_RPS=0.01", "ARGUS_RATE_LIMIT_PER_IP_BURST=2"};
  auto s = TestServer::Start(o);
  ASSERT_GT(s->port(), 0) << s->Log();
  const std::string auth = "Authorization: Bearer " + s->admin_key() + "\r\n";
  ASSERT_EQ(s->Call("POST", "/v1/namespaces", s->admin_key(), {{"name", "a"}}).status, 201);
  ASSERT_EQ(s->Call("POST", "/v1/buckets", s->admin_key(), {{"name", "b"}}, {{"X-Namespace", "a"}})
                .status,
            201);
  for (const std::string& head :
       {"PUT /v1/buckets/b/objects/big.bin HTTP/1.1\r\nHost: x\r\n" + auth +
            "X-Namespace: a\r\nContent-Type: application/octet-stream\r\n"
            "Content-Length: 1073741824\r\n\r\n",
        "POST /v1/tasks HTTP/1.1\r\nHost: x\r\n" + auth +
            "X-Namespace: a\r\nContent-Type: application/json\r\nContent-Length: 900000\r\n\r\n"}) {
    Connection c(s->port());
    ASSERT_TRUE(c.connected());
    ASSERT_TRUE(c.Send(head + std::string(1000, ' ')));  // a first piece of the body only
    auto start = std::chrono::steady_clock::now();
    HttpResult r = c.Read(5000);
    EXPECT_EQ(r.status, 429) << head << r.body;
    EXPECT_EQ(r.json()["error"]["code"], "rate_limited") << r.body;
    EXPECT_GE(std::stoi(r.Header("retry-after").empty() ? "0" : r.Header("retry-after")), 1);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
    EXPECT_TRUE(c.ClosedByPeer()) << "the unread body makes the connection unusable";
  }
}

}  // namespace
}  // namespace argus::testing

namespace argus::testing {
namespace {

// Past http.max_connections a new connection gets 503 with Retry-After and is closed; once one
// goes away there is room again.
TEST(ConnectionCapTest, OneMoreThanTheCapIsAnswered503AndClosed) {
  auto server = TestServer::Start({.env = {"ARGUS_HTTP_MAX_CONNECTIONS=4"}});
  ASSERT_GT(server->port(), 0) << server->Log();
  std::vector<std::unique_ptr<Connection>> held;
  for (int i = 0; i < 4; ++i) {
    held.push_back(std::make_unique<Connection>(server->port()));
    ASSERT_TRUE(held.back()->Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
    ASSERT_EQ(held.back()->Read().status, 200);  // accepted and kept alive
  }
  HttpResult refused = Request(server->port(), "GET", "/healthz");
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_EQ(refused.Header("retry-after"), "1");
  EXPECT_EQ(refused.json()["error"]["code"], "unavailable");
  held.pop_back();
  bool served = false;
  for (int i = 0; i < 100 && !served; ++i) {  // the server notices the close on its own time
    served = Request(server->port(), "GET", "/healthz").status == 200;
    if (!served) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(served);
}

}  // namespace
}  // namespace argus::testing
