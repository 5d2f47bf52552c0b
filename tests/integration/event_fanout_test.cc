// Live fan-out without polling: an idle server with 100 SSE streams and 10 long-polling workers
// touches its database not at all, and a client that stops reading is disconnected instead of
// growing the server's memory.
#include <gtest/gtest.h>

#include <fstream>
#include <iostream>
#include <regex>
#include <thread>

#include "tests/integration/test_server.h"

namespace argus::testing {
namespace {

// The value of an unlabelled counter in a /metrics text.
double Metric(const std::string& text, const std::string& name) {
  std::smatch m;
  if (!std::regex_search(text, m, std::regex("\n" + name + " ([0-9.e+]+)"))) return -1;
  return std::stod(m[1]);
}

int64_t RssKib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6));
  }
  return -1;
}

TEST(EventFanoutTest, AnIdleServerWithStreamsAndLongPollsReadsNothing) {
  auto server = TestServer::Start();
  ASSERT_GT(server->port(), 0) << server->Log();
  const std::string key = server->admin_key();
  ASSERT_EQ(server->Call("POST", "/v1/namespaces", key, {{"name", "idle"}}).status, 201);
  std::vector<std::unique_ptr<Connection>> streams, polls;
  for (int i = 0; i < 100; ++i) {
    auto c = std::make_unique<Connection>(server->port());
    c->Send("GET /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + key +
            "\r\nX-Namespace: idle\r\n\r\n");
    ASSERT_NE(c->ReadUntil(": argus event stream").find("200"), std::string::npos);
    streams.push_back(std::move(c));
  }
  for (int i = 0; i < 10; ++i) {
    auto c = std::make_unique<Connection>(server->port());
    const std::string body =
        R"({"worker_id": "gpu-)" + std::to_string(i) + R"(", "queues": ["gpu"], "wait_s": 60})";
    c->Send("POST /v1/workers/lease HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + key +
            "\r\nX-Namespace: idle\r\nContent-Type: application/json\r\nContent-Length: " +
            std::to_string(body.size()) + "\r\n\r\n" + body);
    polls.push_back(std::move(c));
  }
  std::this_thread::sleep_for(std::chrono::seconds(1));  // start-up work settles
  // Each scrape reads queue depths itself (after rendering the counters): learn its cost.
  std::string m0 = Request(server->port(), "GET", "/metrics").body;
  std::string m1 = Request(server->port(), "GET", "/metrics").body;
  const double per_scrape =
      Metric(m1, "argus_sqlite_reads_total") - Metric(m0, "argus_sqlite_reads_total");
  ASSERT_GE(per_scrape, 0) << m1;
  std::this_thread::sleep_for(std::chrono::seconds(3));
  std::string m2 = Request(server->port(), "GET", "/metrics").body;
  EXPECT_EQ(Metric(m2, "argus_sqlite_reads_total") - Metric(m1, "argus_sqlite_reads_total"),
            per_scrape)
      << "reads in 3 idle seconds, besides the scrape itself";
  EXPECT_EQ(Metric(m2, "argus_sqlite_writes_total"), Metric(m1, "argus_sqlite_writes_total"));
  // They are all still waiting, and the first task of their queue reaches one of them.
  auto t = server->Call("POST", "/v1/tasks", key, {{"kind", "render"}, {"queue", "gpu"}},
                        {{"X-Namespace", "idle"}});
  ASSERT_EQ(t.status, 201) << t.body;
  int leased = 0;
  for (auto& c : polls) {
    HttpResult r = c->Read(leased == 0 ? 5000 : 200);
    if (r.status == 200 && r.json()["tasks"].size() == 1) ++leased;
  }
  EXPECT_EQ(leased, 1);
}

TEST(EventFanoutTest, AClientThatStopsReadingIsCutOffWithoutGrowingMemory) {
  auto server = TestServer::Start(
      {.env = {"ARGUS_HTTP_STREAM_MAX_QUEUED_BYTES=1048576", "ARGUS_HTTP_READ_TIMEOUT_S=2"}});
  ASSERT_GT(server->port(), 0) << server->Log();
  const std::string key = server->admin_key();
  ASSERT_EQ(server->Call("POST", "/v1/namespaces", key, {{"name", "slow"}}).status, 201);
  // Warm up: the first ten thousand tasks size what a busy server keeps anyway (SQLite's page
  // caches, the ring of recent events; about 50 MB), so what follows measures the stream.
  Json batch = Json::array();
  for (int i = 0; i < 1000; ++i) batch.push_back({{"kind", "noop"}});
  std::map<std::string, std::string> ns = {{"X-Namespace", "slow"}};
  auto Run = [&](int batches) {
    std::string last;
    for (int b = 0; b < batches; ++b) {
      auto r = server->Call("POST", "/v1/tasks/batch", key, {{"tasks", batch}}, ns);
      ASSERT_EQ(r.status, 201) << r.body;
      last = r.json()["tasks"].back()["id"];
    }
    auto done = server->Call("GET", "/v1/tasks/" + last, key, nullptr,
                             {{"X-Namespace", "slow"}, {"Prefer", "wait=60"}});
    ASSERT_EQ(done.json()["status"], "succeeded");
  };
  Run(10);
  Connection stuck(server->port());
  stuck.Send("GET /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + key +
             "\r\nX-Namespace: slow\r\n\r\n");
  ASSERT_NE(stuck.ReadUntil(": argus event stream").find("200"), std::string::npos);
  const int64_t before = RssKib(server->pid());
  Run(10);  // 10,000 tasks: 30,000 events, about 20 MB of SSE the client never reads
  const int64_t after = RssKib(server->pid());
  RecordProperty("rss_growth_kib", static_cast<int>(after - before));
  std::cout << "RSS " << before << " KiB -> " << after << " KiB with a client that never reads\n";
  // Measured: +2 MB with the 1 MiB cap (+98 MB for 20,000 events before the cap existed).
  EXPECT_LT(after - before, 16 * 1024) << "the server buffered what the client did not read";
  // The client was let go: reading now finds what the kernel held, then the end.
  EXPECT_TRUE(stuck.DrainUntilClosed(20000));
}

}  // namespace
}  // namespace argus::testing
