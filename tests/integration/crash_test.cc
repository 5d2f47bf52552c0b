// Durability under kill -9: every task the server acknowledged survives, and reaches exactly
// one terminal state after a restart. 3 trials here; ARGUS_CRASH_TRIALS=20 for the slow run.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <filesystem>
#include <random>
#include <set>
#include <thread>

#include "tests/integration/test_server.h"

namespace argus::testing {
namespace {

constexpr int kTasks = 10000;
constexpr int kBatch = 100;

struct Trial {
  std::vector<std::string> acknowledged;
  bool killed_mid_submit = false;
};

// Submits kTasks no-op tasks in batches until done or the server dies; SIGKILL lands at a
// random moment from another thread.
Trial SubmitAndKill(TestServer& server, std::mt19937& rng) {
  Trial trial;
  std::atomic<bool> dead{false};
  std::atomic<int> batches{0};
  int delay_ms = std::uniform_int_distribution<int>(0, 800)(rng);
  // The kill lands at a random moment once submission is under way.
  std::thread killer([&] {
    while (batches.load() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    ::kill(server.pid(), SIGKILL);
    dead = true;
  });
  for (int sent = 0; sent < kTasks; sent += kBatch) {
    Json tasks = Json::array();
    for (int i = 0; i < kBatch; ++i) {
      tasks.push_back({{"kind", "noop"}, {"idempotency_key", "t-" + std::to_string(sent + i)}});
    }
    auto r = server.Call("POST", "/v1/tasks/batch", server.admin_key(), {{"tasks", tasks}},
                         {{"X-Namespace", "crash"}});
    if (r.status != 201) {
      EXPECT_TRUE(dead.load() || r.status == 0) << "unexpected answer " << r.status << r.body;
      trial.killed_mid_submit = true;
      break;
    }
    for (const auto& t : r.json()["tasks"]) trial.acknowledged.push_back(t["id"]);
    batches.fetch_add(1);
  }
  batches.fetch_add(1);  // release the killer if every batch went through first
  killer.join();
  server.Stop(SIGKILL);  // reap it
  return trial;
}

TEST(CrashTest, AcknowledgedTasksSurviveKill9AndFinishExactlyOnce) {
  const char* env = std::getenv("ARGUS_CRASH_TRIALS");
  int trials = env ? std::atoi(env) : 3;
  std::mt19937 rng(std::random_device{}());
  for (int trial_no = 0; trial_no < trials; ++trial_no) {
    SCOPED_TRACE("trial " + std::to_string(trial_no));
    std::string dir = NewTempDir("crash");
    TestServer::Options o;
    o.data_dir = dir;
    // Up to 10,000 acknowledged tasks are checked with one GET each, as fast as the loop goes:
    // far above the default rate limits, which are not what this test is about.
    o.env = {"ARGUS_RATE_LIMIT_PER_KEY_RPS=0", "ARGUS_RATE_LIMIT_PER_IP_RPS=0"};
    auto first = TestServer::Start(o);
    ASSERT_GT(first->port(), 0) << first->Log();
    std::string admin = first->admin_key();
    ASSERT_EQ(first->Call("POST", "/v1/namespaces", admin, {{"name", "crash"}}).status, 201);
    Trial trial = SubmitAndKill(*first, rng);
    ASSERT_FALSE(trial.acknowledged.empty());

    auto second = TestServer::Start(o);
    ASSERT_GT(second->port(), 0) << second->Log();
    // Wait until the restarted server has run everything that was recorded.
    for (int i = 0; i < 3000; ++i) {
      auto q = second->Call("GET", "/v1/queues", admin).json();
      int64_t open = 0;
      for (const auto& s : q["items"]) {
        open += s["pending"].get<int64_t>() + s["scheduled"].get<int64_t>() +
                s["running"].get<int64_t>();
      }
      if (open == 0) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    for (const auto& id : trial.acknowledged) {
      auto t = second->Call("GET", "/v1/tasks/" + id, admin, nullptr, {{"X-Namespace", "crash"}});
      ASSERT_EQ(t.status, 200) << "acknowledged task " << id << " was lost";
      ASSERT_EQ(t.json()["status"], "succeeded") << t.body;
    }
    second->Stop();
    // Exactly one terminal event per task, for every task the database holds.
    auto dup = RunProcess({"sqlite3", dir + "/metadata.db",
                           "SELECT count(*) FROM (SELECT subject_id FROM events WHERE type IN "
                           "('task.succeeded','task.failed','task.cancelled') GROUP BY subject_id "
                           "HAVING count(*) != 1)"});
    EXPECT_EQ(dup.output, "0\n") << dup.output;
    auto open = RunProcess({"sqlite3", dir + "/metadata.db",
                            "SELECT count(*) FROM tasks WHERE status != 'succeeded'"});
    EXPECT_EQ(open.output, "0\n") << open.output;
    std::cout << "trial " << trial_no << ": " << trial.acknowledged.size()
              << " acknowledged before kill -9, all succeeded exactly once\n";
    std::filesystem::remove_all(dir);
  }
}

}  // namespace
}  // namespace argus::testing
