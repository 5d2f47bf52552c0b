#include "store/s3/sigv4.h"

#include <algorithm>
#include <cctype>

#include "core/crypto.h"

namespace argus::store::s3 {
namespace {

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Trims and collapses inner runs of spaces to one, as the canonical header value wants.
std::string TrimValue(std::string_view value) {
  std::string out;
  bool space = false;
  for (char c : value) {
    if (c == ' ' || c == '\t') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

// The (lowercase name, trimmed value) pairs that are signed, sorted by name, "host" included.
std::vector<std::pair<std::string, std::string>> SignedHeaderPairs(const SigV4Request& request) {
  std::vector<std::pair<std::string, std::string>> out;
  out.emplace_back("host", TrimValue(request.host));
  for (const auto& [name, value] : request.headers) {
    out.emplace_back(Lower(name), TrimValue(value));
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string SignedHeaderNames(const std::vector<std::pair<std::string, std::string>>& headers) {
  std::string out;
  for (const auto& header : headers) {
    if (!out.empty()) out.push_back(';');
    out.append(header.first);
  }
  return out;
}

std::string Scope(std::string_view amz_date, const SigV4Credentials& credentials) {
  std::string out(amz_date.substr(0, 8));
  out.push_back('/');
  out.append(credentials.region);
  out.push_back('/');
  out.append(credentials.service);
  out.append("/aws4_request");
  return out;
}

}  // namespace

std::string UriEncode(std::string_view text, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) || c == '-' || c == '.' || c == '_' || c == '~' ||
        (keep_slash && c == '/')) {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0xf]);
    }
  }
  return out;
}

std::string CanonicalQueryString(const std::vector<std::pair<std::string, std::string>>& query) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(query.size());
  for (const auto& [name, value] : query) {
    encoded.emplace_back(UriEncode(name, false), UriEncode(value, false));
  }
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) out.push_back('&');
    out.append(name);
    out.push_back('=');
    out.append(value);
  }
  return out;
}

std::string CanonicalRequest(const SigV4Request& request) {
  std::vector<std::pair<std::string, std::string>> headers = SignedHeaderPairs(request);
  std::string out = request.method;
  out.push_back('\n');
  out.append(request.canonical_uri.empty() ? "/" : request.canonical_uri);
  out.push_back('\n');
  out.append(CanonicalQueryString(request.query));
  out.push_back('\n');
  for (const auto& [name, value] : headers) {
    out.append(name);
    out.push_back(':');
    out.append(value);
    out.push_back('\n');
  }
  out.push_back('\n');
  out.append(SignedHeaderNames(headers));
  out.push_back('\n');
  out.append(request.payload_sha256);
  return out;
}

std::string StringToSign(const SigV4Request& request, const SigV4Credentials& credentials,
                         std::string_view amz_date) {
  std::string out = "AWS4-HMAC-SHA256\n";
  out.append(amz_date);
  out.push_back('\n');
  out.append(Scope(amz_date, credentials));
  out.push_back('\n');
  out.append(HexEncode(Sha256(CanonicalRequest(request))));
  return out;
}

std::string Signature(const SigV4Request& request, const SigV4Credentials& credentials,
                      std::string_view amz_date) {
  std::string key = "AWS4";
  key.append(credentials.secret_access_key);
  key = HmacSha256(key, amz_date.substr(0, 8));
  key = HmacSha256(key, credentials.region);
  key = HmacSha256(key, credentials.service);
  key = HmacSha256(key, "aws4_request");
  return HexEncode(HmacSha256(key, StringToSign(request, credentials, amz_date)));
}

std::string AuthorizationHeader(const SigV4Request& request, const SigV4Credentials& credentials,
                                std::string_view amz_date) {
  std::string out = "AWS4-HMAC-SHA256 Credential=";
  out.append(credentials.access_key_id);
  out.push_back('/');
  out.append(Scope(amz_date, credentials));
  out.append(", SignedHeaders=");
  out.append(SignedHeaderNames(SignedHeaderPairs(request)));
  out.append(", Signature=");
  out.append(Signature(request, credentials, amz_date));
  return out;
}

}  // namespace argus::store::s3
