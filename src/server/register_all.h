#pragma once

#include "store/store_registry.h"

namespace argus::server {

/// Registers every backend compiled into this binary (explicitly: no static self-registration).
Status RegisterAllStores(store::StoreRegistry& registry);

}  // namespace argus::server
