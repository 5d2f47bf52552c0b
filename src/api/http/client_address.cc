#include "api/http/client_address.h"

namespace argus::api {

Result<ClientAddressResolver> ClientAddressResolver::FromStrings(
    const std::vector<std::string>& cidrs) {
  std::vector<Cidr> nets;
  for (const auto& text : cidrs) {
    auto c = ParseCidr(text);
    if (!c.ok()) return c.status();
    nets.push_back(*c);
  }
  return ClientAddressResolver(std::move(nets));
}

bool ClientAddressResolver::Trusted(std::string_view ip) const {
  IpBytes a;
  if (!ParseIp(ip, &a)) return false;
  for (const auto& net : trusted_) {
    if (CidrContains(net, a)) return true;
  }
  return false;
}

std::string ClientAddressResolver::Resolve(std::string_view peer_ip,
                                           std::string_view forwarded_for) const {
  if (trusted_.empty() || forwarded_for.empty() || !Trusted(peer_ip)) return std::string(peer_ip);
  // Walk right to left: each hop appended the address it saw; stop at the first hop we do not
  // trust, since everything left of it could be forged by that client.
  size_t end = forwarded_for.size();
  while (true) {
    size_t comma = forwarded_for.rfind(',', end == 0 ? 0 : end - 1);
    size_t start = (comma == std::string_view::npos || comma >= end) ? 0 : comma + 1;
    std::string_view hop = forwarded_for.substr(start, end - start);
    while (!hop.empty() && hop.front() == ' ') hop.remove_prefix(1);
    while (!hop.empty() && hop.back() == ' ') hop.remove_suffix(1);
    IpBytes a;
    if (!ParseIp(hop, &a)) return std::string(peer_ip);  // garbage: believe only the socket
    if (!Trusted(hop) || start == 0) return std::string(hop);
    end = start - 1;
  }
}

}  // namespace argus::api
