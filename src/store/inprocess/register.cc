#include "store/inprocess/register.h"

#include "store/inprocess/in_process_event_bus.h"

namespace argus::store::inprocess {

Status RegisterInProcessStores(StoreRegistry& registry) {
  return registry.event_bus.Register("inprocess", {.multi_process = false},
                                     [](const StoreArgs&) -> Result<std::unique_ptr<EventBus>> {
                                       return std::unique_ptr<EventBus>(new InProcessEventBus());
                                     });
}

}  // namespace argus::store::inprocess
