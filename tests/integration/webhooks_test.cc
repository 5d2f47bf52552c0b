// /v1/webhooks: subscriptions, Standard Webhooks signatures checked by Python's hmac, retries with
// backoff, the delivery log, redelivery, auto-disable, secret rotation, the SSRF guard and
// delivery across a kill -9. The receiver is tests/integration/webhook_receiver.py on 127.0.0.1.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "core/clock.h"
#include "tests/integration/test_server.h"

extern char** environ;

namespace argus::testing {
namespace {

using namespace std::chrono_literals;

class Receiver {
 public:
  Receiver() : dir_(NewTempDir("hook")) {
    std::string script = SourceDir() + "/tests/integration/webhook_receiver.py";
    std::vector<char*> argv = {const_cast<char*>("python3"), script.data(), dir_.data(), nullptr};
    EXPECT_EQ(posix_spawnp(&pid_, "python3", nullptr, nullptr, argv.data(), environ), 0);
    for (int i = 0; i < 200 && port_ == 0; ++i) {
      std::ifstream f(dir_ + "/port");
      if (!(f >> port_)) std::this_thread::sleep_for(25ms);
    }
    EXPECT_GT(port_, 0) << "the receiver did not start";
  }
  ~Receiver() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string url(const std::string& host = "127.0.0.1") const {
    return "http://" + host + ":" + std::to_string(port_) + "/hook";
  }
  void Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ + "/" + name + ".tmp") << text;
    std::filesystem::rename(dir_ + "/" + name + ".tmp", dir_ + "/" + name);
  }
  void SetSecrets(const std::vector<std::string>& secrets) {
    std::string text;
    for (const auto& s : secrets) text += s + "\n";
    Write("secrets", text);
  }
  void SetStatuses(const std::string& statuses) { Write("statuses", statuses); }
  std::vector<Json> Log() const {
    std::vector<Json> out;
    std::ifstream f(dir_ + "/log.jsonl");
    for (std::string line; std::getline(f, line);) {
      Json j = Json::parse(line, nullptr, false);
      if (!j.is_discarded()) out.push_back(std::move(j));
    }
    return out;
  }
  /// Waits until at least `n` requests arrived (or the time is up) and returns the log.
  std::vector<Json> WaitFor(size_t n, std::chrono::milliseconds timeout = 20s) const {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    auto log = Log();
    while (log.size() < n && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(20ms);
      log = Log();
    }
    return log;
  }

 private:
  std::string dir_;
  pid_t pid_ = -1;
  int port_ = 0;
};

class WebhooksTest : public ::testing::Test {
 protected:
  void StartServer(std::vector<std::string> env = {}, std::string data_dir = "",
                   bool fresh = true) {
    env.insert(env.begin(), "ARGUS_WEBHOOKS_INITIAL_BACKOFF_S=0.2");
    env.push_back("ARGUS_WEBHOOKS_ALLOW_PRIVATE_TARGETS=true");
    server_ = TestServer::Start({.env = env, .data_dir = data_dir});
    ASSERT_GT(server_->port(), 0) << server_->Log();
    if (fresh) {
      ASSERT_EQ(server_->Call("POST", "/v1/namespaces", key(), {{"name", "a"}}).status, 201);
      ASSERT_EQ(server_->Call("POST", "/v1/namespaces", key(), {{"name", "b"}}).status, 201);
    }
  }
  const std::string& key() const { return server_->admin_key(); }
  HttpResult Call(const std::string& method, const std::string& path, const Json& body = nullptr,
                  const std::string& ns = "a") {
    return server_->Call(method, path, key(), body, {{"X-Namespace", ns}});
  }
  // Creates a webhook and tells the receiver its secret.
  Json Subscribe(const std::string& url, const Json& events) {
    auto r = Call("POST", "/v1/webhooks", {{"url", url}, {"events", events}});
    EXPECT_EQ(r.status, 201) << r.body;
    receiver_.SetSecrets({r.json().value("secret", "")});
    return r.json();
  }
  std::string RunTask(const std::string& kind = "noop") {
    auto r = server_->Call("POST", "/v1/tasks", key(), {{"kind", kind}},
                           {{"X-Namespace", "a"}, {"Prefer", "wait=10"}});
    EXPECT_EQ(r.json()["status"], "succeeded") << r.body;
    return r.json()["id"];
  }
  // Polls the delivery log until `pred` holds for the newest delivery.
  Json WaitForDelivery(const std::string& hook, const std::function<bool(const Json&)>& pred) {
    Json last;
    for (int i = 0; i < 400; ++i) {
      auto r = Call("GET", "/v1/webhooks/" + hook + "/deliveries");
      if (r.status == 200 && !r.json()["items"].empty()) {
        last = r.json()["items"][0];
        if (pred(last)) return last;
      }
      std::this_thread::sleep_for(25ms);
    }
    std::string log = server_->Log();
    ADD_FAILURE() << "delivery never reached the expected state; last: " << last.dump()
                  << "\nserver log (end): "
                  << log.substr(log.size() > 3000 ? log.size() - 3000 : 0);
    return last;
  }

  Receiver receiver_;
  std::unique_ptr<TestServer> server_;
};

TEST_F(WebhooksTest, CreateListGetUpdateDelete) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  Json w = Subscribe(receiver_.url(), {"task.succeeded", "task.failed"});
  std::string id = w["id"];
  EXPECT_EQ(std::string(w["secret"]).rfind("whsec_", 0), 0u);
  EXPECT_EQ(w["enabled"], true);
  auto got = Call("GET", "/v1/webhooks/" + id);
  ASSERT_EQ(got.status, 200);
  EXPECT_FALSE(got.json().contains("secret"));  // shown once, at creation
  EXPECT_EQ(got.json()["events"], Json({"task.succeeded", "task.failed"}));
  auto list = Call("GET", "/v1/webhooks");
  ASSERT_EQ(list.json()["items"].size(), 1u);
  EXPECT_EQ(Call("GET", "/v1/webhooks", nullptr, "b").json()["items"].size(), 0u);
  EXPECT_EQ(Call("GET", "/v1/webhooks/" + id, nullptr, "b").status, 404);  // other namespace
  auto patched = Call("PATCH", "/v1/webhooks/" + id,
                      {{"events", {"task.*"}}, {"description", "all task events"}});
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(patched.json()["events"], Json({"task.*"}));
  EXPECT_EQ(patched.json()["description"], "all task events");
  EXPECT_EQ(Call("DELETE", "/v1/webhooks/" + id).status, 204);
  EXPECT_EQ(Call("GET", "/v1/webhooks/" + id).status, 404);
}

TEST_F(WebhooksTest, RejectsBadSubscriptions) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  struct Bad {
    Json body;
    std::string says;
  };
  for (const auto& [body, says] : std::vector<Bad>{
           {{{"url", "ftp://example.com/x"}, {"events", {"task.failed"}}}, "http://"},
           {{{"url", "https://user:pw@example.com/x"}, {"events", {"task.failed"}}}, "credentials"},
           {{{"url", "https://example.com:99999/x"}, {"events", {"task.failed"}}}, "port"},
           {{{"url", "https://example.com/x"}, {"events", {"task.finished"}}}, "unknown event"},
           {{{"url", "https://example.com/x"}, {"events", Json::array()}}, "events"},
           {{{"url", "https://example.com/x"}, {"events", {"task.failed"}}, {"extra", 1}}, "extra"},
       }) {
    auto r = Call("POST", "/v1/webhooks", body);
    EXPECT_TRUE(r.status == 400 || r.status == 422) << body.dump() << " → " << r.body;
    EXPECT_NE(r.body.find(says), std::string::npos) << r.body;
  }
}

TEST_F(WebhooksTest, DeliversSignedEventsThatPythonVerifies) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  Json w = Subscribe(receiver_.url(), {"task.succeeded"});
  auto before = std::chrono::system_clock::now();
  std::string task = RunTask();
  auto log = receiver_.WaitFor(1);
  ASSERT_EQ(log.size(), 1u);
  const Json& got = log[0];
  EXPECT_EQ(got["matched"], Json({0})) << got.dump();  // the signature verifies with the secret
  EXPECT_EQ(got["content_type"], "application/json");
  EXPECT_EQ(std::string(got["id"]).rfind("evt_", 0), 0u);
  int64_t ts = std::stoll(std::string(got["timestamp"]));
  int64_t now_s =
      std::chrono::duration_cast<std::chrono::seconds>(before.time_since_epoch()).count();
  EXPECT_NEAR(static_cast<double>(ts), static_cast<double>(now_s), 10);
  Json body = Json::parse(std::string(got["body"]));
  EXPECT_EQ(body["type"], "task.succeeded");
  EXPECT_EQ(body["data"]["id"], task);
  EXPECT_EQ(body["data"]["status"], "succeeded");
  EXPECT_TRUE(body["timestamp"].is_string());
  // Only the subscribed type: no task.created / task.started.
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(receiver_.Log().size(), 1u);
  Json d = WaitForDelivery(w["id"], [](const Json& d) { return d["status"] == "succeeded"; });
  EXPECT_EQ(d["attempts"], 1);
  EXPECT_EQ(d["last_status_code"], 200);
  EXPECT_EQ(d["event_id"], got["id"]);
}

TEST_F(WebhooksTest, RetriesWithBackoffAndLogsEveryAttempt) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  receiver_.SetStatuses("500,503,200");
  Json w = Subscribe(receiver_.url(), {"task.succeeded"});
  RunTask();
  auto log = receiver_.WaitFor(3);
  ASSERT_EQ(log.size(), 3u);
  // The same event each time: one webhook-id, one body.
  EXPECT_EQ(log[0]["id"], log[1]["id"]);
  EXPECT_EQ(log[1]["id"], log[2]["id"]);
  EXPECT_EQ(log[0]["body"], log[2]["body"]);
  Json d = WaitForDelivery(w["id"], [](const Json& d) { return d["status"] == "succeeded"; });
  EXPECT_EQ(d["attempts"], 3);
  auto one =
      Call("GET", "/v1/webhooks/" + std::string(w["id"]) + "/deliveries/" + std::string(d["id"]));
  ASSERT_EQ(one.status, 200) << one.body;
  const Json& attempts = one.json()["attempt_log"];
  ASSERT_EQ(attempts.size(), 3u) << one.body;
  EXPECT_EQ(attempts[0]["status_code"], 500);
  EXPECT_NE(std::string(attempts[0]["error"]).find("HTTP 500"), std::string::npos);
  EXPECT_EQ(attempts[1]["status_code"], 503);
  EXPECT_EQ(attempts[2]["status_code"], 200);
  EXPECT_TRUE(attempts[2]["error"].is_null());
  for (const auto& a : attempts) EXPECT_GE(a["latency_ms"].get<double>(), 0);
  // Exponential backoff: about 0.2 s, then 0.4 s (±20 %) between attempts.
  auto at = [&](int i) {
    TimestampUs t = 0;
    EXPECT_TRUE(ParseRfc3339(attempts[i]["at"].get<std::string>(), &t));
    return t;
  };
  EXPECT_GE(at(1) - at(0), 160'000);
  EXPECT_GE(at(2) - at(1), 320'000);
  EXPECT_EQ(one.json()["payload"]["type"], "task.succeeded");
  auto failed_only =
      Call("GET", "/v1/webhooks/" + std::string(w["id"]) + "/deliveries?status=failed");
  EXPECT_EQ(failed_only.json()["items"].size(), 0u);
}

TEST_F(WebhooksTest, GivesUpAfterMaxAttemptsAndRedeliversOnRequest) {
  ASSERT_NO_FATAL_FAILURE(StartServer({"ARGUS_WEBHOOKS_MAX_ATTEMPTS=2"}));
  receiver_.SetStatuses("500");
  Json w = Subscribe(receiver_.url(), {"task.succeeded"});
  std::string hook = w["id"];
  RunTask();
  Json d = WaitForDelivery(hook, [](const Json& d) { return d["status"] == "failed"; });
  EXPECT_EQ(d["attempts"], 2);
  EXPECT_EQ(d["last_status_code"], 500);
  EXPECT_EQ(receiver_.Log().size(), 2u);
  receiver_.SetStatuses("200");
  auto r =
      Call("POST", "/v1/webhooks/" + hook + "/deliveries/" + std::string(d["id"]) + "/redeliver");
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(r.json()["status"], "pending");
  d = WaitForDelivery(hook, [](const Json& d) { return d["status"] == "succeeded"; });
  EXPECT_EQ(d["attempts"], 3);
  auto log = receiver_.Log();
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(log[2]["id"], log[0]["id"]);  // receivers can drop the repeat by webhook-id
  EXPECT_EQ(
      Call("POST", "/v1/webhooks/" + hook + "/deliveries/" + std::string(d["id"]) + "/redeliver",
           nullptr, "b")
          .status,
      404);
}

TEST_F(WebhooksTest, DisablesAWebhookAfterARunOfFailures) {
  ASSERT_NO_FATAL_FAILURE(
      StartServer({"ARGUS_WEBHOOKS_MAX_ATTEMPTS=1", "ARGUS_WEBHOOKS_DISABLE_AFTER_FAILURES=3"}));
  receiver_.SetStatuses("500");
  Json w = Subscribe(receiver_.url(), {"task.succeeded"});
  std::string hook = w["id"];
  for (int i = 0; i < 3; ++i) RunTask();
  Json got;
  for (int i = 0; i < 400; ++i) {
    got = Call("GET", "/v1/webhooks/" + hook).json();
    if (got["enabled"] == false) break;
    std::this_thread::sleep_for(25ms);
  }
  ASSERT_EQ(got["enabled"], false) << got.dump();
  EXPECT_NE(std::string(got["disabled_reason"]).find("3 consecutive failed"), std::string::npos);
  RunTask();  // no delivery for a disabled webhook
  std::this_thread::sleep_for(400ms);
  EXPECT_EQ(receiver_.Log().size(), 3u);
  receiver_.SetStatuses("200");
  auto r = Call("PATCH", "/v1/webhooks/" + hook, {{"enabled", true}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["consecutive_failures"], 0);
  EXPECT_TRUE(r.json()["disabled_reason"].is_null());
  RunTask();
  auto log = receiver_.WaitFor(4);
  EXPECT_EQ(log.size(), 4u);
}

TEST_F(WebhooksTest, RotatedSecretsSignSideBySideDuringTheGracePeriod) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  Json w = Subscribe(receiver_.url(), {"task.succeeded"});
  std::string old_secret = w["secret"];
  auto r =
      Call("POST", "/v1/webhooks/" + std::string(w["id"]) + "/rotate-secret", {{"grace_s", 3600}});
  ASSERT_EQ(r.status, 200) << r.body;
  std::string new_secret = r.json()["secret"];
  EXPECT_NE(new_secret, old_secret);
  EXPECT_TRUE(r.json()["previous_secret_expires_at"].is_string());
  receiver_.SetSecrets({old_secret, new_secret});
  RunTask();
  auto log = receiver_.WaitFor(1);
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0]["matched"], Json({0, 1})) << log[0].dump();
  // Rotating with no grace period drops the old secret at once.
  r = Call("POST", "/v1/webhooks/" + std::string(w["id"]) + "/rotate-secret", {{"grace_s", 0}});
  ASSERT_EQ(r.status, 200);
  receiver_.SetSecrets({old_secret, new_secret, r.json()["secret"]});
  RunTask();
  log = receiver_.WaitFor(2);
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[1]["matched"], Json({2})) << log[1].dump();
}

// Without webhooks.allow_private_targets: a loopback literal is refused when subscribing, and a
// name that resolves to loopback is refused on the connection, so nothing reaches the receiver.
TEST_F(WebhooksTest, RefusesPrivateTargetsByDefault) {
  server_ = TestServer::Start({.env = {"ARGUS_WEBHOOKS_MAX_ATTEMPTS=1"}});
  ASSERT_EQ(server_->Call("POST", "/v1/namespaces", key(), {{"name", "a"}}).status, 201);
  for (const std::string host : {"127.0.0.1", "[::1]", "10.0.0.1", "169.254.169.254"}) {
    auto r =
        Call("POST", "/v1/webhooks", {{"url", "http://" + host + ":8080/x"}, {"events", {"*"}}});
    EXPECT_EQ(r.status, 400) << host << ": " << r.body;
    EXPECT_NE(r.body.find("allow_private_targets"), std::string::npos) << r.body;
  }
  Json w = Subscribe(receiver_.url("localhost"), {"task.succeeded"});
  RunTask();
  Json d = WaitForDelivery(w["id"], [](const Json& d) { return d["status"] == "failed"; });
  EXPECT_NE(std::string(d["last_error"]).find("not a public address"), std::string::npos)
      << d.dump();
  EXPECT_TRUE(receiver_.Log().empty());
}

TEST_F(WebhooksTest, PendingDeliveriesSurviveKill9) {
  std::string dir = NewTempDir("data");
  ASSERT_NO_FATAL_FAILURE(StartServer({"ARGUS_WEBHOOKS_INITIAL_BACKOFF_S=1"}, dir));
  receiver_.SetStatuses("500,200");
  Json w = Subscribe(receiver_.url(), {"task.succeeded"});
  RunTask();
  ASSERT_EQ(receiver_.WaitFor(1).size(), 1u);  // the first attempt failed; a retry is due
  // Killed once that attempt is recorded (pending, retry due in ~1 s). Killed before, the attempt
  // would still be leased and come back only after its lease (40 s): another case.
  WaitForDelivery(w["id"], [](const Json& d) { return d["attempts"].get<int>() >= 1; });
  server_->Stop(SIGKILL);
  server_.reset();
  ASSERT_NO_FATAL_FAILURE(StartServer({}, dir, /*fresh=*/false));
  auto log = receiver_.WaitFor(2);
  ASSERT_GE(log.size(), 2u);
  EXPECT_EQ(log[1]["id"], log[0]["id"]);
  EXPECT_EQ(log[1]["status"], 200);
  WaitForDelivery(w["id"], [](const Json& d) { return d["status"] == "succeeded"; });
  server_.reset();
  std::filesystem::remove_all(dir);
}

TEST_F(WebhooksTest, EventsWaitInTheOutboxWhileDispatchIsOff) {
  std::string dir = NewTempDir("data");
  ASSERT_NO_FATAL_FAILURE(StartServer({"ARGUS_WEBHOOKS_DISPATCH=false"}, dir));
  Json w = Subscribe(receiver_.url(), {"task.succeeded"});
  std::set<std::string> tasks;
  for (int i = 0; i < 3; ++i) tasks.insert(RunTask());
  std::this_thread::sleep_for(500ms);
  EXPECT_TRUE(receiver_.Log().empty()) << "delivered while webhooks.dispatch was false";
  EXPECT_TRUE(Call("GET", "/v1/webhooks/" + w["id"].get<std::string>() + "/deliveries")
                  .json()["items"]
                  .empty());
  server_->Stop();
  server_.reset();
  ASSERT_NO_FATAL_FAILURE(StartServer({}, dir, /*fresh=*/false));
  auto log = receiver_.WaitFor(3);
  ASSERT_EQ(log.size(), 3u);
  std::set<std::string> delivered;
  for (const Json& entry : log) {
    delivered.insert(Json::parse(entry["body"].get<std::string>())["data"]["id"]);
  }
  EXPECT_EQ(delivered, tasks);
  server_.reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace argus::testing
