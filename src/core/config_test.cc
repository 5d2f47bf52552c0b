#include "core/config.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <set>

#include "core/json.h"

namespace argus {
namespace {

std::string WriteTemp(const std::string& text) {
  std::string path = ::testing::TempDir() + "/argus_config_test.yaml";
  std::ofstream(path) << text;
  return path;
}

TEST(ConfigTest, EnvNamesDeriveFromKeys) {
  EXPECT_EQ(ConfigEnvName("webhooks.allow_private_targets"),
            "ARGUS_WEBHOOKS_ALLOW_PRIVATE_TARGETS");
  EXPECT_EQ(ConfigEnvName("admin_key"), "ARGUS_ADMIN_KEY");
}

TEST(ConfigTest, DefaultsApply) {
  Config c;
  EXPECT_EQ(c.GetString("server.listen"), "127.0.0.1:7070");
  EXPECT_EQ(c.GetInt("http.max_body_bytes"), 1048576);
  EXPECT_TRUE(c.GetBool("http.access_log"));
  EXPECT_EQ(c.SourceOf("server.listen"), "default");
  // Rate limits are on unless turned off (README, "Rate limits are on by default").
  EXPECT_GT(c.GetDouble("rate_limit.per_key_rps"), 0);
  EXPECT_GT(c.GetDouble("rate_limit.per_ip_rps"), 0);
}

TEST(ConfigTest, PrecedenceIsDefaultFileEnvFlag) {
  Config::Sources s;
  s.file = WriteTemp(
      "server:\n  listen: 0.0.0.0:1\n  io_threads: 3\nhttp:\n  max_body_bytes: 10\n"
      "  cors:\n    allowed_origins: [a, b]\n");
  s.env = {"ARGUS_SERVER_LISTEN=0.0.0.0:2", "ARGUS_HTTP_MAX_BODY_BYTES=20", "PATH=/bin"};
  s.flags = {{"server.listen", "0.0.0.0:3"}};
  auto c = Config::Load(s);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->GetString("server.listen"), "0.0.0.0:3");
  EXPECT_EQ(c->SourceOf("server.listen"), "flag");
  EXPECT_EQ(c->GetInt("http.max_body_bytes"), 20);
  EXPECT_EQ(c->SourceOf("http.max_body_bytes"), "env");
  EXPECT_EQ(c->GetInt("server.io_threads"), 3);
  EXPECT_EQ(c->SourceOf("server.io_threads"), "file");
  EXPECT_EQ(c->GetStringList("http.cors.allowed_origins"), (std::vector<std::string>{"a", "b"}));
}

TEST(ConfigTest, ListsFromEnvAreSplit) {
  Config::Sources s;
  s.env = {"ARGUS_HTTP_TRUSTED_PROXIES=10.0.0.0/8, 127.0.0.1/32"};
  auto c = Config::Load(s);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->GetStringList("http.trusted_proxies"),
            (std::vector<std::string>{"10.0.0.0/8", "127.0.0.1/32"}));
}

TEST(ConfigTest, ErrorsNameTheKeyAndSource) {
  Config::Sources s;
  s.file = WriteTemp("server:\n  lisen: x\n");
  auto c = Config::Load(s);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("unknown key 'server.lisen'"), std::string_view::npos);

  s.file = WriteTemp("http:\n  max_body_bytes: lots\n");
  c = Config::Load(s);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("'http.max_body_bytes' must be an integer"),
            std::string_view::npos);

  s.file.clear();
  s.env = {"ARGUS_HTTP_ACCESS_LOG=maybe"};
  c = Config::Load(s);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("ARGUS_HTTP_ACCESS_LOG"), std::string_view::npos);

  s.env.clear();
  s.flags = {{"no.such", "1"}};
  EXPECT_FALSE(Config::Load(s).ok());
}

TEST(ConfigTest, PrintMasksSecrets) {
  Config::Sources s;
  s.env = {"ARGUS_ADMIN_KEY=supersecretsupersecretsupersecret123"};
  auto c = Config::Load(s);
  ASSERT_TRUE(c.ok());
  std::string yaml = c->ToYaml();
  EXPECT_EQ(yaml.find("supersecret"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("admin_key: \"********\""), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("listen: \"127.0.0.1:7070\""), std::string::npos) << yaml;
  EXPECT_NE(c->ToYaml(false).find("supersecret"), std::string::npos);
}

// A module declares its own keys beside the code that reads them (a backend's settings).
constexpr ConfigKey kTestGroupKeys[] = {
    {"log.test_module.depth", ConfigType::kInt, "3", "a key a module declares for itself"},
};
const ConfigKeyGroup kTestGroup("core/config_test", kTestGroupKeys);

TEST(ConfigTest, KeysAModuleDeclaresAreKeysLikeTheCoreOnesAndListedInTheirSection) {
  Config defaults;
  EXPECT_EQ(defaults.GetInt("log.test_module.depth"), 3);
  auto c = Config::Load({.env = {"ARGUS_LOG_TEST_MODULE_DEPTH=7"}});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->GetInt("log.test_module.depth"), 7);
  EXPECT_EQ(c->SourceOf("log.test_module.depth"), "env");
  EXPECT_FALSE(defaults.Set("log.test_module.depth", "deep", "flag").ok());
  // After the last core key of its section, before the next section.
  const auto& keys = ConfigKeys();
  auto at = std::find_if(keys.begin(), keys.end(),
                         [](const ConfigKey& k) { return k.path == "log.test_module.depth"; });
  ASSERT_NE(at, keys.end());
  ASSERT_NE(at, keys.begin());
  EXPECT_EQ(std::prev(at)->path, "log.format");
  EXPECT_NE(ConfigReferenceMarkdown().find("`ARGUS_LOG_TEST_MODULE_DEPTH`"), std::string::npos);
}

// The key table is hand-written: each key once, documented, with a default of its own type (the
// reference is generated from the same table, so searching it for the keys proved nothing).
TEST(ConfigTest, EveryKeyIsUniqueDocumentedAndDefaultsToItsType) {
  std::set<std::string_view> seen;
  for (const auto& k : ConfigKeys()) {
    EXPECT_TRUE(seen.insert(k.path).second) << k.path << " is listed twice";
    EXPECT_FALSE(k.help.empty()) << k.path;
    EXPECT_EQ(k.help.find('\n'), std::string_view::npos) << k.path << ": one line of help";
    Json value = Json::parse(k.default_json, nullptr, /*allow_exceptions=*/false);
    bool typed = false;
    switch (k.type) {
      case ConfigType::kString:
        typed = value.is_string();
        break;
      case ConfigType::kInt:
        typed = value.is_number_integer();
        break;
      case ConfigType::kDouble:
        typed = value.is_number();
        break;
      case ConfigType::kBool:
        typed = value.is_boolean();
        break;
      case ConfigType::kStringList:
        typed = value.is_array() && std::all_of(value.begin(), value.end(),
                                                [](const Json& v) { return v.is_string(); });
        break;
    }
    EXPECT_TRUE(typed) << k.path << ": default " << k.default_json;
  }
  // One table row per key, after the header and its rule.
  std::string md = ConfigReferenceMarkdown();
  EXPECT_EQ(static_cast<size_t>(std::count(md.begin(), md.end(), '\n')), ConfigKeys().size() + 2);
}

}  // namespace
}  // namespace argus
