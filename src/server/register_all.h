#pragma once

#include <string>
#include <vector>

#include "store/store_registry.h"

namespace argus::server {

/// Registers every backend compiled into this binary (explicitly: no static self-registration).
Status RegisterAllStores(store::StoreRegistry& registry);

/// The host warnings of every registered backend (capabilities' host_warnings), each prefixed
/// with its registry and name, e.g. "source 'folder': ...": what `argus serve` logs at start-up
/// and `argus config print` lists.
std::vector<std::string> HostWarnings(const store::StoreRegistry& registry);

}  // namespace argus::server
