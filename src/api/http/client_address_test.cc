#include "api/http/client_address.h"

#include <gtest/gtest.h>

namespace argus::api {
namespace {

TEST(ClientAddressTest, WithoutTrustedProxiesThePeerWins) {
  auto r = ClientAddressResolver::FromStrings({});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->Resolve("127.0.0.1", "203.0.113.9"), "127.0.0.1");
}

TEST(ClientAddressTest, TrustedProxyForwardsTheClient) {
  auto r = ClientAddressResolver::FromStrings({"127.0.0.0/8", "::1"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->Resolve("127.0.0.1", "203.0.113.9"), "203.0.113.9");
  EXPECT_EQ(r->Resolve("::1", "203.0.113.9, 127.0.0.5"), "203.0.113.9");
  // The left part could be forged by the client: stop at the first untrusted hop.
  EXPECT_EQ(r->Resolve("127.0.0.1", "1.1.1.1, 198.51.100.7, 127.0.0.2"), "198.51.100.7");
}

TEST(ClientAddressTest, UntrustedPeerIsNotBelieved) {
  auto r = ClientAddressResolver::FromStrings({"10.0.0.0/8"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->Resolve("192.0.2.1", "203.0.113.9"), "192.0.2.1");
}

TEST(ClientAddressTest, GarbageHeaderFallsBackToPeer) {
  auto r = ClientAddressResolver::FromStrings({"127.0.0.1/32"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->Resolve("127.0.0.1", "not-an-ip"), "127.0.0.1");
}

}  // namespace
}  // namespace argus::api
