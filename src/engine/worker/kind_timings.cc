#include "engine/worker/kind_timings.h"

#include <algorithm>
#include <cmath>

namespace argus::engine {
namespace {
// Weight of the newest run: a kind that turns slow stops being leased ahead within a few runs.
constexpr double kNewest = 0.25;
}  // namespace

void KindTimings::Observe(const std::string& kind, double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return;
  Mean& m = kinds_[kind];
  m.seconds = m.samples == 0 ? seconds : m.seconds + kNewest * (seconds - m.seconds);
  ++m.samples;
}

bool KindTimings::Quick(const Mean& m) const {
  return m.samples >= options_.min_samples && m.seconds < options_.max_task_s;
}

std::vector<std::string> KindTimings::QuickKinds() const {
  std::vector<std::string> out;
  if (options_.max_prefetch <= 0) return out;
  for (const auto& [kind, m] : kinds_) {
    if (Quick(m)) out.push_back(kind);
  }
  return out;
}

int KindTimings::Prefetch() const {
  if (options_.max_prefetch <= 0) return 0;
  double slowest = -1;
  for (const auto& [kind, m] : kinds_) {
    if (Quick(m)) slowest = std::max(slowest, m.seconds);
  }
  if (slowest < 0) return 0;
  const double n = slowest > 0 ? options_.horizon_s / slowest : options_.max_prefetch;
  return static_cast<int>(std::clamp(n, 1.0, static_cast<double>(options_.max_prefetch)));
}

}  // namespace argus::engine
