#include "core/ip_address.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

namespace argus {
namespace {

bool Public(const char* text) {
  IpBytes a;
  EXPECT_TRUE(ParseIp(text, &a)) << text;
  return IsPublicAddress(a);
}

TEST(IpAddressTest, RefusesEveryNonPublicRange) {
  for (const char* ip : {"127.0.0.1",
                         "127.255.0.9",
                         "10.0.0.1",
                         "172.16.0.1",
                         "172.31.255.255",
                         "192.168.1.1",
                         "169.254.169.254",
                         "100.64.0.1",
                         "100.127.255.1",
                         "0.0.0.0",
                         "0.1.2.3",
                         "255.255.255.255",
                         "224.0.0.1",
                         "240.0.0.1",
                         "192.0.2.1",
                         "198.18.0.1",
                         "198.51.100.2",
                         "203.0.113.3",
                         "192.0.0.8",
                         "::",
                         "::1",
                         "fe80::1",
                         "fec0::1",
                         "fc00::1",
                         "fd12:3456::1",
                         "ff02::1",
                         "2001:db8::1",
                         "::ffff:127.0.0.1",
                         "::ffff:10.1.2.3",
                         "::ffff:169.254.169.254",
                         "64:ff9b::a9fe:a9fe",
                         "2002:7f00:1::1",
                         "::127.0.0.1",
                         "::8.8.8.8",
                         "2002:c0a8:101::1",
                         "100::1"}) {
    EXPECT_FALSE(Public(ip)) << ip;
  }
}

TEST(IpAddressTest, AcceptsPublicAddresses) {
  for (const char* ip : {"8.8.8.8", "1.1.1.1", "172.32.0.1", "172.15.255.255", "100.128.0.1",
                         "192.169.0.1", "2a00:1450:4001:80b::200e", "2606:4700::1111",
                         "::ffff:8.8.4.4", "64:ff9b::808:808", "2002:808:808::1"}) {
    EXPECT_TRUE(Public(ip)) << ip;
  }
}

TEST(IpAddressTest, ParsesAndMatchesCidrs) {
  EXPECT_FALSE(ParseCidr("10.0.0.0/33").ok());
  EXPECT_FALSE(ParseCidr("banana").ok());
  EXPECT_FALSE(ParseCidr("::/129").ok());
  auto net = ParseCidr("192.168.0.0/16");
  ASSERT_TRUE(net.ok());
  IpBytes a;
  ASSERT_TRUE(ParseIp("192.168.44.1", &a));
  EXPECT_TRUE(CidrContains(*net, a));
  ASSERT_TRUE(ParseIp("192.169.0.1", &a));
  EXPECT_FALSE(CidrContains(*net, a));
  auto v6 = ParseCidr("fe80::/10");
  ASSERT_TRUE(v6.ok());
  ASSERT_TRUE(ParseIp("[fe80::1]", &a));
  EXPECT_TRUE(CidrContains(*v6, a));
  EXPECT_FALSE(ParseIp("1.2.3", &a));
  EXPECT_FALSE(ParseIp("::gg", &a));
}

TEST(IpAddressTest, ReadsSocketAddresses) {
  sockaddr_in v4{};
  v4.sin_family = AF_INET;
  ASSERT_EQ(inet_pton(AF_INET, "169.254.169.254", &v4.sin_addr), 1);
  IpBytes a;
  ASSERT_TRUE(IpFromSockaddr(reinterpret_cast<sockaddr*>(&v4), sizeof(v4), &a));
  EXPECT_EQ(FormatIp(a), "169.254.169.254");
  EXPECT_FALSE(IsPublicAddress(a));  // the cloud metadata endpoint

  sockaddr_in6 v6{};
  v6.sin6_family = AF_INET6;
  ASSERT_EQ(inet_pton(AF_INET6, "2606:4700::1111", &v6.sin6_addr), 1);
  ASSERT_TRUE(IpFromSockaddr(reinterpret_cast<sockaddr*>(&v6), sizeof(v6), &a));
  EXPECT_EQ(FormatIp(a), "2606:4700::1111");
  EXPECT_TRUE(IsPublicAddress(a));

  // A truncated length or another family is refused rather than read past its end.
  EXPECT_FALSE(IpFromSockaddr(reinterpret_cast<sockaddr*>(&v6), sizeof(v4), &a));
  sockaddr unix_addr{};
  unix_addr.sa_family = AF_UNIX;
  EXPECT_FALSE(IpFromSockaddr(&unix_addr, sizeof(unix_addr), &a));
  EXPECT_FALSE(IpFromSockaddr(nullptr, 0, &a));
}

}  // namespace
}  // namespace argus
