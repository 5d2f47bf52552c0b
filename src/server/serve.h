#pragma once

#include "core/config.h"

namespace argus::server {

/// `argus serve`: locks the data directory, opens the stores, makes the admin key on first
/// start, serves HTTP until SIGTERM/SIGINT, then drains and closes everything. Returns the
/// process exit code (0 after a clean shutdown).
int RunServe(const Config& config);

}  // namespace argus::server
