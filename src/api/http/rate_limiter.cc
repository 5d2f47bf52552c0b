#include "api/http/rate_limiter.h"

#include <algorithm>
#include <cmath>
#include <functional>

namespace argus::api {

RateLimiter::RateLimiter(double rate_per_s, double burst)
    : rate_(rate_per_s), burst_(burst > 0 ? burst : std::max(1.0, 2 * rate_per_s)) {}

int RateLimiter::Take(std::string_view key, std::chrono::steady_clock::time_point now) {
  if (rate_ <= 0) return 0;
  Shard& shard = shards_[std::hash<std::string_view>{}(key) % kShards];
  std::lock_guard lock(shard.mu);
  auto it = shard.buckets.find(std::string(key));
  if (it == shard.buckets.end()) {
    // A full shard forgets its buckets: a forgotten client starts with a full bucket, which
    // errs toward admitting rather than growing memory without bound.
    if (shard.buckets.size() >= kMaxBucketsPerShard) shard.buckets.clear();
    it = shard.buckets.emplace(std::string(key), Bucket{burst_, now}).first;
  }
  Bucket& b = it->second;
  double elapsed = std::chrono::duration<double>(now - b.updated).count();
  b.tokens = std::min(burst_, b.tokens + std::max(0.0, elapsed) * rate_);
  b.updated = now;
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return 0;
  }
  return std::max(1, static_cast<int>(std::ceil((1 - b.tokens) / rate_)));
}

}  // namespace argus::api
