#pragma once

#include "core/metrics.h"

namespace argus::server {

/// Adds the standard process_* metrics (RSS, virtual memory, CPU seconds, open and max fds,
/// start time), read from /proc at scrape time, and argus_build_info.
void AddProcessMetrics(MetricsRegistry& registry);

}  // namespace argus::server
