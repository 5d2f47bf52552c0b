// The filter language: parsing with the declared field types (errors naming the path), and its
// semantics on payloads (arrays, missing fields, numbers, datetimes, words).
#include "store/filter.h"

#include <gtest/gtest.h>

namespace argus::store {
namespace {

const Json kPayload = {{"label", "person"},
                       {"score", 0.87},
                       {"count", 3},
                       {"flag", true},
                       {"tags", {"beach", "sunset"}},
                       {"nothing", nullptr},
                       {"taken_at", "2026-03-01T10:00:00Z"},
                       {"ocr", {{"text", "INVOICE No. 42 — Total: 17,50 €"}}},
                       {"metadata", {{"camera", "x100"}, {"lens", {{"mm", 35}}}}}};

const FieldTypes kTypes = {{"label", FieldType::kKeyword},
                           {"score", FieldType::kFloat},
                           {"count", FieldType::kInteger},
                           {"flag", FieldType::kBool},
                           {"taken_at", FieldType::kDatetime}};

bool Eval(const Json& filter) {
  auto parsed = ParseFilter(filter, kTypes);
  EXPECT_TRUE(parsed.ok()) << filter.dump() << ": " << parsed.status().ToString();
  return parsed.ok() && Matches(*parsed, kPayload, kTypes);
}

std::string Error(const Json& filter) {
  auto parsed = ParseFilter(filter, kTypes);
  EXPECT_FALSE(parsed.ok()) << filter.dump() << " was accepted";
  if (parsed.ok()) return "";
  EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
  return std::string(parsed.status().message());
}

TEST(FilterTest, ValuesAndOperatorsOfFields) {
  EXPECT_TRUE(Eval(Json::object()));
  EXPECT_TRUE(Eval(nullptr));
  EXPECT_TRUE(Eval({{"label", "person"}}));
  EXPECT_FALSE(Eval({{"label", "dog"}}));
  EXPECT_TRUE(Eval({{"label", {{"ne", "dog"}}}}));
  EXPECT_TRUE(Eval({{"label", {{"in", {"dog", "person"}}}}}));
  EXPECT_FALSE(Eval({{"label", {{"nin", {"dog", "person"}}}}}));
  EXPECT_TRUE(Eval({{"score", {{"gte", 0.5}, {"lt", 0.9}}}})) << "all operators of a field hold";
  EXPECT_FALSE(Eval({{"score", {{"gte", 0.5}, {"lt", 0.8}}}}));
  EXPECT_TRUE(Eval({{"count", {{"gt", 2}, {"lte", 3}}}}));
  EXPECT_TRUE(Eval({{"score", {{"gt", 0}}}})) << "an integer operand on a float field";
  EXPECT_TRUE(Eval({{"flag", true}}));
  EXPECT_TRUE(Eval({{"metadata.camera", "x100"}})) << "dots descend into objects";
  EXPECT_TRUE(Eval({{"metadata.lens.mm", 35.0}})) << "numbers compare by value";
  EXPECT_TRUE(Eval({{"metadata.camera", {{"starts_with", "x1"}}}}));
  EXPECT_TRUE(Eval({{"metadata.camera", {{"contains", "10"}}}}));
}

TEST(FilterTest, ArraysMatchWhenAnyElementDoes) {
  EXPECT_TRUE(Eval({{"tags", "beach"}}));
  EXPECT_TRUE(Eval({{"tags", {{"contains", "sunset"}}}}));
  EXPECT_FALSE(Eval({{"tags", {{"contains", "sun"}}}})) << "an element, not a substring";
  EXPECT_TRUE(Eval({{"tags", {{"in", {"x", "sunset"}}}}}));
  EXPECT_FALSE(Eval({{"tags", {{"nin", {"x", "sunset"}}}}}));
  EXPECT_TRUE(Eval({{"tags", {{"starts_with", "sun"}}}}));
}

TEST(FilterTest, MissingFieldsAndNulls) {
  EXPECT_FALSE(Eval({{"missing", "x"}}));
  EXPECT_TRUE(Eval({{"missing", {{"ne", "x"}}}})) << "ne negates eq";
  EXPECT_TRUE(Eval({{"missing", {{"nin", {"x"}}}}}));
  EXPECT_FALSE(Eval({{"missing", {{"gt", 1}}}}));
  EXPECT_TRUE(Eval({{"label", {{"exists", true}}}}));
  EXPECT_TRUE(Eval({{"missing", {{"exists", false}}}}));
  EXPECT_FALSE(Eval({{"nothing", {{"exists", true}}}})) << "null is no value";
  EXPECT_TRUE(Eval({{"nothing", {{"is_null", true}}}}));
  EXPECT_FALSE(Eval({{"missing", {{"is_null", true}}}}));
  EXPECT_FALSE(Eval({{"label.deeper", "x"}})) << "a path through a string";
}

TEST(FilterTest, LogicCombines) {
  EXPECT_TRUE(Eval({{"or", {{{"label", "dog"}}, {{"count", 3}}}}}));
  EXPECT_FALSE(Eval({{"and", {{{"label", "person"}}, {{"count", 4}}}}}));
  EXPECT_TRUE(Eval({{"not", {{"label", "dog"}}}}));
  EXPECT_FALSE(Eval({{"not", {{"or", {{{"label", "dog"}}, {{"flag", true}}}}}}}));
  EXPECT_TRUE(Eval({{"label", "person"}, {"or", {{{"tags", "x"}}, {{"tags", "beach"}}}}}));
}

TEST(FilterTest, DatetimesCompareAsInstants) {
  EXPECT_TRUE(Eval({{"taken_at", {{"gte", "2026-03-01T11:00:00+01:00"}}}}));
  EXPECT_TRUE(Eval({{"taken_at", {{"lt", "2026-03-01T10:00:01Z"}}}}));
  EXPECT_FALSE(Eval({{"taken_at", {{"gt", "2026-03-01T10:00:00Z"}}}}));
  EXPECT_TRUE(Eval({{"taken_at", "2026-03-01T12:00:00+02:00"}}));
}

TEST(FilterTest, TextMatchesWordsCaseInsensitively) {
  EXPECT_TRUE(Eval({{"ocr.text", {{"text", "invoice total"}}}}));
  EXPECT_TRUE(Eval({{"ocr.text", {{"text", "42"}}}}));
  EXPECT_FALSE(Eval({{"ocr.text", {{"text", "invoice receipt"}}}})) << "every word";
  EXPECT_FALSE(Eval({{"ocr.text", {{"text", "voice"}}}})) << "words, not substrings";
  EXPECT_EQ(FilterWords("Ünïcode, ABC-def 12"), (std::vector<std::string>{"\xc3\x9c"
                                                                          "n\xc3\xaf"
                                                                          "code",
                                                                          "abc", "def", "12"}));
}

TEST(FilterTest, BadFiltersNameThePathAndTheFix) {
  EXPECT_NE(Error({{"label", {{"like", "p%"}}}}).find("filter.label.like: unknown operator 'like'"),
            std::string::npos);
  EXPECT_NE(Error({{"score", {{"gt", "high"}}}})
                .find("filter.score.gt: the field is indexed as "
                      "float"),
            std::string::npos);
  EXPECT_NE(Error({{"or", {{{"count", 1.5}}}}})
                .find("filter.or[0].count: the field is indexed "
                      "as integer"),
            std::string::npos);
  EXPECT_NE(Error({{"taken_at", {{"gt", "yesterday"}}}}).find("RFC 3339"), std::string::npos);
  EXPECT_NE(Error({{"label", nullptr}}).find("is_null"), std::string::npos);
  EXPECT_NE(Error({{"label", {{"in", Json::array()}}}}).find("non-empty array"), std::string::npos);
  EXPECT_NE(Error({{"or", Json::object()}}).find("filter.or"), std::string::npos);
  EXPECT_NE(Error({{"count", {{"text", "x"}}}}).find("indexed as integer"), std::string::npos);
  EXPECT_NE(Error({{"x", {{"text", "  ,, "}}}}).find("at least one word"), std::string::npos);
  EXPECT_NE(Error({{"flag", {{"gt", true}}}}).find("compares"), std::string::npos);
  EXPECT_NE(Error({{"x", {{"exists", "yes"}}}}).find("true or false"), std::string::npos);
  EXPECT_NE(Error({{"a..b", 1}}).find("payload path"), std::string::npos);
  EXPECT_NE(Error({{"x", Json::object()}}).find("give an operator"), std::string::npos);
  EXPECT_NE(Error(Json::array({1})).find("a filter is a JSON object"), std::string::npos);
  // Bounded: depth, conditions, in-list size.
  Json deep = {{"a", 1}};
  for (int i = 0; i < 20; ++i) deep = {{"not", deep}};
  EXPECT_NE(Error(deep).find("nest at most"), std::string::npos);
  Json many = Json::array();
  for (int i = 0; i < 300; ++i) many.push_back({{"a", i}});
  EXPECT_NE(Error({{"or", many}}).find("at most 256 conditions"), std::string::npos);
  EXPECT_NE(Error({{"a", {{"in", Json(std::vector<int>(2000, 1))}}}}).find("at most 1024"),
            std::string::npos);
}

TEST(FilterTest, TheCanonicalFormIsTheSameForTheSameFilter) {
  auto a = ParseFilter(Json::parse(R"({"score": {"lt": 1, "gt": 0}, "label": "x"})"), kTypes);
  auto b =
      ParseFilter(Json::parse(R"({"label": {"eq": "x"}, "score": {"gt": 0, "lt": 1}})"), kTypes);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(FilterToJson(*a).dump(), FilterToJson(*b).dump());
  auto reparsed = ParseFilter(FilterToJson(*a), {});
  ASSERT_TRUE(reparsed.ok()) << reparsed.status().ToString();
  EXPECT_EQ(FilterToJson(*reparsed).dump(), FilterToJson(*a).dump());
  EXPECT_TRUE(ParseFilter(Json::object())->MatchesAll());
}

TEST(FilterTest, FieldTypesByName) {
  for (auto t : {FieldType::kKeyword, FieldType::kInteger, FieldType::kFloat, FieldType::kBool,
                 FieldType::kDatetime}) {
    EXPECT_EQ(*ParseFieldType(FieldTypeName(t)), t);
  }
  EXPECT_EQ(ParseFieldType("text").status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace argus::store
