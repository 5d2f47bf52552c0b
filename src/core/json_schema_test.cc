#include "core/json_schema.h"

#include <gtest/gtest.h>

namespace argus {
namespace {

const Json kKeySchema = Json::parse(R"({
  "type": "object",
  "additionalProperties": false,
  "required": ["name", "role"],
  "properties": {
    "name": {"type": "string", "minLength": 1, "maxLength": 8},
    "role": {"type": "string", "enum": ["admin", "editor", "viewer"]},
    "expires_at": {"type": ["string", "null"], "format": "date-time"},
    "count": {"type": "integer", "minimum": 0, "maximum": 10},
    "tags": {"type": "array", "maxItems": 2, "items": {"type": "string"}}
  }
})");

std::string Error(const char* body) {
  Status s = ValidateJson(Json::parse(body), kKeySchema);
  return s.ok() ? "ok" : std::string(s.message());
}

TEST(JsonSchemaTest, AcceptsValidBodies) {
  EXPECT_EQ(Error(R"({"name": "ci", "role": "viewer"})"), "ok");
  EXPECT_EQ(Error(R"({"name": "ci", "role": "viewer", "expires_at": null, "count": 3.0})"), "ok");
  EXPECT_EQ(Error(R"({"name": "ci", "role": "admin", "expires_at": "2030-01-01T00:00:00Z"})"),
            "ok");
}

TEST(JsonSchemaTest, NamesTheOffendingField) {
  EXPECT_EQ(Error(R"([])"), "the body must be object, not array");
  EXPECT_EQ(Error(R"({"role": "viewer"})"), "field 'name' is required");
  EXPECT_EQ(Error(R"({"name": 5, "role": "viewer"})"), "field 'name' must be string, not integer");
  EXPECT_EQ(Error(R"({"name": "x", "role": "root"})"),
            "field 'role' must be one of: admin, editor, viewer");
  EXPECT_EQ(Error(R"({"name": "x", "role": "viewer", "extra": 1})"), "unknown field 'extra'");
  EXPECT_EQ(Error(R"({"name": "", "role": "viewer"})"),
            "field 'name' must be at least 1 characters long");
  EXPECT_EQ(Error(R"({"name": "123456789", "role": "viewer"})"),
            "field 'name' must be at most 8 characters long");
  EXPECT_EQ(Error(R"({"name": "x", "role": "viewer", "count": 11})"),
            "field 'count' must be at most 10");
  EXPECT_EQ(Error(R"({"name": "x", "role": "viewer", "count": 1.5})"),
            "field 'count' must be integer, not number");
  EXPECT_EQ(Error(R"({"name": "x", "role": "viewer", "tags": ["a", 2]})"),
            "field 'tags[1]' must be string, not integer");
  EXPECT_EQ(Error(R"({"name": "x", "role": "viewer", "tags": ["a", "b", "c"]})"),
            "field 'tags' must have at most 2 items");
  EXPECT_EQ(Error(R"({"name": "x", "role": "viewer", "expires_at": "soon"})"),
            "field 'expires_at' must be an RFC 3339 date-time");
}

}  // namespace
}  // namespace argus

namespace argus {
namespace {

TEST(JsonSchemaTest, CompileRefusesKeywordsOutsideTheSubset) {
  EXPECT_FALSE(JsonSchema::Compile(Json::parse(R"({"type": "string", "pattern": "^a"})")).ok());
  EXPECT_FALSE(JsonSchema::Compile(Json::parse(R"({"type": "strnig"})")).ok());
  EXPECT_FALSE(JsonSchema::Compile(Json::parse(R"({"format": "email"})")).ok());
  EXPECT_TRUE(JsonSchema::Compile(Json::parse(R"({"type": "string", "description": "x"})")).ok());
}

TEST(JsonSchemaTest, CompiledSchemaIsReusable) {
  auto s = JsonSchema::Compile(kKeySchema);
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->Validate(Json::parse(R"({"name": "a", "role": "viewer"})")).ok());
  EXPECT_FALSE(s->Validate(Json::parse(R"({"name": "a"})")).ok());
  EXPECT_EQ(s->source(), kKeySchema);
}

TEST(JsonSchemaTest, AdditionalPropertiesSchemaAppliesToEveryExtraField) {
  Json schema = Json::parse(
      R"({"type": "object", "additionalProperties": {"type": "string", "maxLength": 2}})");
  EXPECT_TRUE(ValidateJson(Json::parse(R"({"a": "x", "b": "yy"})"), schema).ok());
  Status s = ValidateJson(Json::parse(R"({"a": "x", "b": "yyy"})"), schema);
  EXPECT_EQ(s.message(), "field 'b' must be at most 2 characters long");
}

TEST(JsonSchemaTest, LengthsCountCharactersNotBytes) {
  Json schema = Json::parse(R"({"type": "string", "minLength": 2, "maxLength": 3})");
  // "é" is 2 bytes, "😀" 4: three characters in 7 bytes fit, one character in 4 bytes does not.
  EXPECT_TRUE(ValidateJson(Json("\u00e9\u00e9\U0001F600"), schema).ok());
  EXPECT_TRUE(ValidateJson(Json("\U0001F600\U0001F600"), schema).ok());
  EXPECT_EQ(ValidateJson(Json("\U0001F600"), schema).message(),
            "the body must be at least 2 characters long");
  EXPECT_EQ(ValidateJson(Json("abcd"), schema).message(),
            "the body must be at most 3 characters long");
}

TEST(JsonSchemaTest, FalseSchemaRefusesEverything) {
  Json schema = Json::parse(R"({"type": "object", "properties": {"gone": false}})");
  EXPECT_TRUE(ValidateJson(Json::parse(R"({"kept": 1})"), schema).ok());
  EXPECT_EQ(ValidateJson(Json::parse(R"({"gone": 1})"), schema).message(),
            "field 'gone' is not allowed");
}

}  // namespace
}  // namespace argus
