#include "domain/upload_completion.h"

#include <gtest/gtest.h>

namespace argus::domain {
namespace {

using store::NewTask;
using store::RetryPolicy;
using store::UploadPart;

std::vector<UploadPart> Parts(std::initializer_list<int> numbers) {
  std::vector<UploadPart> parts;
  for (int n : numbers) {
    UploadPart& p = parts.emplace_back();
    p.number = n;
    p.sha256.assign(64, static_cast<char>('a' + n));
    p.size = n;
  }
  return parts;
}

TEST(UploadCompletionTest, PartsMustRunFromOneWithoutGaps) {
  EXPECT_TRUE(CheckUploadParts(Parts({1, 2, 3})).ok());
  EXPECT_EQ(CheckUploadParts({}).message(), "the upload has no parts");
  Status gap = CheckUploadParts(Parts({1, 3}));
  EXPECT_EQ(gap.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(gap.message(), "part 2 is missing: parts must run 1..3 without gaps");
  EXPECT_EQ(CheckUploadParts(Parts({2})).message(),
            "part 1 is missing: parts must run 1..2 without gaps");
}

TEST(UploadCompletionTest, TheSameCompletionIsTheSameTaskAndAChangedPartANewOne) {
  CompleteUploadInput input{.bucket = "media", .bucket_id = "b1", .upload_id = "u1"};
  NewTask first = UploadCompleteTask("ns", input, Parts({1, 2}));
  EXPECT_EQ(first.kind, kUploadCompleteKind);
  EXPECT_EQ(first.queue, "io");
  EXPECT_EQ(first.namespace_id, "ns");
  EXPECT_EQ(first.idempotency_key, UploadCompleteTask("ns", input, Parts({1, 2})).idempotency_key);
  auto replaced = Parts({1, 2});
  replaced[1].sha256 = std::string(64, 'f');
  EXPECT_NE(first.idempotency_key, UploadCompleteTask("ns", input, replaced).idempotency_key);
  input.expected_sha256 = std::string(64, '0');
  EXPECT_NE(first.idempotency_key, UploadCompleteTask("ns", input, Parts({1, 2})).idempotency_key);
  // A checksum that does not hold is permanent: retrying reads the same bytes again.
  EXPECT_EQ(first.retry.max_attempts, RetryPolicy{}.max_attempts);
  EXPECT_NE(std::find(first.retry.non_retryable_codes.begin(),
                      first.retry.non_retryable_codes.end(), "condition_failed"),
            first.retry.non_retryable_codes.end());
}

TEST(UploadCompletionTest, InputRoundTripsAndMissingFieldsAreNamed) {
  CompleteUploadInput input{.bucket = "media",
                            .bucket_id = "b1",
                            .upload_id = "u1",
                            .expected_sha256 = std::string(64, 'a'),
                            .precondition = {.must_not_exist = true, .sha256_must_match = "x"}};
  auto back = CompleteUploadInput::FromJson(input.ToJson());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->bucket, "media");
  EXPECT_EQ(back->bucket_id, "b1");
  EXPECT_EQ(back->upload_id, "u1");
  EXPECT_EQ(back->expected_sha256, input.expected_sha256);
  EXPECT_TRUE(back->precondition.must_not_exist);
  EXPECT_EQ(back->precondition.sha256_must_match, "x");
  auto missing = CompleteUploadInput::FromJson({{"bucket", "media"}, {"bucket_id", "b1"}});
  EXPECT_EQ(missing.status().message(), "upload.complete input lacks 'upload_id'");
}

}  // namespace
}  // namespace argus::domain
