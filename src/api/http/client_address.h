#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/ip_address.h"
#include "core/result.h"

namespace argus::api {

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
