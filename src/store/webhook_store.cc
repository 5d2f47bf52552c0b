#include "store/webhook_store.h"

#include <string>

namespace argus::store {

std::string_view DeliveryStatusName(DeliveryStatus status) {
  switch (status) {
    case DeliveryStatus::kPending:
      return "pending";
    case DeliveryStatus::kSucceeded:
      return "succeeded";
    case DeliveryStatus::kFailed:
      return "failed";
  }
  return "pending";
}

Result<DeliveryStatus> ParseDeliveryStatus(std::string_view name) {
  for (DeliveryStatus s :
       {DeliveryStatus::kPending, DeliveryStatus::kSucceeded, DeliveryStatus::kFailed}) {
    if (DeliveryStatusName(s) == name) return s;
  }
  return InvalidArgumentError("unknown delivery status '" + std::string(name) +
                              "' (pending, succeeded, failed)");
}

}  // namespace argus::store
