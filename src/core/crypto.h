#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX, kept out of this header.

namespace argus {

/// Thin wrappers over OpenSSL's libcrypto: the primitives every layer needs (key hashing,
/// content addressing, webhook signatures, SigV4). Thread-safe.

/// Fills `out` with cryptographically secure random bytes. Aborts if the CSPRNG fails: nothing
/// safe can continue without one.
void RandomBytes(uint8_t* out, size_t n);

/// SHA-256 of `data`, as 32 raw bytes.
std::string Sha256(std::string_view data);
/// SHA-256 over data that arrives in pieces (a streamed upload). Not thread-safe; movable.
/// Aborts if OpenSSL cannot allocate its context, like RandomBytes.
class Sha256Hasher {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(Sha256Hasher&&) noexcept;
  Sha256Hasher& operator=(Sha256Hasher&&) noexcept;
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;

  /// Adds `data` to what is hashed.
  void Update(std::string_view data);
  /// SHA-256 of everything passed to Update since construction or the last Finish, as 32 raw
  /// bytes; the hasher then starts over.
  std::string Finish();

 private:
  evp_md_ctx_st* ctx_;
};

/// HMAC-SHA256 of `data` keyed by `key`, as 32 raw bytes.
std::string HmacSha256(std::string_view key, std::string_view data);

/// Lowercase hex of raw bytes.
std::string HexEncode(std::string_view bytes);
/// Base64 (RFC 4648 §4, padded) and base64url (§5, unpadded).
std::string Base64Encode(std::string_view bytes);
std::string Base64UrlEncode(std::string_view bytes);
/// Returns false when `text` is not valid unpadded base64url.
bool Base64UrlDecode(std::string_view text, std::string* out);
/// Returns false when `text` is not valid padded standard base64.
bool Base64Decode(std::string_view text, std::string* out);

/// Compares in time independent of where the inputs differ (sizes may leak).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace argus
