#include "core/status.h"

#include <gtest/gtest.h>

#include "core/result.h"

namespace argus {
namespace {

TEST(StatusTest, OkIsDefaultAndCarriesNoMessage) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kOk);
  EXPECT_EQ(s.ToString(), "ok");
  EXPECT_TRUE(Status(StatusCode::kOk, "ignored").message().empty());
}

TEST(StatusTest, ErrorKeepsCodeAndMessageAcrossCopies) {
  Status s = NotFoundError("bucket 'x' does not exist");
  Status copy = s;
  EXPECT_FALSE(copy.ok());
  EXPECT_EQ(copy.code(), StatusCode::kNotFound);
  EXPECT_EQ(copy.ToString(), "not_found: bucket 'x' does not exist");
  EXPECT_EQ(s, copy);
}

TEST(StatusTest, WireNamesAreSnakeCase) {
  EXPECT_EQ(StatusCodeName(StatusCode::kInvalidArgument), "invalid_argument");
  EXPECT_EQ(StatusCodeName(StatusCode::kFailedPrecondition), "failed_precondition");
  EXPECT_EQ(StatusCodeName(StatusCode::kResourceExhausted), "resource_exhausted");
  EXPECT_EQ(StatusCodeName(StatusCode::kConditionFailed), "precondition_failed");
  EXPECT_EQ(StatusCodeName(StatusCode::kPayloadTooLarge), "payload_too_large");
  EXPECT_EQ(StatusCodeName(StatusCode::kUnsupportedMediaType), "unsupported_media_type");
  EXPECT_EQ(StatusCodeName(StatusCode::kRangeNotSatisfiable), "range_not_satisfiable");
}

TEST(StatusTest, WireNamesReadBackToTheirCodes) {
  for (StatusCode code : {StatusCode::kNotFound, StatusCode::kFailedPrecondition,
                          StatusCode::kUnavailable, StatusCode::kConditionFailed,
                          StatusCode::kRangeNotSatisfiable, StatusCode::kOk}) {
    EXPECT_EQ(StatusCodeFromName(StatusCodeName(code)), code) << StatusCodeName(code);
  }
  EXPECT_EQ(StatusCodeFromName("worker_crashed"), StatusCode::kUnknown);
  EXPECT_EQ(StatusCodeFromName(""), StatusCode::kUnknown);
}

Result<int> Half(int v) {
  if (v % 2) return InvalidArgumentError("odd");
  return v / 2;
}

Result<int> Quarter(int v) {
  ARGUS_ASSIGN_OR_RETURN(int h, Half(v));
  ARGUS_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

Status CheckEven(int v) {
  ARGUS_RETURN_IF_ERROR(Half(v).status());
  return OkStatus();
}

TEST(ResultTest, PropagatesValuesAndErrors) {
  EXPECT_EQ(*Quarter(8), 2);
  auto r = Quarter(6);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(CheckEven(4).ok());
  EXPECT_FALSE(CheckEven(5).ok());
}

TEST(ResultTest, OkStatusWithoutValueBecomesInternalError) {
  Result<int> r(OkStatus());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
}

TEST(ResultTest, MoveOnlyValues) {
  Result<std::unique_ptr<int>> r(std::make_unique<int>(7));
  ASSERT_TRUE(r.ok());
  std::unique_ptr<int> p = std::move(r).value();
  EXPECT_EQ(*p, 7);
}

TEST(ResultDeathTest, ValueOfErrorAborts) {
  Result<int> r(NotFoundError("x"));
  EXPECT_DEATH((void)r.value(), "");
}

}  // namespace
}  // namespace argus
