#include "core/json.h"

#include <gtest/gtest.h>

namespace argus {
namespace {

TEST(JsonTest, ParsesValidDocuments) {
  auto r = ParseJson(R"({"a": [1, 2, {"b": "c"}]})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)["a"][2]["b"], "c");
}

TEST(JsonTest, MalformedIsInvalidArgument) {
  for (const char* bad : {"", "{", "{\"a\":}", "[1,]", "nul", "{\"a\":1}}"}) {
    auto r = ParseJson(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("malformed JSON"), std::string_view::npos);
  }
}

TEST(JsonTest, DepthLimit) {
  JsonLimits limits;
  limits.max_depth = 4;
  EXPECT_TRUE(ParseJson("[[[[1]]]]", limits).ok());
  auto r = ParseJson("[[[[[1]]]]]", limits);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("deeper than 4"), std::string_view::npos);
  // Deep enough to overflow a recursive parser: must fail cleanly, not crash.
  std::string deep(100000, '[');
  EXPECT_FALSE(ParseJson(deep).ok());
}

TEST(JsonTest, StringLimitAppliesToValuesAndKeys) {
  JsonLimits limits;
  limits.max_string_bytes = 8;
  EXPECT_TRUE(ParseJson(R"({"abc": "12345678"})", limits).ok());
  EXPECT_FALSE(ParseJson(R"({"abc": "123456789"})", limits).ok());
  EXPECT_FALSE(ParseJson(R"({"abcdefghij": 1})", limits).ok());
}

TEST(JsonTest, TypeNames) {
  EXPECT_EQ(JsonTypeName(Json(1)), "integer");
  EXPECT_EQ(JsonTypeName(Json(1.5)), "number");
  EXPECT_EQ(JsonTypeName(Json::object()), "object");
  EXPECT_EQ(JsonTypeName(Json(nullptr)), "null");
}

}  // namespace
}  // namespace argus

namespace argus {
namespace {

TEST(JsonTest, InvalidUtf8IsRefused) {
  auto r = ParseJson("{\"name\": \"\xff\xfe\"}");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("malformed JSON"), std::string_view::npos);
}

TEST(JsonTest, RepeatedKeyKeepsTheLastValueAndScalarsParse) {
  auto r = ParseJson(R"({"a": 1, "a": 2})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)["a"], 2);
  EXPECT_EQ(*ParseJson("5"), 5);
  EXPECT_EQ(*ParseJson("\"s\""), "s");
  EXPECT_EQ(*ParseJson("-1.25e2"), -125.0);
  EXPECT_EQ(*ParseJson("18446744073709551615"), 18446744073709551615ull);
}

TEST(JsonTest, ErrorNamesTheByteOffset) {
  auto r = ParseJson(R"({"a": tru})");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("at byte 9: Invalid value"), std::string_view::npos)
      << r.status().message();
}

}  // namespace
}  // namespace argus
