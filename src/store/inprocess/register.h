#pragma once

#include "store/store_registry.h"

namespace argus::store::inprocess {

/// Registers the in-process event bus as "inprocess".
Status RegisterInProcessStores(StoreRegistry& registry);

}  // namespace argus::store::inprocess
