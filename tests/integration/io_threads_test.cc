// Nothing slow on the I/O threads: the real server with its blobs on tests/s3/fake_s3.py, an S3
// server that answers after seconds on command. Health checks and small authenticated requests
// are answered at once while slow backend calls run (a generous 1 s bound: the point is that
// they do not wait for the backend at all), a full blocking pool answers 503 with Retry-After,
// and completing a resumable upload is a task that leaves every other request alone.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "core/crypto.h"
#include "tests/integration/test_server.h"

extern char** environ;

namespace argus::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// A request answered later than this waited for something it should not have.
constexpr auto kFastBound = 1s;

class FakeS3 {
 public:
  explicit FakeS3(bool ignore_range = false) : dir_(NewTempDir("fake-s3")) {
    std::string script = SourceDir() + "/tests/s3/fake_s3.py";
    std::vector<std::string> args = {"python3", script, "--dir", dir_};
    if (ignore_range) args.push_back("--ignore-range");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    EXPECT_EQ(posix_spawnp(&pid_, "python3", nullptr, nullptr, argv.data(), environ), 0);
    for (int i = 0; i < 400 && port_ == 0; ++i) {
      std::ifstream f(dir_ + "/port");
      if (!(f >> port_)) std::this_thread::sleep_for(25ms);
    }
    EXPECT_GT(port_, 0) << "fake_s3.py did not start";
  }
  ~FakeS3() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  /// Every later S3 request is answered `ms` after it arrived.
  void SetDelay(int ms) {
    auto r = Request(port_, "POST", "/_control?delay_ms=" + std::to_string(ms));
    ASSERT_EQ(r.status, 200) << r.body;
  }
  /// S3 requests seen so far.
  int64_t Requests() { return Request(port_, "GET", "/_control").json().value("requests", -1); }

  /// What the server needs to keep its blobs here.
  std::vector<std::string> ServerEnv() const {
    return {"ARGUS_BLOBS_BACKEND=s3",
            "ARGUS_BLOBS_S3_ENDPOINT=http://127.0.0.1:" + std::to_string(port_),
            "ARGUS_BLOBS_S3_BUCKET=argus-test", "ARGUS_BLOBS_S3_ACCESS_KEY_ID=test",
            "ARGUS_BLOBS_S3_SECRET_ACCESS_KEY=test-secret"};
  }

 private:
  std::string dir_;
  pid_t pid_ = -1;
  int port_ = 0;
};

// The probes of one round: a health check and small authenticated requests, each on a new
// connection (so they land on every I/O thread), timed.
struct Probe {
  std::string method, path;
  bool authenticated;
};

class IoThreadsTest : public ::testing::Test {
 protected:
  void StartServer(std::vector<std::string> env = {}) {
    auto all = s3_.ServerEnv();
    all.insert(all.end(), env.begin(), env.end());
    server_ = TestServer::Start({.env = all});
    ASSERT_GT(server_->port(), 0) << server_->Log();
    ASSERT_EQ(Call("POST", "/v1/namespaces", {{"name", "a"}}).status, 201);
    ASSERT_EQ(Call("POST", "/v1/buckets", {{"name", "media"}}).status, 201);
  }
  HttpResult Call(const std::string& method, const std::string& path, const Json& body = nullptr,
                  std::map<std::string, std::string> headers = {}) {
    headers["X-Namespace"] = "a";
    return server_->Call(method, path, server_->admin_key(), body, headers);
  }
  std::map<std::string, std::string> Auth() {
    return {{"Authorization", "Bearer " + server_->admin_key()}, {"X-Namespace", "a"}};
  }
  HttpResult Put(const std::string& path, const std::string& body) {
    return Request(server_->port(), "PUT", path, Auth(), body);
  }

  // Runs rounds of probes until `done()` (checked between rounds) or `at_most`, and returns
  // the slowest answer; every probe must answer 200.
  Clock::duration ProbeWhile(const std::function<bool()>& done, Clock::duration at_most) {
    const std::vector<Probe> probes = {{"GET", "/healthz", false},
                                       {"GET", "/v1/whoami", true},
                                       {"GET", "/v1/buckets/media", true},
                                       {"GET", "/healthz", false},
                                       {"GET", "/v1/whoami", true}};
    Clock::duration slowest{};
    auto until = Clock::now() + at_most;
    int rounds = 0;
    while ((rounds < 3 || !done()) && Clock::now() < until) {
      for (const Probe& p : probes) {
        auto start = Clock::now();
        auto r = Request(server_->port(), p.method, p.path,
                         p.authenticated ? Auth() : std::map<std::string, std::string>{});
        auto took = Clock::now() - start;
        EXPECT_EQ(r.status, 200) << p.path << ": " << r.body;
        slowest = std::max(slowest, took);
      }
      ++rounds;
      std::this_thread::sleep_for(50ms);
    }
    return slowest;
  }

  FakeS3 s3_;
  std::unique_ptr<TestServer> server_;
};

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

TEST_F(IoThreadsTest, SlowBackendCallsLeaveOtherRequestsFast) {
  StartServer();
  s3_.SetDelay(3000);
  // Each upload waits 3 s for the S3 PUT that publishes its blob.
  std::atomic<int> uploads_done{0};
  std::vector<std::thread> uploads;
  for (int i = 0; i < 4; ++i) {
    uploads.emplace_back([&, i] {
      auto r =
          Put("/v1/buckets/media/objects/slow-" + std::to_string(i), "bytes " + std::to_string(i));
      EXPECT_EQ(r.status, 201) << r.body;
      ++uploads_done;
    });
  }
  auto slowest = ProbeWhile([&] { return uploads_done.load() == 4; }, 30s);
  for (auto& t : uploads) t.join();
  EXPECT_LT(slowest, kFastBound) << "a request waited " << Seconds(slowest)
                                 << " s behind slow S3 calls";
}

TEST_F(IoThreadsTest, AFullBlockingPoolAnswers503WithRetryAfter) {
  StartServer({"ARGUS_HTTP_BLOCKING_THREADS=1", "ARGUS_HTTP_BLOCKING_QUEUE=1"});
  ASSERT_EQ(Put("/v1/buckets/media/objects/x", "some bytes").status, 201);
  s3_.SetDelay(1500);
  // A download opens its blob (an S3 HEAD, 1.5 s) and reads it (a GET, 1.5 s): the one blocking
  // thread is taken, then the one queue place; a third request is refused at once.
  int64_t seen = s3_.Requests();
  std::thread first([&] {
    EXPECT_EQ(Request(server_->port(), "GET", "/v1/buckets/media/content/x", Auth()).status, 200);
  });
  for (int i = 0; i < 400 && s3_.Requests() == seen; ++i) std::this_thread::sleep_for(5ms);
  std::thread second([&] {
    EXPECT_EQ(Request(server_->port(), "GET", "/v1/buckets/media/content/x", Auth()).status, 200);
  });
  std::this_thread::sleep_for(300ms);  // the second request is read and queued
  auto start = Clock::now();
  auto refused = Request(server_->port(), "GET", "/v1/buckets/media/objects/x", Auth());
  EXPECT_LT(Clock::now() - start, kFastBound);
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_EQ(refused.Header("retry-after"), "1");
  EXPECT_EQ(refused.json()["error"]["code"], "overloaded") << refused.body;
  // What never blocks is still answered.
  start = Clock::now();
  EXPECT_EQ(Request(server_->port(), "GET", "/healthz").status, 200);
  EXPECT_EQ(Request(server_->port(), "GET", "/v1/whoami", Auth()).status, 200);
  EXPECT_LT(Clock::now() - start, kFastBound);
  first.join();
  second.join();
}

// ARGUS_SLOW_S3_UPLOAD_MIB (default 256; `ctest -L slow` runs 2048) of parts are completed
// while every S3 request takes 5 s: the POST answers at once with a task, the task runs on a
// worker, and every probe meanwhile is answered within the bound (before, the completion ran on
// an I/O thread and every connection of that thread waited for it).
TEST_F(IoThreadsTest, ResumableUploadCompletesWhileSmallRequestsStayFast) {
  StartServer();
  const char* env = std::getenv("ARGUS_SLOW_S3_UPLOAD_MIB");
  const int64_t total_mib = env != nullptr ? std::atoll(env) : 256;
  constexpr int64_t kPartMib = 64;
  auto created = Call("POST", "/v1/buckets/media/uploads", {{"key", "video/big.bin"}});
  ASSERT_EQ(created.status, 201) << created.body;
  std::string base = "/v1/buckets/media/uploads/" + std::string(created.json()["id"]);
  Sha256Hasher whole;
  std::mt19937_64 rng(13);
  std::string part(kPartMib << 20, '\0');
  for (int64_t n = 1; n * kPartMib <= total_mib; ++n) {
    for (size_t i = 0; i < part.size(); i += 8) {
      uint64_t v = rng();
      std::memcpy(part.data() + i, &v, 8);
    }
    whole.Update(part);
    auto put = Put(base + "/parts/" + std::to_string(n), part);
    ASSERT_EQ(put.status, 200) << put.body;
  }
  const std::string sha256 = HexEncode(whole.Finish());

  s3_.SetDelay(5000);
  auto start = Clock::now();
  auto started = Call("POST", base + "/complete", {{"sha256", sha256}});
  EXPECT_LT(Clock::now() - start, kFastBound);
  ASSERT_EQ(started.status, 202) << started.body;
  std::string task = "/v1/tasks/" + std::string(started.json()["id"]);
  // Long enough for the completion to be waiting on S3 answers more than once.
  auto slowest = ProbeWhile([&] { return Clock::now() - start > 7s; }, 30s);
  EXPECT_LT(slowest, kFastBound) << "a request waited " << Seconds(slowest)
                                 << " s while the upload completed";
  auto running = Call("GET", task);
  EXPECT_EQ(running.json()["status"], "running") << running.body;

  s3_.SetDelay(0);
  HttpResult done;
  // Waits shorter than the test client's 10 s read timeout (2 GiB take minutes under -L slow).
  for (int i = 0; i < 60; ++i) {
    done = Call("GET", task, nullptr, {{"Prefer", "wait=8"}});
    ASSERT_EQ(done.status, 200) << done.body;
    if (done.json()["status"] != "running" && done.json()["status"] != "pending") break;
  }
  ASSERT_EQ(done.json()["status"], "succeeded") << done.body << server_->Log();
  EXPECT_EQ(done.json()["result"]["sha256"], sha256);
  EXPECT_EQ(done.json()["result"]["size"], (total_mib / kPartMib * kPartMib) << 20);
  auto object = Call("GET", "/v1/buckets/media/objects/video/big.bin");
  EXPECT_EQ(object.status, 200) << object.body;
}

}  // namespace
}  // namespace argus::testing
