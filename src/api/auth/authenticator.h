#pragma once

#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "api/request_context.h"
#include "core/clock.h"
#include "core/result.h"
#include "store/key_store.h"
#include "store/namespace_store.h"

namespace argus::api {

/// A freshly made key secret: shown to the user once; only `hash` and `prefix` are stored.
struct NewKeySecret {
  std::string secret;  ///< "ak_" + base64url(32 random bytes)
  std::string prefix;  ///< its first kKeyPrefixLength characters
  std::string hash;    ///< SHA-256 of `secret`, raw bytes
};

inline constexpr size_t kKeyPrefixLength = 12;

NewKeySecret MakeKeySecret();
/// The stored form of a user-chosen secret (ARGUS_ADMIN_KEY): prefix and hash.
NewKeySecret KeySecretFrom(std::string secret);

/// Verifies bearer keys against the metadata store, with a cache so that a hot key costs one
/// SHA-256 and a hash-map lookup. Hash comparison is constant-time. Revocation and namespace
/// deletion evict cached entries at once (Invalidate*), so they take effect on the next request.
/// Namespace names are resolved (and cached) here too. Thread-safe.
class Authenticator {
 public:
  /// `keys` and `namespaces` are borrowed and outlive the authenticator.
  Authenticator(store::KeyStore* keys, store::NamespaceStore* namespaces, const Clock* clock,
                double cache_ttl_s);

  /// Unauthenticated for a malformed, unknown, expired or revoked key (one message for all, so
  /// callers learn nothing about which); Unavailable when the store is down.
  Result<Principal> Verify(std::string_view secret);

  /// Verify from the cache alone, for a thread that must not block: nullopt when the answer needs
  /// the store (the key is not cached, or was cached longer than the TTL ago).
  std::optional<Result<Principal>> VerifyCached(std::string_view secret);

  /// Namespace id for a name; NotFound when there is none.
  Result<std::string> ResolveNamespace(std::string_view name);
  /// ResolveNamespace from the cache alone: nullopt when the answer needs the store.
  std::optional<std::string> CachedNamespace(std::string_view name);

  void InvalidateKey(std::string_view key_id);
  void InvalidateNamespace(std::string_view namespace_id);

 private:
  struct Entry {
    Principal principal;
    std::optional<TimestampUs> expires_at;
    std::chrono::steady_clock::time_point cached_at;
  };

  // The cached answer for the key whose SHA-256 is `hash`, or nullopt; `generation` (when not
  // null) receives the invalidation count it was read under.
  std::optional<Result<Principal>> Lookup(const std::string& hash, uint64_t* generation);

  store::KeyStore* keys_;
  store::NamespaceStore* namespaces_;
  const Clock* clock_;
  std::chrono::steady_clock::duration ttl_;
  std::shared_mutex mu_;
  uint64_t generation_ = 0;                         // bumped by every invalidation, GUARDED_BY(mu_)
  std::unordered_map<std::string, Entry> by_hash_;  // GUARDED_BY(mu_)
  std::unordered_map<std::string, std::string> namespace_ids_;  // name → id, GUARDED_BY(mu_)
};

}  // namespace argus::api
