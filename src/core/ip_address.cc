#include "core/ip_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <charconv>
#include <cstring>

namespace argus {

bool ParseIp(std::string_view text, IpBytes* out) {
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
  std::string quoted = "'";
  quoted.append(text).push_back('\'');
  if (!ParseIp(ip, &c.addr)) {
    return InvalidArgumentError(quoted.append(" is not an IP address or CIDR"));
  }
  bool v4 = ip.find(':') == std::string_view::npos;
  c.prefix_bits = 128;
  if (slash != std::string_view::npos) {
    std::string_view bits = text.substr(slash + 1);
    int n = -1;
    auto [p, ec] = std::from_chars(bits.data(), bits.data() + bits.size(), n);
    if (ec != std::errc() || p != bits.data() + bits.size() || n < 0 || n > (v4 ? 32 : 128)) {
      return InvalidArgumentError(quoted.append(" has a bad prefix length"));
    }
    c.prefix_bits = v4 ? 96 + n : n;
  }
  return c;
}

bool CidrContains(const Cidr& net, const IpBytes& addr) {
  int bits = net.prefix_bits;
  for (int i = 0; i < 16 && bits > 0; ++i, bits -= 8) {
    uint8_t mask = bits >= 8 ? 0xff : static_cast<uint8_t>(0xff << (8 - bits));
    if ((net.addr[i] & mask) != (addr[i] & mask)) return false;
  }
  return true;
}

namespace {

bool PublicV4(const uint8_t* a) {
  uint8_t b0 = a[0], b1 = a[1], b2 = a[2];
  if (b0 == 0 || b0 == 10 || b0 == 127) return false;              // this net, private, loopback
  if (b0 == 100 && (b1 & 0xc0) == 64) return false;                // 100.64/10 CGNAT
  if (b0 == 169 && b1 == 254) return false;                        // link-local, metadata
  if (b0 == 172 && (b1 & 0xf0) == 16) return false;                // 172.16/12
  if (b0 == 192 && b1 == 168) return false;                        // 192.168/16
  if (b0 == 192 && b1 == 0 && (b2 == 0 || b2 == 2)) return false;  // IETF, TEST-NET-1
  if (b0 == 198 && (b1 & 0xfe) == 18) return false;                // 198.18/15 benchmarking
  if (b0 == 198 && b1 == 51 && b2 == 100) return false;            // TEST-NET-2
  if (b0 == 203 && b1 == 0 && b2 == 113) return false;             // TEST-NET-3
  if (b0 >= 224) return false;                                     // multicast, reserved, broadcast
  return true;
}

}  // namespace

bool IsPublicAddress(const IpBytes& a) {
  static const uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(a.data(), kMapped, 12) == 0) return PublicV4(a.data() + 12);
  static const uint8_t kNat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
  if (std::memcmp(a.data(), kNat64, 12) == 0) return PublicV4(a.data() + 12);
  if (a[0] == 0x20 && a[1] == 0x02) return PublicV4(a.data() + 2);  // 6to4 embeds IPv4
  bool zero_prefix = true;
  for (int i = 0; i < 12; ++i) zero_prefix = zero_prefix && a[i] == 0;
  if (zero_prefix) return false;            // ::, ::1 and the deprecated IPv4-compatible ::a.b.c.d
  if ((a[0] & 0xfe) == 0xfc) return false;  // fc00::/7 unique local
  if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) return false;  // fe80::/10 link-local
  if (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0) return false;  // fec0::/10 site-local (old)
  if (a[0] == 0xff) return false;                           // multicast
  if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8) return false;  // docs
  if (a[0] == 0x01 && a[1] == 0 && a[2] == 0 && a[3] == 0) return false;  // 100::/64 discard
  return true;
}

bool IpFromSockaddr(const sockaddr* addr, size_t len, IpBytes* out) {
  if (addr == nullptr || len < sizeof(sa_family_t)) return false;
  if (addr->sa_family == AF_INET && len >= sizeof(sockaddr_in)) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(addr);
    out->fill(0);
    (*out)[10] = (*out)[11] = 0xff;
    std::memcpy(out->data() + 12, &v4->sin_addr, 4);
    return true;
  }
  if (addr->sa_family == AF_INET6 && len >= sizeof(sockaddr_in6)) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(addr);
    std::memcpy(out->data(), &v6->sin6_addr, 16);
    return true;
  }
  return false;
}

std::string FormatIp(const IpBytes& addr) {
  static const uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  char text[INET6_ADDRSTRLEN] = {};
  if (std::memcmp(addr.data(), kMapped, 12) == 0) {
    inet_ntop(AF_INET, addr.data() + 12, text, sizeof(text));
  } else {
    inet_ntop(AF_INET6, addr.data(), text, sizeof(text));
  }
  return text;
}

}  // namespace argus
