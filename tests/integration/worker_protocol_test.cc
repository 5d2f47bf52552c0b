// External workers: the lease / heartbeat / complete / fail protocol, and the Python example.
#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "tests/integration/test_server.h"

namespace argus::testing {
namespace {

class WorkerProtocolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = TestServer::Start();
    ASSERT_GT(server_->port(), 0) << server_->Log();
    ASSERT_EQ(Admin("POST", "/v1/namespaces", {{"name", "w"}}).status, 201);
  }
  HttpResult Admin(const std::string& method, const std::string& path, const Json& body = nullptr,
                   std::map<std::string, std::string> headers = {}) {
    return server_->Call(method, path, server_->admin_key(), body, headers);
  }
  HttpResult InNs(const std::string& method, const std::string& path, const Json& body = nullptr) {
    return Admin(method, path, body, {{"X-Namespace", "w"}});
  }
  ProcessResult RunWorker(std::vector<std::string> extra) {
    std::vector<std::string> argv = {"python3", SourceDir() + "/examples/worker.py"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return RunProcess(argv, {"ARGUS_URL=http://127.0.0.1:" + std::to_string(server_->port()),
                             "ARGUS_API_KEY=" + server_->admin_key(), "ARGUS_NAMESPACE=w"});
  }
  std::unique_ptr<TestServer> server_;
};

TEST_F(WorkerProtocolTest, PythonExampleRunsItsKind) {
  auto t = InNs("POST", "/v1/tasks", {{"kind", "text.upper"}, {"input", {{"text", "abc"}}}});
  ASSERT_EQ(t.status, 201) << t.body;
  auto run = RunWorker({"--max-tasks", "1", "--wait", "5", "--worker-id", "py-test"});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  auto done = InNs("GET", "/v1/tasks/" + t.json()["id"].get<std::string>());
  EXPECT_EQ(done.json()["status"], "succeeded") << done.body;
  EXPECT_EQ(done.json()["result"]["text"], "ABC");
  EXPECT_EQ(done.json()["worker_id"], "py-test");
  auto workers = Admin("GET", "/v1/workers").json();
  bool listed = false;
  for (const auto& w : workers["items"]) listed = listed || w["id"] == "py-test";
  EXPECT_TRUE(listed) << workers.dump();
}

// An external worker publishes its kinds: they are listed with Argus's own, submissions are
// checked against the published schema and go to the kind's queue, and Argus's kinds stay its own.
TEST_F(WorkerProtocolTest, ExternalWorkersPublishTheirKindsToTheCatalog) {
  auto first = InNs("POST", "/v1/tasks",
                    {{"kind", "text.upper"}, {"input", {{"text", "abc"}}}, {"queue", "gpu"}});
  ASSERT_EQ(first.status, 201) << first.body;
  auto run = RunWorker(
      {"--publish", "--queues", "gpu", "--max-tasks", "1", "--wait", "5", "--kinds", "text.upper"});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  auto published = Admin("GET", "/v1/task-kinds/text.upper");
  ASSERT_EQ(published.status, 200) << published.body;
  EXPECT_EQ(published.json()["published_by"], "external");
  EXPECT_EQ(published.json()["submittable"], true);
  EXPECT_EQ(published.json()["input_schema"]["required"], Json::array({"text"}));
  EXPECT_NE(published.json()["description"].get<std::string>().find("text.upper"),
            std::string::npos)
      << published.body;
  auto put = Admin("PUT", "/v1/task-kinds/text.upper",
                   {{"description", "upper-cases"},
                    {"input_schema",
                     {{"type", "object"},
                      {"required", {"text"}},
                      {"properties", {{"text", {{"type", "string"}}}}}}},
                    {"queues", {"gpu"}}});
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(put.json()["description"], "upper-cases");
  auto bad = InNs("POST", "/v1/tasks", {{"kind", "text.upper"}, {"input", {{"text", 7}}}});
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_NE(bad.body.find("text"), std::string::npos) << bad.body;
  auto good = InNs("POST", "/v1/tasks", {{"kind", "text.upper"}, {"input", {{"text", "abc"}}}});
  ASSERT_EQ(good.status, 201) << good.body;
  EXPECT_EQ(good.json()["queue"], "gpu") << "the kind's queue when the submission names none";
  // Limits are part of the kind as the catalog shows it.
  ASSERT_EQ(Admin("PUT", "/v1/task-kinds/text.upper/limits", {{"max_running", 2}}).status, 200);
  auto one = Admin("GET", "/v1/task-kinds/text.upper");
  ASSERT_EQ(one.status, 200) << one.body;
  EXPECT_EQ(one.json()["description"], "upper-cases");
  EXPECT_EQ(one.json()["queues"], Json::array({"gpu"}));
  EXPECT_EQ(one.json()["limits"]["max_running"], 2);
  auto sleep = Admin("GET", "/v1/task-kinds/sleep");
  ASSERT_EQ(sleep.status, 200) << sleep.body;
  EXPECT_EQ(sleep.json()["published_by"], "argus");
  EXPECT_EQ(sleep.json()["limits"]["max_running"], 0);
  EXPECT_EQ(Admin("GET", "/v1/task-kinds/nope").status, 404);
  // Argus's own kinds cannot be replaced or removed; a namespace key cannot publish; a schema
  // that does not compile is refused naming the field.
  auto hijack = Admin("PUT", "/v1/task-kinds/sleep", {{"description", "mine now"}});
  EXPECT_EQ(hijack.status, 409) << hijack.body;
  EXPECT_EQ(Admin("DELETE", "/v1/task-kinds/sleep").status, 409);
  auto ns_admin = InNs("POST", "/v1/keys", {{"name", "e"}, {"role", "admin"}}).json()["secret"];
  EXPECT_EQ(server_
                ->Call("PUT", "/v1/task-kinds/ext.mine", ns_admin.get<std::string>(),
                       {{"description", "x"}}, {{"X-Namespace", "w"}})
                .status,
            403);
  auto broken = Admin("PUT", "/v1/task-kinds/ext.broken", {{"input_schema", {{"type", 7}}}});
  EXPECT_EQ(broken.status, 400) << broken.body;
  EXPECT_NE(broken.body.find("input_schema"), std::string::npos) << broken.body;
  EXPECT_EQ(Admin("PUT", "/v1/task-kinds/Bad Name", Json::object()).status, 400);
  // Removed: the kind is unknown again and its input goes unchecked to its workers.
  EXPECT_EQ(Admin("DELETE", "/v1/task-kinds/text.upper").status, 204);
  EXPECT_EQ(Admin("GET", "/v1/task-kinds/text.upper").status, 404);
  EXPECT_EQ(InNs("POST", "/v1/tasks", {{"kind", "text.upper"}, {"input", {{"text", 7}}}}).status,
            201);
}

TEST_F(WorkerProtocolTest, FailuresAreRetriedThenDeadLettered) {
  auto t =
      InNs("POST", "/v1/tasks",
           {{"kind", "text.fail"}, {"retry", {{"max_attempts", 2}, {"initial_interval_s", 0.05}}}});
  ASSERT_EQ(t.status, 201) << t.body;
  auto run = RunWorker({"--max-tasks", "2", "--wait", "5", "--kinds", "text.fail"});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  auto done = InNs("GET", "/v1/tasks/" + t.json()["id"].get<std::string>()).json();
  EXPECT_EQ(done["status"], "failed") << done.dump();
  EXPECT_EQ(done["attempt"], 2);
  EXPECT_EQ(done["error"]["code"], "always_fails");
  auto dead = InNs("GET", "/v1/tasks?status=failed").json();
  ASSERT_EQ(dead["items"].size(), 1u);
  // Attempts finished by external workers count in the autoscaling metrics too.
  std::string metrics = Request(server_->port(), "GET", "/metrics").body;
  EXPECT_NE(metrics.find("argus_tasks_total{kind=\"text.fail\",status=\"scheduled\"} 1"),
            std::string::npos);
  EXPECT_NE(metrics.find("argus_tasks_total{kind=\"text.fail\",status=\"failed\"} 1"),
            std::string::npos);
  EXPECT_NE(metrics.find("argus_task_retries_total 1"), std::string::npos);
  EXPECT_NE(metrics.find("argus_task_duration_seconds_count{kind=\"text.fail\"} 2"),
            std::string::npos);
  // A dead-lettered task can be retried by API.
  EXPECT_EQ(InNs("POST", "/v1/tasks/" + done["id"].get<std::string>() + "/retry", Json::object())
                .json()["status"],
            "pending");
}

TEST_F(WorkerProtocolTest, StaleLeaseIsRejected) {
  auto t = InNs("POST", "/v1/tasks", {{"kind", "ext.job"}});
  std::string id = t.json()["id"];
  auto first = InNs("POST", "/v1/workers/lease",
                    {{"worker_id", "a"}, {"kinds", {"ext.job"}}, {"lease_s", 1}});
  ASSERT_EQ(first.json()["tasks"].size(), 1u) << first.body;
  std::string old_lease = first.json()["tasks"][0]["lease_id"];
  // The lease expires (worker "a" is presumed dead) and the task goes to worker "b".
  Json second;
  for (int i = 0; i < 100 && second.is_null(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    auto r = InNs("POST", "/v1/workers/lease", {{"worker_id", "b"}, {"kinds", {"ext.job"}}});
    if (!r.json()["tasks"].empty()) second = r.json()["tasks"][0];
  }
  ASSERT_FALSE(second.is_null());
  EXPECT_NE(second["lease_id"], old_lease);
  EXPECT_EQ(second["attempt"], 2);
  auto stale = InNs("POST", "/v1/tasks/" + id + "/complete", {{"lease_id", old_lease}});
  EXPECT_EQ(stale.status, 409) << stale.body;
  EXPECT_EQ(stale.json()["error"]["code"], "aborted");
  auto beat = InNs("POST", "/v1/tasks/" + id + "/heartbeat",
                   {{"lease_id", second["lease_id"]}, {"progress", 0.5}, {"message", "half"}});
  ASSERT_EQ(beat.status, 200) << beat.body;
  EXPECT_EQ(beat.json()["progress"]["fraction"], 0.5);
  auto ok = InNs("POST", "/v1/tasks/" + id + "/complete",
                 {{"lease_id", second["lease_id"]}, {"result", {{"n", 1}}}});
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(ok.json()["status"], "succeeded");
}

TEST_F(WorkerProtocolTest, LeaseLongPollsUntilWorkArrives) {
  auto start = std::chrono::steady_clock::now();
  auto empty = InNs("POST", "/v1/workers/lease",
                    {{"worker_id", "poller"}, {"kinds", {"ext.later"}}, {"wait_s", 1}});
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(900));
  EXPECT_TRUE(empty.json()["tasks"].empty());
  auto leased = std::async(std::launch::async, [this] {
    return InNs("POST", "/v1/workers/lease",
                {{"worker_id", "poller"}, {"kinds", {"ext.later"}}, {"wait_s", 10}});
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  start = std::chrono::steady_clock::now();
  InNs("POST", "/v1/tasks", {{"kind", "ext.later"}});
  auto r = leased.get();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  ASSERT_EQ(r.json()["tasks"].size(), 1u) << r.body;
}

TEST_F(WorkerProtocolTest, ViewersCannotLeaseAndOtherNamespacesCannotTouch) {
  auto viewer = InNs("POST", "/v1/keys", {{"name", "v"}, {"role", "viewer"}});
  std::string vkey = viewer.json()["secret"];
  auto r = server_->Call("POST", "/v1/workers/lease", vkey, {{"worker_id", "x"}});
  EXPECT_EQ(r.status, 403);
  Admin("POST", "/v1/namespaces", {{"name", "other"}});
  auto okey =
      Admin("POST", "/v1/keys", {{"name", "o"}, {"role", "editor"}}, {{"X-Namespace", "other"}})
          .json()["secret"]
          .get<std::string>();
  auto t = InNs("POST", "/v1/tasks", {{"kind", "ext.private"}});
  std::string id = t.json()["id"];
  auto leased = server_->Call("POST", "/v1/workers/lease", okey,
                              {{"worker_id", "o"}, {"kinds", {"ext.private"}}});
  EXPECT_TRUE(leased.json()["tasks"].empty()) << leased.body;
  auto poke = server_->Call("POST", "/v1/tasks/" + id + "/complete", okey, {{"lease_id", "x"}});
  EXPECT_EQ(poke.status, 404);
}

}  // namespace
}  // namespace argus::testing
