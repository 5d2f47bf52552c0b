// Durability of uploads under kill -9: 200 concurrent uploads (one client each), SIGKILL at a
// random moment, restart. Every acknowledged object is there with exactly the bytes sent; every
// visible object is complete (never a partial one) and has exactly one object.created event, and
// no event exists for an object that does not (the event commits with the object row); no orphan
// blob or temporary is left once the start-up collection ran. 3 trials here;
// ARGUS_UPLOAD_CRASH_TRIALS=10 for the slow run.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "core/crypto.h"
#include "tests/integration/test_server.h"

namespace argus::testing {
namespace {

constexpr int kUploads = 200;
constexpr int kClients = kUploads;  // all 200 in flight at once

std::string Sha(const std::string& bytes) { return HexEncode(Sha256(bytes)); }

struct Trial {
  std::map<std::string, std::string> sent;          // key → sha256 of every upload attempted
  std::map<std::string, std::string> acknowledged;  // key → sha256 the server confirmed
};

Trial UploadAndKill(TestServer& server, std::mt19937& rng) {
  Trial trial;
  std::mutex mu;
  std::atomic<int> next{0}, done{0};
  // Bodies of 1 KiB to 512 KiB; every one different (no dedupe shortcut).
  std::vector<std::string> bodies(kUploads);
  for (int i = 0; i < kUploads; ++i) {
    size_t size = std::uniform_int_distribution<size_t>(1024, 512 * 1024)(rng);
    bodies[i].resize(size);
    for (size_t j = 0; j < size; ++j) bodies[i][j] = static_cast<char>(rng());
    trial.sent["u/" + std::to_string(i)] = Sha(bodies[i]);
  }
  int delay_ms = std::uniform_int_distribution<int>(20, 400)(rng);
  std::thread killer([&] {
    while (done.load() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    ::kill(server.pid(), SIGKILL);
  });
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&] {
      for (int i = next.fetch_add(1); i < kUploads; i = next.fetch_add(1)) {
        std::string key = "u/" + std::to_string(i);
        auto r =
            Request(server.port(), "PUT", "/v1/buckets/b/objects/" + key,
                    {{"Authorization", "Bearer " + server.admin_key()}, {"X-Namespace", "crash"}},
                    bodies[i]);
        done.fetch_add(1);
        if (r.status == 0) return;  // the server is gone
        if (r.status == 201) {
          std::lock_guard lock(mu);
          trial.acknowledged[key] = r.json()["sha256"];
        }
      }
    });
  }
  for (auto& t : clients) t.join();
  done.fetch_add(1);
  killer.join();
  server.Stop(SIGKILL);
  return trial;
}

TEST(UploadCrashTest, AcknowledgedObjectsSurviveKill9Whole) {
  int trials = 3;
  if (const char* t = std::getenv("ARGUS_UPLOAD_CRASH_TRIALS")) trials = std::atoi(t);
  std::mt19937 rng(std::random_device{}());
  for (int trial_no = 0; trial_no < trials; ++trial_no) {
    SCOPED_TRACE("trial " + std::to_string(trial_no));
    std::string dir = NewTempDir("upload-crash");
    // Grace 0: the collection at start-up frees every blob no object refers to.
    const std::vector<std::string> env = {"ARGUS_BLOBS_GC_GRACE_S=0"};
    Trial trial;
    {
      auto server = TestServer::Start({.env = env, .data_dir = dir});
      ASSERT_GT(server->port(), 0) << server->Log();
      ASSERT_EQ(
          server->Call("POST", "/v1/namespaces", server->admin_key(), {{"name", "crash"}}).status,
          201);
      ASSERT_EQ(server
                    ->Call("POST", "/v1/buckets", server->admin_key(), {{"name", "b"}},
                           {{"X-Namespace", "crash"}})
                    .status,
                201);
      trial = UploadAndKill(*server, rng);
    }
    RecordProperty("acknowledged_trial_" + std::to_string(trial_no),
                   static_cast<int>(trial.acknowledged.size()));
    auto server = TestServer::Start({.env = env, .data_dir = dir});
    ASSERT_GT(server->port(), 0) << server->Log();
    std::map<std::string, std::string> visible;
    std::map<std::string, int> created_events;  // object id → its object.created events
    std::string cursor;
    for (int page = 0; page < 100; ++page) {
      auto r = server->Call("GET",
                            "/v1/buckets/b/objects?limit=1000" +
                                (cursor.empty() ? std::string() : "&cursor=" + cursor),
                            server->admin_key(), nullptr, {{"X-Namespace", "crash"}});
      ASSERT_EQ(r.status, 200) << r.body;
      for (const auto& o : r.json()["items"]) {
        visible[o["key"]] = o["sha256"];
        created_events[o["id"]] = 0;
      }
      if (r.json()["next_cursor"].is_null()) break;
      cursor = r.json()["next_cursor"];
    }
    for (const auto& [key, sha] : trial.acknowledged) {
      ASSERT_TRUE(visible.count(key)) << "acknowledged object " << key << " is gone";
      EXPECT_EQ(visible[key], sha) << key;
    }
    // Whatever is visible is whole: the bytes served hash to what the client sent for the key.
    for (const auto& [key, sha] : visible) {
      ASSERT_TRUE(trial.sent.count(key)) << key;
      EXPECT_EQ(sha, trial.sent[key]) << key;
      auto bytes =
          Request(server->port(), "GET", "/v1/buckets/b/content/" + key,
                  {{"Authorization", "Bearer " + server->admin_key()}, {"X-Namespace", "crash"}});
      ASSERT_EQ(bytes.status, 200) << key;
      EXPECT_EQ(Sha(bytes.body), sha) << key;
    }
    // One event per object, and none for an object that was never committed.
    auto events = RunProcess({"sqlite3", dir + "/metadata.db",
                              "SELECT subject_id FROM events WHERE type = 'object.created'"});
    ASSERT_EQ(events.exit_code, 0) << events.output;
    std::istringstream lines(events.output);
    for (std::string id; std::getline(lines, id);) {
      ASSERT_TRUE(created_events.count(id)) << "object.created for an object that does not exist";
      ++created_events[id];
    }
    for (const auto& [id, n] : created_events) EXPECT_EQ(n, 1) << "object " << id;
    // Exactly the referenced blobs remain, and no temporary.
    std::set<std::string> referenced;
    for (const auto& [key, sha] : visible) referenced.insert(sha);
    EXPECT_EQ(StoredBlobs(dir), referenced);
    std::error_code ec;
    EXPECT_TRUE(std::filesystem::is_empty(dir + "/blobs/tmp", ec) || ec);
    server.reset();
    std::filesystem::remove_all(dir, ec);
  }
}

}  // namespace
}  // namespace argus::testing
