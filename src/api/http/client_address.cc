#include "api/http/client_address.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace argus::api {

namespace {

std::string Quoted(std::string_view text) {
  std::string out = "'";
  out.append(text);
  out.push_back('\'');
  return out;
}

}  // namespace

bool ParseIp(std::string_view text, std::array<uint8_t, 16>* out) {
  std::string s(text);
  if (!s.empty() && s.front() == '[' && s.back() == ']') s = s.substr(1, s.size() - 2);
  in_addr v4;
  if (inet_pton(AF_INET, s.c_str(), &v4) == 1) {
    out->fill(0);
    (*out)[10] = 0xff;
    (*out)[11] = 0xff;
    std::memcpy(out->data() + 12, &v4, 4);
    return true;
  }
  in6_addr v6;
  if (inet_pton(AF_INET6, s.c_str(), &v6) == 1) {
    std::memcpy(out->data(), &v6, 16);
    return true;
  }
  return false;
}

Result<Cidr> ParseCidr(std::string_view text) {
  Cidr c;
  size_t slash = text.find('/');
  std::string_view ip = text.substr(0, slash);
  if (!ParseIp(ip, &c.addr)) {
    return InvalidArgumentError(Quoted(text).append(" is not an IP address or CIDR"));
  }
  bool v4 = ip.find(':') == std::string_view::npos;
  c.prefix_bits = 128;
  if (slash != std::string_view::npos) {
    std::string_view bits = text.substr(slash + 1);
    int n = -1;
    auto [p, ec] = std::from_chars(bits.data(), bits.data() + bits.size(), n);
    if (ec != std::errc() || p != bits.data() + bits.size() || n < 0 || n > (v4 ? 32 : 128)) {
      return InvalidArgumentError(Quoted(text).append(" has a bad prefix length"));
    }
    c.prefix_bits = v4 ? 96 + n : n;
  }
  return c;
}

bool CidrContains(const Cidr& net, const std::array<uint8_t, 16>& addr) {
  int bits = net.prefix_bits;
  for (int i = 0; i < 16 && bits > 0; ++i, bits -= 8) {
    uint8_t mask = bits >= 8 ? 0xff : static_cast<uint8_t>(0xff << (8 - bits));
    if ((net.addr[i] & mask) != (addr[i] & mask)) return false;
  }
  return true;
}

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
  std::array<uint8_t, 16> a;
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
    std::array<uint8_t, 16> a;
    if (!ParseIp(hop, &a)) return std::string(peer_ip);  // garbage: believe only the socket
    if (!Trusted(hop) || start == 0) return std::string(hop);
    end = start - 1;
  }
}

}  // namespace argus::api
