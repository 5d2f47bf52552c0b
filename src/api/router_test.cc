#include "api/router.h"

#include <gtest/gtest.h>

namespace argus::api {
namespace {

Route Make(std::string method, std::string pattern) {
  Route r;
  r.method = std::move(method);
  r.pattern = std::move(pattern);
  r.handler = [](RequestContext&) -> Result<ApiResponse> { return ApiResponse::NoContent(); };
  return r;
}

class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.Add(Make("GET", "/v1/keys"));
    router_.Add(Make("POST", "/v1/keys"));
    router_.Add(Make("GET", "/v1/keys/{id}"));
    router_.Add(Make("DELETE", "/v1/keys/{id}"));
    router_.Add(Make("GET", "/v1/buckets/{b}/objects/{key+}"));
    router_.Add(Make("GET", "/v1/keys/special"));
  }
  Router router_;
};

TEST_F(RouterTest, MatchesLiteralsAndMethods) {
  auto m = router_.Find("POST", "/v1/keys");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->method, "POST");
  EXPECT_EQ(router_.Find("GET", "/v1/keys/special").route->pattern, "/v1/keys/special");
}

TEST_F(RouterTest, ExtractsDecodedParameters) {
  auto m = router_.Find("GET", "/v1/keys/a%20b");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->pattern, "/v1/keys/{id}");
  ASSERT_EQ(m.params.size(), 1u);
  EXPECT_EQ(m.params[0].first, "id");
  EXPECT_EQ(m.params[0].second, "a b");
}

TEST_F(RouterTest, RestParameterTakesSlashes) {
  auto m = router_.Find("GET", "/v1/buckets/b1/objects/photos/2024/a.jpg");
  ASSERT_NE(m.route, nullptr);
  ASSERT_EQ(m.params.size(), 2u);
  EXPECT_EQ(m.params[0].second, "b1");
  EXPECT_EQ(m.params[1].second, "photos/2024/a.jpg");
}

TEST_F(RouterTest, UnknownPathIsNotFound) {
  for (const char* p : {"/v1/nope", "/v1/keys/a/b", "/v1/keys/", "", "v1/keys", "/"}) {
    auto m = router_.Find("GET", p);
    EXPECT_EQ(m.route, nullptr) << p;
    EXPECT_FALSE(m.path_found) << p;
  }
}

TEST_F(RouterTest, WrongMethodListsAllowed) {
  auto m = router_.Find("PUT", "/v1/keys/x");
  EXPECT_EQ(m.route, nullptr);
  EXPECT_TRUE(m.path_found);
  EXPECT_EQ(m.allowed, "GET, DELETE");
}

TEST_F(RouterTest, HeadFallsBackToGet) {
  auto m = router_.Find("HEAD", "/v1/keys");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->method, "GET");
}

TEST_F(RouterTest, MalformedEscapeIsNotFound) {
  EXPECT_EQ(router_.Find("GET", "/v1/keys/%zz").route, nullptr);
  EXPECT_EQ(router_.Find("GET", "/v1/keys/%4").route, nullptr);
}

TEST(PercentDecodeTest, Decodes) {
  std::string out;
  EXPECT_TRUE(PercentDecode("a%2Fb%c3%a9", &out));
  EXPECT_EQ(out, "a/b\xc3\xa9");
  EXPECT_FALSE(PercentDecode("%", &out));
  EXPECT_FALSE(PercentDecode("%g0", &out));
}

}  // namespace
}  // namespace argus::api
