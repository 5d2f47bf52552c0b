#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/result.h"
#include "store/page.h"

namespace argus::store {

/// Roles of a namespace key (a global key is always an admin).
enum class Role { kViewer = 0, kEditor = 1, kAdmin = 2 };
std::string_view RoleName(Role role);
Result<Role> ParseRole(std::string_view name);

/// A bearer credential. Only a hash of the secret is stored.
struct ApiKey {
  std::string id;            ///< UUIDv7
  std::string namespace_id;  ///< empty for a global (all-namespaces) admin key
  std::string name;
  Role role = Role::kViewer;
  std::string prefix;  ///< the first characters of the secret, unique: the lookup handle
  std::string hash;    ///< SHA-256 of the whole secret, 32 raw bytes
  TimestampUs created_at = 0;
  TimestampUs updated_at = 0;
  std::optional<TimestampUs> expires_at;
  std::optional<TimestampUs> revoked_at;
};

/// The API keys (a role of MetadataStore): what the authenticator reads. Thread-safe: any method
/// may be called from any thread concurrently. Every method returns Unavailable when the backend
/// cannot be reached (retry), Internal on a bug or corrupt data.
class KeyStore {
 public:
  virtual ~KeyStore() = default;

  /// Stores `key` as given. AlreadyExists when its prefix is taken (the caller makes a new
  /// secret); NotFound when its namespace does not exist.
  virtual Result<ApiKey> CreateApiKey(const ApiKey& key) = 0;
  /// NotFound when absent. Revoked keys are still returned (with revoked_at set).
  virtual Result<ApiKey> GetApiKey(std::string_view id) = 0;
  virtual Result<ApiKey> GetApiKeyByPrefix(std::string_view prefix) = 0;
  /// Keys of one namespace (empty `namespace_id`: the global keys), oldest first. A namespace
  /// that does not exist has no keys (an empty page, not NotFound).
  virtual Result<Page<ApiKey>> ListApiKeys(std::string_view namespace_id, const PageRequest& page,
                                           bool include_revoked) = 0;
  /// Sets revoked_at (idempotent: a second call keeps the first time). NotFound when absent.
  virtual Result<ApiKey> RevokeApiKey(std::string_view id, TimestampUs at) = 0;
};

}  // namespace argus::store
