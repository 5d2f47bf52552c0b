#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace argus::api {

/// An IPv4 or IPv6 network ("10.0.0.0/8", "::1/128", or a bare address = one host).
struct Cidr {
  std::array<uint8_t, 16> addr{};  ///< IPv4 stored as ::ffff:a.b.c.d
  int prefix_bits = 128;
};

/// Parses a CIDR; InvalidArgument naming the text when malformed.
Result<Cidr> ParseCidr(std::string_view text);
/// Parses an address into the 16-byte form; false when malformed.
bool ParseIp(std::string_view text, std::array<uint8_t, 16>* out);
bool CidrContains(const Cidr& net, const std::array<uint8_t, 16>& addr);

/// Decides the client address of a request: the socket peer, unless the peer is a trusted
/// proxy, in which case X-Forwarded-For is walked from the right and the first address that is
/// not itself a trusted proxy wins. Immutable after construction (thread-safe).
class ClientAddressResolver {
 public:
  explicit ClientAddressResolver(std::vector<Cidr> trusted) : trusted_(std::move(trusted)) {}
  static Result<ClientAddressResolver> FromStrings(const std::vector<std::string>& cidrs);

  std::string Resolve(std::string_view peer_ip, std::string_view forwarded_for) const;

 private:
  bool Trusted(std::string_view ip) const;
  std::vector<Cidr> trusted_;
};

}  // namespace argus::api
