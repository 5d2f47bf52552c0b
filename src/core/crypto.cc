#include "core/crypto.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <cstdlib>
#include <memory>

namespace argus {

void RandomBytes(uint8_t* out, size_t n) {
  if (RAND_bytes(out, static_cast<int>(n)) != 1) std::abort();
}

namespace {

// OpenSSL 3 looks the algorithm up (and allocates) on every SHA256() or EVP_sha256() init
// ("implicit fetch"); fetched once, it is not: SHA-256 of an API key runs on every request.
const EVP_MD* Sha256Md() {
  static const EVP_MD* md = [] {
    EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    if (fetched == nullptr) std::abort();
    return fetched;  // kept for the process's life
  }();
  return md;
}

}  // namespace

std::string Sha256(std::string_view data) {
  // One context per thread, reused: no allocation per call.
  thread_local std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(),
                                                                           &EVP_MD_CTX_free);
  std::string out(SHA256_DIGEST_LENGTH, '\0');
  unsigned int len = 0;
  if (ctx == nullptr || EVP_DigestInit_ex2(ctx.get(), Sha256Md(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len) != 1) {
    std::abort();
  }
  return out;
}

Sha256Hasher::Sha256Hasher() : ctx_(EVP_MD_CTX_new()) {
  if (ctx_ == nullptr || EVP_DigestInit_ex2(ctx_, Sha256Md(), nullptr) != 1) std::abort();
}

Sha256Hasher::~Sha256Hasher() { EVP_MD_CTX_free(ctx_); }

Sha256Hasher::Sha256Hasher(Sha256Hasher&& other) noexcept : ctx_(other.ctx_) {
  other.ctx_ = nullptr;
}

Sha256Hasher& Sha256Hasher::operator=(Sha256Hasher&& other) noexcept {
  if (this != &other) {
    EVP_MD_CTX_free(ctx_);
    ctx_ = other.ctx_;
    other.ctx_ = nullptr;
  }
  return *this;
}

void Sha256Hasher::Update(std::string_view data) {
  // Only a moved-from hasher (a programmer error) or a broken OpenSSL makes this fail.
  if (EVP_DigestUpdate(ctx_, data.data(), data.size()) != 1) std::abort();
}

std::string Sha256Hasher::Finish() {
  std::string out(SHA256_DIGEST_LENGTH, '\0');
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx_, reinterpret_cast<unsigned char*>(out.data()), &len) != 1 ||
      len != SHA256_DIGEST_LENGTH || EVP_DigestInit_ex2(ctx_, Sha256Md(), nullptr) != 1) {
    std::abort();
  }
  return out;
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  // As Sha256Md: HMAC() fetches the MAC and the digest on every call (a webhook signature each
  // delivery); fetched once, with one context per thread initialised with each call's key.
  static EVP_MAC* mac = [] {
    EVP_MAC* fetched = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    if (fetched == nullptr) std::abort();
    return fetched;  // kept for the process's life
  }();
  thread_local std::unique_ptr<EVP_MAC_CTX, decltype(&EVP_MAC_CTX_free)> ctx(EVP_MAC_CTX_new(mac),
                                                                             &EVP_MAC_CTX_free);
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", digest, 0),
                               OSSL_PARAM_construct_end()};
  std::string out(SHA256_DIGEST_LENGTH, '\0');
  size_t len = 0;
  if (ctx == nullptr ||
      EVP_MAC_init(ctx.get(), reinterpret_cast<const unsigned char*>(key.data()), key.size(),
                   params) != 1 ||
      EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(data.data()), data.size()) !=
          1 ||
      EVP_MAC_final(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len, out.size()) !=
          1) {
    std::abort();
  }
  out.resize(len);
  return out;
}

std::string HexEncode(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xf]);
  }
  return out;
}

namespace {

std::string Base64With(std::string_view bytes, const char* alphabet, bool pad) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  auto at = [&](size_t k) { return static_cast<uint32_t>(static_cast<unsigned char>(bytes[k])); };
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t v = (at(i) << 16) | (at(i + 1) << 8) | at(i + 2);
    out.push_back(alphabet[(v >> 18) & 63]);
    out.push_back(alphabet[(v >> 12) & 63]);
    out.push_back(alphabet[(v >> 6) & 63]);
    out.push_back(alphabet[v & 63]);
  }
  size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t v = at(i) << 16;
    if (rest == 2) v |= at(i + 1) << 8;
    out.push_back(alphabet[(v >> 18) & 63]);
    out.push_back(alphabet[(v >> 12) & 63]);
    if (rest == 2) out.push_back(alphabet[(v >> 6) & 63]);
    if (pad) out.append(rest == 1 ? "==" : "=");
  }
  return out;
}

constexpr char kStd[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kUrl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

}  // namespace

std::string Base64Encode(std::string_view bytes) { return Base64With(bytes, kStd, true); }
std::string Base64UrlEncode(std::string_view bytes) { return Base64With(bytes, kUrl, false); }

namespace {

// Decodes with the given characters for 62 and 63. `padded`: the length must be a multiple of 4
// with at most two '=' at the end; otherwise there must be no '=' at all.
bool Base64DecodeWith(std::string_view text, char c62, char c63, bool padded, std::string* out) {
  out->clear();
  if (padded) {
    if (text.size() % 4 != 0) return false;
    int pad = 0;
    while (pad < 2 && !text.empty() && text.back() == '=') {
      text.remove_suffix(1);
      ++pad;
    }
  }
  if (text.size() % 4 == 1) return false;
  out->reserve(text.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v;
    if (c >= 'A' && c <= 'Z')
      v = c - 'A';
    else if (c >= 'a' && c <= 'z')
      v = c - 'a' + 26;
    else if (c >= '0' && c <= '9')
      v = c - '0' + 52;
    else if (c == c62)
      v = 62;
    else if (c == c63)
      v = 63;
    else
      return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return true;
}

}  // namespace

bool Base64UrlDecode(std::string_view text, std::string* out) {
  return Base64DecodeWith(text, '-', '_', false, out);
}

bool Base64Decode(std::string_view text, std::string* out) {
  return Base64DecodeWith(text, '+', '/', true, out);
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace argus
