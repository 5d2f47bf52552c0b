#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace argus::store {

/// Small durable key/value pairs owned by the server itself ("admin_key_created", a follower's
/// cursor). A role of MetadataStore. Thread-safe; Unavailable when the backend cannot be reached.
class SystemValues {
 public:
  virtual ~SystemValues() = default;

  /// nullopt for a key never written.
  virtual Result<std::optional<std::string>> GetSystemValue(std::string_view key) = 0;
  virtual Status PutSystemValue(std::string_view key, std::string_view value) = 0;
};

}  // namespace argus::store
