#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

struct sockaddr;

namespace argus {

/// An IPv4 or IPv6 address in 16-byte form (IPv4 as ::ffff:a.b.c.d).
using IpBytes = std::array<uint8_t, 16>;

/// Parses "10.1.2.3", "::1", "[fe80::1]"; false when malformed.
bool ParseIp(std::string_view text, IpBytes* out);

/// An IPv4 or IPv6 network ("10.0.0.0/8", "::1/128", or a bare address = one host).
struct Cidr {
  IpBytes addr{};
  int prefix_bits = 128;  ///< over the 16-byte form (IPv4 /8 is 104)
};

/// InvalidArgument naming the text when malformed.
Result<Cidr> ParseCidr(std::string_view text);
bool CidrContains(const Cidr& net, const IpBytes& addr);

/// True for a globally routable unicast address: the kind of address an outbound request to a
/// user-supplied URL (webhooks, S3 endpoints) may connect to. False for loopback, private
/// (10/8, 172.16/12, 192.168/16, fc00::/7), link-local (169.254/16, fe80::/10, which includes
/// cloud metadata endpoints), carrier-grade NAT (100.64/10), unspecified, multicast, broadcast,
/// reserved and documentation ranges, and for IPv6 forms that embed any of those IPv4 addresses
/// (IPv4-mapped, NAT64 64:ff9b::/96, 6to4 2002::/16).
bool IsPublicAddress(const IpBytes& addr);

/// The address of an AF_INET or AF_INET6 socket address (IPv4 in mapped form); false for other
/// families or a `len` too short for the family.
bool IpFromSockaddr(const sockaddr* addr, size_t len, IpBytes* out);

/// "10.1.2.3" for a mapped IPv4 address, else the IPv6 text form ("fe80::1").
std::string FormatIp(const IpBytes& addr);

}  // namespace argus
