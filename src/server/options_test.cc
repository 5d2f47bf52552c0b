#include "server/options.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace argus::server {
namespace {

Config Load(std::vector<std::pair<std::string, std::string>> flags) {
  auto config = Config::Load({.flags = std::move(flags)});
  EXPECT_TRUE(config.ok()) << config.status().ToString();
  return std::move(config).value();
}

TEST(OptionsTest, ParseListenTakesHostsPortsAndBracketedIpv6) {
  std::string host;
  uint16_t port = 1;
  ASSERT_TRUE(ParseListen("127.0.0.1:8080", &host, &port).ok());
  EXPECT_EQ(host, "127.0.0.1");
  EXPECT_EQ(port, 8080);
  ASSERT_TRUE(ParseListen("[::1]:0", &host, &port).ok());
  EXPECT_EQ(host, "::1");
  EXPECT_EQ(port, 0);
  for (const char* bad : {"localhost", "h:", "h:70000", "h:-1", "h:80x"}) {
    Status s = ParseListen(bad, &host, &port);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(s.message().find("server.listen"), std::string::npos) << s.message();
  }
}

TEST(OptionsTest, HttpOptionsNameTheKeyThatIsOutOfRange) {
  auto ok = HttpOptionsFromConfig(Load({{"server.listen", "127.0.0.1:9"}}));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_GE(ok->io_threads, 1);  // 0: one per core
  EXPECT_EQ(ok->port, 9);
  auto bad = HttpOptionsFromConfig(Load({{"http.blocking_threads", "0"}}));
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("http.blocking_threads"), std::string::npos);
  bad = HttpOptionsFromConfig(Load({{"http.blocking_queue", "100001"}}));
  EXPECT_NE(bad.status().message().find("http.blocking_queue"), std::string::npos);
}

TEST(OptionsTest, WorkerOptionsNameTheKeyThatIsOutOfRange) {
  auto ok = WorkerOptionsFromConfig(Load({{"workers.cpu", "3"}, {"tasks.lease_s", "5"}}));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->concurrency.at("cpu"), 3);
  EXPECT_EQ(ok->lease_s, 5);
  for (const auto& [key, value] :
       std::vector<std::pair<std::string, std::string>>{{"tasks.lease_s", "0.01"},
                                                        {"tasks.max_crash_attempts", "-1"},
                                                        {"tasks.max_prefetch", "1001"}}) {
    auto bad = WorkerOptionsFromConfig(Load({{key, value}}));
    EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument) << key;
    EXPECT_NE(bad.status().message().find(key), std::string::npos) << bad.status().message();
  }
}

TEST(OptionsTest, SyncRootsAreCanonicalDirectoriesOnly) {
  const std::string dir = std::filesystem::temp_directory_path().string();
  const std::string canonical = std::filesystem::canonical(dir).string();
  auto options =
      SyncOptionsFromConfig(Load({{"syncs.allowed_roots", dir + "/.:/no/such/dir::" + dir}}));
  EXPECT_EQ(options.allowed_roots, (std::vector<std::string>{canonical, canonical}));
}

}  // namespace
}  // namespace argus::server
