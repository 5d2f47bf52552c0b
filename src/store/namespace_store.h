#pragma once

#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/json.h"
#include "core/result.h"
#include "store/page.h"

namespace argus::store {

/// The isolation unit: every other resource lives in exactly one namespace.
struct Namespace {
  std::string id;    ///< UUIDv7
  std::string name;  ///< unique, [a-z0-9][a-z0-9-_]{0,62}
  Json settings = Json::object();
  TimestampUs created_at = 0;
  TimestampUs updated_at = 0;
};

/// The namespaces (a role of MetadataStore). Thread-safe: any method may be called from any thread
/// concurrently. Every method returns Unavailable when the backend cannot be reached (retry),
/// Internal on a bug or corrupt data.
class NamespaceStore {
 public:
  virtual ~NamespaceStore() = default;

  /// Stores `ns` as given (the caller fills id and times). AlreadyExists when the name is taken.
  virtual Result<Namespace> CreateNamespace(const Namespace& ns) = 0;
  /// NotFound when absent.
  virtual Result<Namespace> GetNamespace(std::string_view id) = 0;
  virtual Result<Namespace> GetNamespaceByName(std::string_view name) = 0;
  virtual Result<Page<Namespace>> ListNamespaces(const PageRequest& page) = 0;
  /// Deletes the namespace and everything in it (its keys, buckets and objects). NotFound when
  /// absent.
  virtual Status DeleteNamespace(std::string_view id) = 0;
};

}  // namespace argus::store
