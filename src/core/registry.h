#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"

namespace argus {

/// Factories for implementations of one interface, keyed by name ("sqlite", "postgres", ...),
/// each with a capabilities struct callers branch on instead of casting to a concrete type.
/// Filled explicitly at start-up (server/register_all.cc); not thread-safe while being filled,
/// read-only and thread-safe afterwards.
template <typename Interface, typename Args, typename Capabilities>
class Registry {
 public:
  using Factory = std::function<Result<std::unique_ptr<Interface>>(const Args&)>;
  /// Checks an implementation's settings without opening or connecting anything: InvalidArgument
  /// naming the setting and the fix.
  using Validator = std::function<Status(const Args&)>;

  /// AlreadyExists when `name` is registered already (a start-up error). `validate` may be null
  /// (nothing to check beyond what the factory meets).
  Status Register(const std::string& name, Capabilities caps, Factory factory,
                  Validator validate = nullptr) {
    if (entries_.count(name)) {
      return AlreadyExistsError("backend '" + name + "' is registered twice");
    }
    entries_.emplace(name, Entry{std::move(caps), std::move(factory), std::move(validate)});
    return OkStatus();
  }

  /// The entry's validator on `args`; InvalidArgument naming the known backends when `name` is
  /// unknown.
  Status Validate(const std::string& name, const Args& args) const {
    auto it = entries_.find(name);
    if (it == entries_.end()) return UnknownName(name);
    return it->second.validate ? it->second.validate(args) : OkStatus();
  }

  /// Validates, then creates. InvalidArgument naming the known backends when `name` is unknown.
  Result<std::unique_ptr<Interface>> Create(const std::string& name, const Args& args) const {
    ARGUS_RETURN_IF_ERROR(Validate(name, args));
    return entries_.find(name)->second.factory(args);
  }

  Result<Capabilities> CapabilitiesOf(const std::string& name) const {
    auto it = entries_.find(name);
    if (it == entries_.end()) return UnknownName(name);
    return it->second.caps;
  }

  std::vector<std::string> Names() const {
    std::vector<std::string> out;
    for (const auto& [name, e] : entries_) out.push_back(name);
    return out;
  }

 private:
  struct Entry {
    Capabilities caps;
    Factory factory;
    Validator validate;
  };

  Status UnknownName(const std::string& name) const {
    std::string known;
    for (const auto& [n, e] : entries_) known += (known.empty() ? "" : ", ") + n;
    return InvalidArgumentError("unknown backend '" + name + "' (known: " + known + ")");
  }

  std::map<std::string, Entry> entries_;
};

}  // namespace argus
