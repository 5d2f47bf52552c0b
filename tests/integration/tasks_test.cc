// The task service end to end: submit, run by the in-process workers, wait, cancel, retry.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <thread>

#include "tests/integration/test_server.h"

namespace argus::testing {
namespace {

class TasksTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = TestServer::Start().release();
    ASSERT_GT(server_->port(), 0) << server_->Log();
    ASSERT_EQ(
        server_->Call("POST", "/v1/namespaces", server_->admin_key(), {{"name", "jobs"}}).status,
        201);
    ASSERT_EQ(
        server_->Call("POST", "/v1/namespaces", server_->admin_key(), {{"name", "else"}}).status,
        201);
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static HttpResult Call(const std::string& method, const std::string& path,
                         const Json& body = nullptr,
                         std::map<std::string, std::string> headers = {},
                         const std::string& ns = "jobs") {
    headers["X-Namespace"] = ns;
    return server_->Call(method, path, server_->admin_key(), body, headers);
  }
  static Json WaitFor(const std::string& id, const std::string& status, double seconds = 10) {
    auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    Json t;
    while (std::chrono::steady_clock::now() < until) {
      t = Call("GET", "/v1/tasks/" + id).json();
      if (t["status"] == status) return t;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return t;
  }
  static TestServer* server_;
};

TestServer* TasksTest::server_ = nullptr;

TEST_F(TasksTest, NoopRunsAndPreferWaitAnswersWithTheResult) {
  auto r = Call("POST", "/v1/tasks", {{"kind", "noop"}}, {{"Prefer", "wait=10"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["status"], "succeeded");
  EXPECT_EQ(r.json()["attempt"], 1);
  EXPECT_EQ(r.Header("preference-applied"), "wait=10");
  EXPECT_FALSE(r.json()["finished_at"].is_null());
}

TEST_F(TasksTest, PreferWaitTimesOutWith202AndLocation) {
  auto start = std::chrono::steady_clock::now();
  auto r = Call("POST", "/v1/tasks", {{"kind", "sleep"}, {"input", {{"seconds", 3}}}},
                {{"Prefer", "wait=1"}});
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_GE(took, std::chrono::milliseconds(900));
  EXPECT_LT(took, std::chrono::milliseconds(2500));
  std::string id = r.json()["id"];
  EXPECT_EQ(r.Header("location"), "/v1/tasks/" + id);
  auto g = Call("GET", "/v1/tasks/" + id, nullptr, {{"Prefer", "wait=10"}});
  EXPECT_EQ(g.status, 200);
  EXPECT_EQ(g.json()["status"], "succeeded") << g.body;
  EXPECT_EQ(g.json()["result"]["slept_s"], 3);
}

TEST_F(TasksTest, IdempotencyKeyReturnsTheFirstTask) {
  auto a = Call("POST", "/v1/tasks", {{"kind", "noop"}}, {{"Idempotency-Key", "once-1"}});
  ASSERT_EQ(a.status, 201) << a.body;
  auto b = Call("POST", "/v1/tasks", {{"kind", "noop"}}, {{"Idempotency-Key", "once-1"}});
  EXPECT_EQ(b.status, 200);
  EXPECT_EQ(a.json()["id"], b.json()["id"]);
  // Another namespace has its own keys.
  auto c = Call("POST", "/v1/tasks", {{"kind", "noop"}}, {{"Idempotency-Key", "once-1"}}, "else");
  EXPECT_EQ(c.status, 201);
  EXPECT_NE(c.json()["id"], a.json()["id"]);
}

TEST_F(TasksTest, BatchIsRecordedInOrderAndRuns) {
  Json tasks = Json::array();
  for (int i = 0; i < 200; ++i) tasks.push_back({{"kind", "noop"}, {"input", {{"i", i}}}});
  auto r = Call("POST", "/v1/tasks/batch", {{"tasks", tasks}});
  ASSERT_EQ(r.status, 201) << r.body;
  Json out = r.json()["tasks"];
  ASSERT_EQ(out.size(), 200u);
  for (int i = 0; i < 200; ++i) EXPECT_EQ(out[i]["input"]["i"], i);
  EXPECT_EQ(WaitFor(out[199]["id"], "succeeded")["status"], "succeeded");
}

TEST_F(TasksTest, BadTasksAreRefusedWhole) {
  auto r = Call("POST", "/v1/tasks", {{"kind", "sleep"}, {"input", {{"seconds", "long"}}}});
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("input"), std::string::npos) << r.body;
  EXPECT_EQ(Call("POST", "/v1/tasks", {{"kind", "Bad Kind"}}).status, 400);
  EXPECT_EQ(Call("POST", "/v1/tasks", {{"kind", "noop"}, {"priority", 10}}).status, 400);
  EXPECT_EQ(Call("POST", "/v1/tasks", {{"kind", "noop"}, {"surprise", 1}}).status, 400);
  Json tasks = {{{"kind", "noop"}}, {{"kind", "BAD"}}};
  auto before = Call("GET", "/v1/tasks?limit=1000&kind=noop").json()["items"].size();
  EXPECT_EQ(Call("POST", "/v1/tasks/batch", {{"tasks", tasks}}).status, 400);
  EXPECT_EQ(Call("GET", "/v1/tasks?limit=1000&kind=noop").json()["items"].size(), before);
}

TEST_F(TasksTest, CancelReachesARunningTask) {
  auto r = Call("POST", "/v1/tasks", {{"kind", "sleep"}, {"input", {{"seconds", 30}}}});
  ASSERT_EQ(r.status, 201);
  std::string id = r.json()["id"];
  ASSERT_EQ(WaitFor(id, "running")["status"], "running");
  auto c = Call("POST", "/v1/tasks/" + id + "/cancel", Json::object());
  ASSERT_EQ(c.status, 200) << c.body;
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(WaitFor(id, "cancelled", 5)["status"], "cancelled");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  // A cancelled task can run again.
  auto again = Call("POST", "/v1/tasks/" + id + "/retry", Json::object());
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.json()["status"], "pending");
  EXPECT_EQ(Call("POST", "/v1/tasks/" + id + "/cancel", Json::object()).status, 200);
}

TEST_F(TasksTest, UnknownKindWaitsForAnExternalWorkerAndCanBeCancelled) {
  auto r = Call("POST", "/v1/tasks", {{"kind", "thumbnail"}, {"queue", "gpu"}});
  ASSERT_EQ(r.status, 201) << r.body;
  std::string id = r.json()["id"];
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(Call("GET", "/v1/tasks/" + id).json()["status"], "pending");
  auto c = Call("POST", "/v1/tasks/" + id + "/cancel", Json::object());
  EXPECT_EQ(c.json()["status"], "cancelled");
  EXPECT_EQ(Call("POST", "/v1/tasks/" + id + "/cancel", Json::object()).status, 409);
}

TEST_F(TasksTest, OtherNamespacesCannotSeeTasks) {
  auto r = Call("POST", "/v1/tasks", {{"kind", "noop"}});
  std::string id = r.json()["id"];
  EXPECT_EQ(Call("GET", "/v1/tasks/" + id, nullptr, {}, "else").status, 404);
  EXPECT_EQ(Call("POST", "/v1/tasks/" + id + "/cancel", Json::object(), {}, "else").status, 404);
}

TEST_F(TasksTest, PausedQueueHoldsTasksUntilResumed) {
  ASSERT_EQ(
      server_->Call("POST", "/v1/queues/io/pause", server_->admin_key(), Json::object()).status,
      204);
  auto r = Call("POST", "/v1/tasks", {{"kind", "noop"}, {"queue", "io"}});
  std::string id = r.json()["id"];
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(Call("GET", "/v1/tasks/" + id).json()["status"], "pending");
  auto queues = server_->Call("GET", "/v1/queues", server_->admin_key()).json();
  bool paused = false;
  for (const auto& q : queues["items"])
    paused = paused || (q["queue"] == "io" && q["paused"] == true);
  EXPECT_TRUE(paused) << queues.dump();
  ASSERT_EQ(
      server_->Call("POST", "/v1/queues/io/resume", server_->admin_key(), Json::object()).status,
      204);
  EXPECT_EQ(WaitFor(id, "succeeded")["status"], "succeeded");
}

TEST_F(TasksTest, WorkersAndQueueMetricsAreVisible) {
  auto w = server_->Call("GET", "/v1/workers", server_->admin_key()).json();
  ASSERT_GE(w["items"].size(), 2u);  // one per queue served, with its slots
  EXPECT_EQ(w["items"][0]["id"].get<std::string>().rfind("serve/", 0), 0u);
  EXPECT_EQ(w["items"][0]["slots"], 2);
  Call("POST", "/v1/tasks", {{"kind", "noop"}}, {{"Prefer", "wait=5"}});
  auto m = Request(server_->port(), "GET", "/metrics");
  for (const char* series :
       {"argus_queue_depth{queue=\"cpu\",status=\"pending\"}",
        "argus_queue_oldest_pending_seconds{queue=\"cpu\"}",
        "argus_tasks_total{kind=\"noop\",status=\"succeeded\"}",
        "argus_task_duration_seconds_bucket{kind=\"noop\"", "argus_workers{queue=\"cpu\",state="}) {
    EXPECT_NE(m.body.find(series), std::string::npos) << series;
  }
}

TEST_F(TasksTest, ListFiltersByStatusAndKind) {
  auto r = Call("POST", "/v1/tasks", {{"kind", "noop"}}, {{"Prefer", "wait=5"}});
  ASSERT_EQ(r.json()["status"], "succeeded");
  auto list = Call("GET", "/v1/tasks?status=succeeded&kind=noop&limit=1000").json();
  ASSERT_GE(list["items"].size(), 1u);
  for (const auto& t : list["items"]) {
    EXPECT_EQ(t["status"], "succeeded");
    EXPECT_EQ(t["kind"], "noop");
  }
  EXPECT_EQ(Call("GET", "/v1/tasks?status=bogus").status, 400);
}

TEST_F(TasksTest, KindLimitsHoldAcrossWorkers) {
  auto set = server_->Call("PUT", "/v1/task-kinds/sleep/limits", server_->admin_key(),
                           {{"max_running", 1}});
  ASSERT_EQ(set.status, 200) << set.body;
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    ids.push_back(
        Call("POST", "/v1/tasks", {{"kind", "sleep"}, {"input", {{"seconds", 0.3}}}}).json()["id"]);
  }
  // With 2 cpu workers, only one sleep may run at a time.
  int max_running = 0;
  for (int i = 0; i < 60; ++i) {
    auto list = Call("GET", "/v1/tasks?status=running&kind=sleep").json();
    max_running = std::max<int>(max_running, static_cast<int>(list["items"].size()));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(max_running, 1);
  for (const auto& id : ids) EXPECT_EQ(WaitFor(id, "succeeded")["status"], "succeeded");
  EXPECT_EQ(
      server_
          ->Call("PUT", "/v1/task-kinds/sleep/limits", server_->admin_key(), {{"max_running", 0}})
          .status,
      200);
  EXPECT_EQ(Call("PUT", "/v1/task-kinds/sleep/limits", {{"max_running", 1}}, {}, "jobs").status,
            200);  // the global admin acts regardless of X-Namespace
}

// The measured defect of issue 13, scaled down: slow tasks on 2 slots with a 1 s lease. Each runs
// once (attempt 1), never more run at once than there are slots, and the first to finish is
// reported succeeded while the others still wait or run.
TEST(SlowTasksTest, RunOnceEachAndAreVisibleAsTheyFinish) {
  auto server = TestServer::Start({.env = {"ARGUS_TASKS_LEASE_S=1", "ARGUS_WORKERS_CPU=2"}});
  ASSERT_GT(server->port(), 0) << server->Log();
  const std::string& key = server->admin_key();
  ASSERT_EQ(server->Call("POST", "/v1/namespaces", key, {{"name", "slow"}}).status, 201);
  std::map<std::string, std::string> ns = {{"X-Namespace", "slow"}};
  Json tasks = Json::array();
  for (int i = 0; i < 8; ++i) tasks.push_back({{"kind", "sleep"}, {"input", {{"seconds", 0.3}}}});
  auto r = server->Call("POST", "/v1/tasks/batch", key, {{"tasks", tasks}}, ns);
  ASSERT_EQ(r.status, 201) << r.body;
  int most_running = 0;
  bool finished_while_others_waited = false;
  int succeeded = 0;
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (succeeded < 8 && std::chrono::steady_clock::now() < until) {
    auto page = server->Call("GET", "/v1/tasks?limit=100", key, nullptr, ns).json();
    int running = 0, waiting = 0;
    succeeded = 0;
    for (const auto& t : page["items"]) {
      running += t["status"] == "running";
      waiting += t["status"] == "pending";
      succeeded += t["status"] == "succeeded";
    }
    most_running = std::max(most_running, running);
    if (succeeded > 0 && running + waiting > 0) finished_while_others_waited = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(succeeded, 8);
  for (const auto& t :
       server->Call("GET", "/v1/tasks?limit=100", key, nullptr, ns).json()["items"]) {
    EXPECT_EQ(t["attempt"], 1) << t.dump();
  }
  EXPECT_LE(most_running, 2);
  EXPECT_TRUE(finished_while_others_waited);
}

TEST(TaskRetentionTest, FinishedTasksArePurgedAfterTheRetention) {
  TestServer::Options o;
  o.env = {"ARGUS_TASKS_RETENTION_S=1"};
  auto s = TestServer::Start(o);
  ASSERT_GT(s->port(), 0);
  ASSERT_EQ(s->Call("POST", "/v1/namespaces", s->admin_key(), {{"name", "r"}}).status, 201);
  auto t = s->Call("POST", "/v1/tasks", s->admin_key(), {{"kind", "noop"}},
                   {{"X-Namespace", "r"}, {"Prefer", "wait=5"}});
  ASSERT_EQ(t.json()["status"], "succeeded");
  std::string id = t.json()["id"];
  int status = 200;
  for (int i = 0; i < 100 && status == 200; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    status =
        s->Call("GET", "/v1/tasks/" + id, s->admin_key(), nullptr, {{"X-Namespace", "r"}}).status;
  }
  EXPECT_EQ(status, 404);
}

// The API learns kinds from the task catalog the workers publish to, not from the engine.
TEST_F(TasksTest, TaskKindsListWhatTheWorkersPublished) {
  auto r = Call("GET", "/v1/task-kinds");
  ASSERT_EQ(r.status, 200) << r.body;
  std::map<std::string, Json> kinds;
  for (const auto& k : r.json()["items"]) kinds[k["kind"]] = k;
  ASSERT_TRUE(kinds.count("sleep")) << r.body;
  EXPECT_EQ(kinds["sleep"]["submittable"], true);
  EXPECT_EQ(kinds["sleep"]["input_schema"]["type"], "object") << kinds["sleep"].dump();
  EXPECT_NE(std::find(kinds["sleep"]["queues"].begin(), kinds["sleep"]["queues"].end(), "cpu"),
            kinds["sleep"]["queues"].end());
  ASSERT_TRUE(kinds.count("sync.run")) << r.body;
  EXPECT_EQ(kinds["sync.run"]["submittable"], false);
  // The published schema is what a submission is checked against.
  auto bad = Call("POST", "/v1/tasks", {{"kind", "sleep"}, {"input", {{"seconds", "long"}}}});
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_NE(bad.body.find("seconds"), std::string::npos) << bad.body;
}

}  // namespace
}  // namespace argus::testing
