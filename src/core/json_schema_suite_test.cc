// The JSON Schema subset against the official JSON Schema Test Suite (Debian's
// json-schema-test-suite, installed by scripts/setup.sh): every test group of the keywords the
// subset supports must agree with the suite. Draft 7 is the newest draft the package carries; for
// these keywords it says what 2020-12 says.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "core/json_schema.h"

namespace argus {
namespace {

const std::string kSuiteDir = "/usr/share/json-schema-test-suite/tests/draft7/";

// The suite's files for the keywords of the subset (see json_schema.h).
const std::vector<std::string> kFiles = {
    "type",      "properties",     "required", "additionalProperties",
    "items",     "enum",           "const",    "minLength",
    "maxLength", "minimum",        "maximum",  "minItems",
    "maxItems",  "boolean_schema", "default",  "optional/format/date-time"};

// The only groups not run: each uses a keyword outside the subset, named here; Compile must
// refuse exactly that keyword.
const std::map<std::pair<std::string, std::string>, std::string> kSkipped = {
    {{"properties", "properties, patternProperties, additionalProperties interaction"},
     "patternProperties"},
    {{"additionalProperties", "additionalProperties being false does not allow other properties"},
     "patternProperties"},
    {{"additionalProperties", "non-ASCII pattern with additionalProperties"}, "patternProperties"},
    {{"items", "an array of schemas for items"}, "items"},
    {{"items", "items with boolean schemas"}, "items"},
};

Json ReadSuiteFile(const std::string& name) {
  std::ifstream in(kSuiteDir + name + ".json");
  std::stringstream text;
  text << in.rdbuf();
  return Json::parse(text.str());
}

TEST(JsonSchemaSuiteTest, SupportedKeywordsAgreeWithTheOfficialSuite) {
  ASSERT_TRUE(std::filesystem::is_directory(kSuiteDir))
      << kSuiteDir << " is missing: install json-schema-test-suite (scripts/setup.sh)";
  int checked = 0;
  std::map<std::pair<std::string, std::string>, bool> skipped_seen;
  for (const std::string& file : kFiles) {
    Json groups = ReadSuiteFile(file);
    ASSERT_TRUE(groups.is_array() && !groups.empty()) << file;
    for (const Json& group : groups) {
      const std::string description = group["description"];
      auto compiled = JsonSchema::Compile(group["schema"]);
      if (auto it = kSkipped.find({file, description}); it != kSkipped.end()) {
        skipped_seen[it->first] = true;
        EXPECT_FALSE(compiled.ok()) << file << ": '" << description << "' is listed as skipped "
                                    << "but compiles: run it instead";
        if (!compiled.ok()) {
          EXPECT_NE(compiled.status().message().find("'" + it->second + "'"), std::string::npos)
              << file << ": '" << description << "': " << compiled.status().message();
        }
        continue;
      }
      // Every disagreement is reported, not only the first.
      EXPECT_TRUE(compiled.ok()) << file << ": '" << description
                                 << "': " << compiled.status().message();
      if (!compiled.ok()) continue;
      for (const Json& test : group["tests"]) {
        Status s = compiled->Validate(test["data"]);
        EXPECT_EQ(s.ok(), test["valid"].get<bool>())
            << file << ": '" << description << "' / '" << test["description"].get<std::string>()
            << "': data " << test["data"].dump() << (s.ok() ? "" : ": " + std::string(s.message()));
        ++checked;
      }
    }
  }
  EXPECT_EQ(skipped_seen.size(), kSkipped.size()) << "a skipped group is no longer in the suite";
  EXPECT_GT(checked, 150);
}

}  // namespace
}  // namespace argus
