#include "api/http/http_types.h"

#include <gtest/gtest.h>

namespace argus::api {
namespace {

TEST(IsJsonTypeTest, AcceptsApplicationJsonInAnyCaseWithParameters) {
  EXPECT_TRUE(IsJsonType("application/json"));
  EXPECT_TRUE(IsJsonType("Application/JSON"));
  EXPECT_TRUE(IsJsonType("application/json; charset=utf-8"));
  EXPECT_TRUE(IsJsonType("application/json ;charset=utf-8"));
}

TEST(IsJsonTypeTest, RefusesOtherTypesAndTheEmptyOne) {
  EXPECT_FALSE(IsJsonType(""));
  EXPECT_FALSE(IsJsonType("text/plain"));
  EXPECT_FALSE(IsJsonType("application/jsonl"));
  EXPECT_FALSE(IsJsonType("application/json-patch+json"));
  EXPECT_FALSE(IsJsonType("multipart/form-data; boundary=x"));
}

}  // namespace
}  // namespace argus::api
