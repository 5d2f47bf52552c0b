#include "api/auth/authenticator.h"

#include <mutex>

#include "core/crypto.h"

namespace argus::api {

namespace {

Status BadKey() { return UnauthenticatedError("missing, invalid, expired or revoked API key"); }

// Caps the cache so a flood of distinct valid keys cannot grow it without bound.
constexpr size_t kMaxCachedKeys = 100000;

}  // namespace

NewKeySecret MakeKeySecret() {
  uint8_t bytes[32];
  RandomBytes(bytes, sizeof(bytes));
  return KeySecretFrom("ak_" + Base64UrlEncode(std::string_view(
                                   reinterpret_cast<const char*>(bytes), sizeof(bytes))));
}

NewKeySecret KeySecretFrom(std::string secret) {
  NewKeySecret k;
  k.prefix = secret.substr(0, kKeyPrefixLength);
  k.hash = Sha256(secret);
  k.secret = std::move(secret);
  return k;
}

Authenticator::Authenticator(store::KeyStore* keys, store::NamespaceStore* namespaces,
                             const Clock* clock, double cache_ttl_s)
    : keys_(keys),
      namespaces_(namespaces),
      clock_(clock),
      ttl_(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
          std::chrono::duration<double>(cache_ttl_s))) {}

std::optional<Result<Principal>> Authenticator::Lookup(const std::string& hash,
                                                       uint64_t* generation) {
  auto now = std::chrono::steady_clock::now();
  std::shared_lock lock(mu_);
  if (generation != nullptr) *generation = generation_;
  auto it = by_hash_.find(hash);
  if (it == by_hash_.end() || now - it->second.cached_at >= ttl_) return std::nullopt;
  if (it->second.expires_at && *it->second.expires_at <= clock_->NowUs()) return BadKey();
  return it->second.principal;
}

std::optional<Result<Principal>> Authenticator::VerifyCached(std::string_view secret) {
  if (secret.size() < 32 || secret.size() > 256) return BadKey();
  return Lookup(Sha256(secret), nullptr);
}

Result<Principal> Authenticator::Verify(std::string_view secret) {
  if (secret.size() < 32 || secret.size() > 256) return BadKey();
  std::string hash = Sha256(secret);
  auto now = std::chrono::steady_clock::now();
  uint64_t generation;
  if (auto cached = Lookup(hash, &generation)) return std::move(*cached);
  auto key = keys_->GetApiKeyByPrefix(secret.substr(0, kKeyPrefixLength));
  if (!key.ok()) {
    if (key.status().code() == StatusCode::kNotFound) return BadKey();
    return key.status();
  }
  // The prefix only finds the row; the secret is proven by its whole hash, compared in
  // constant time.
  if (!ConstantTimeEquals(key->hash, hash) || key->revoked_at) return BadKey();
  if (key->expires_at && *key->expires_at <= clock_->NowUs()) return BadKey();
  Principal p;
  p.key_id = key->id;
  p.key_name = key->name;
  p.key_prefix = key->prefix;
  p.role = key->role;
  p.global = key->namespace_id.empty();
  p.namespace_id = key->namespace_id;
  if (!p.global) {
    auto ns = namespaces_->GetNamespace(key->namespace_id);
    if (!ns.ok()) return ns.status().code() == StatusCode::kNotFound ? BadKey() : ns.status();
    p.namespace_name = ns->name;
  }
  std::unique_lock lock(mu_);
  // A revocation that raced with this lookup wins: cache only what no invalidation followed.
  if (generation != generation_) return p;
  if (by_hash_.size() >= kMaxCachedKeys) by_hash_.clear();
  by_hash_[hash] = Entry{p, key->expires_at, now};
  return p;
}

std::optional<std::string> Authenticator::CachedNamespace(std::string_view name) {
  std::shared_lock lock(mu_);
  auto it = namespace_ids_.find(std::string(name));
  if (it == namespace_ids_.end()) return std::nullopt;
  return it->second;
}

Result<std::string> Authenticator::ResolveNamespace(std::string_view name) {
  if (auto cached = CachedNamespace(name)) return std::move(*cached);
  auto ns = namespaces_->GetNamespaceByName(name);
  if (!ns.ok()) {
    if (ns.status().code() == StatusCode::kNotFound) {
      return NotFoundError("namespace '" + std::string(name) + "' does not exist");
    }
    return ns.status();
  }
  std::unique_lock lock(mu_);
  if (namespace_ids_.size() >= kMaxCachedKeys) namespace_ids_.clear();
  namespace_ids_[ns->name] = ns->id;
  return ns->id;
}

void Authenticator::InvalidateKey(std::string_view key_id) {
  std::unique_lock lock(mu_);
  ++generation_;
  std::erase_if(by_hash_, [&](const auto& e) { return e.second.principal.key_id == key_id; });
}

void Authenticator::InvalidateNamespace(std::string_view namespace_id) {
  std::unique_lock lock(mu_);
  ++generation_;
  std::erase_if(by_hash_,
                [&](const auto& e) { return e.second.principal.namespace_id == namespace_id; });
  std::erase_if(namespace_ids_, [&](const auto& e) { return e.second == namespace_id; });
}

}  // namespace argus::api
