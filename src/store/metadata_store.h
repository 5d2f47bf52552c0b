#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/json.h"
#include "core/result.h"

namespace argus::store {

/// Roles of a namespace key (a global key is always an admin).
enum class Role { kViewer = 0, kEditor = 1, kAdmin = 2 };
std::string_view RoleName(Role role);
Result<Role> ParseRole(std::string_view name);

/// The isolation unit: every other resource lives in exactly one namespace.
struct Namespace {
  std::string id;    ///< UUIDv7
  std::string name;  ///< unique, [a-z0-9][a-z0-9-_]{0,62}
  Json settings = Json::object();
  TimestampUs created_at = 0;
  TimestampUs updated_at = 0;
};

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

/// Keyset pagination: items with an id greater than `after_id`, in id (= creation) order.
/// `after_id` need not name an existing item (it is a plain lower bound). A limit outside
/// 1..1000 is InvalidArgument.
struct PageRequest {
  std::string after_id;  ///< empty for the first page
  int limit = 50;        ///< 1..1000
};

template <typename T>
struct Page {
  std::vector<T> items;
  /// Id of the last item when more items follow; empty on the last page.
  std::string next_after_id;
};

/// Durable metadata: namespaces, API keys and (in later issues) buckets, objects, collections,
/// documents. Implementations are thread-safe: any method may be called from any thread
/// concurrently. Every method returns Unavailable when the backend cannot be reached (retry),
/// Internal on a bug or corrupt data.
class MetadataStore {
 public:
  virtual ~MetadataStore() = default;

  /// OK when the backend answers a trivial query.
  virtual Status Ping() = 0;

  /// Small durable key/value pairs owned by the server itself (e.g. "admin_key_created").
  /// GetSystemValue returns nullopt for a key never written.
  virtual Result<std::optional<std::string>> GetSystemValue(std::string_view key) = 0;
  virtual Status PutSystemValue(std::string_view key, std::string_view value) = 0;

  /// Stores `ns` as given (the caller fills id and times). AlreadyExists when the name is taken.
  virtual Result<Namespace> CreateNamespace(const Namespace& ns) = 0;
  /// NotFound when absent.
  virtual Result<Namespace> GetNamespace(std::string_view id) = 0;
  virtual Result<Namespace> GetNamespaceByName(std::string_view name) = 0;
  virtual Result<Page<Namespace>> ListNamespaces(const PageRequest& page) = 0;
  /// Deletes the namespace and everything in it (its keys). NotFound when absent.
  virtual Status DeleteNamespace(std::string_view id) = 0;

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
