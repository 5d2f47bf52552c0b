#pragma once

#include <string_view>

#include "core/status.h"

namespace argus::api {

/// The one mapping from Status codes to HTTP statuses (STYLE.md §4).
int HttpStatusFor(StatusCode code);

}  // namespace argus::api
