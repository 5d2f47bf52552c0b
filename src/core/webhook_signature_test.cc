#include "core/webhook_signature.h"

#include <gtest/gtest.h>

#include "core/crypto.h"

namespace argus {
namespace {

// The example from the Standard Webhooks specification's reference libraries.
TEST(WebhookSignatureTest, MatchesTheStandardWebhooksExample) {
  std::string key;
  ASSERT_TRUE(DecodeWebhookSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", &key).ok());
  EXPECT_EQ(WebhookSignatureHeader({key}, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
                                   R"({"test": 2432232314})"),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

TEST(WebhookSignatureTest, SignsWithEveryKeyDuringARotation) {
  std::string header = WebhookSignatureHeader({"new-key", "old-key"}, "evt_1", 10, "{}");
  auto space = header.find(' ');
  ASSERT_NE(space, std::string::npos);
  EXPECT_EQ(header.substr(0, space), "v1," + Base64Encode(HmacSha256("new-key", "evt_1.10.{}")));
  EXPECT_EQ(header.substr(space + 1), "v1," + Base64Encode(HmacSha256("old-key", "evt_1.10.{}")));
}

TEST(WebhookSignatureTest, NewSecretsAreWellFormedAndDistinct) {
  std::string a = NewWebhookSecret(), b = NewWebhookSecret();
  EXPECT_NE(a, b);
  EXPECT_EQ(a.rfind("whsec_", 0), 0u);
  std::string key;
  ASSERT_TRUE(DecodeWebhookSecret(a, &key).ok());
  EXPECT_EQ(key.size(), 32u);
}

TEST(WebhookSignatureTest, RejectsMalformedSecrets) {
  std::string key;
  EXPECT_FALSE(DecodeWebhookSecret("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", &key).ok());  // no prefix
  EXPECT_FALSE(DecodeWebhookSecret("whsec_!!!!", &key).ok());
  EXPECT_FALSE(DecodeWebhookSecret("whsec_c2hvcnQ=", &key).ok());  // 5 bytes: too short
}

}  // namespace
}  // namespace argus
