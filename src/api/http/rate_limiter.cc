#include "api/http/rate_limiter.h"

#include <algorithm>
#include <cmath>
#include <functional>

namespace argus::api {

RateLimiter::RateLimiter(double rate_per_s, double burst, size_t max_keys)
    : rate_(rate_per_s),
      burst_(burst > 0 ? burst : std::max(1.0, 2 * rate_per_s)),
      max_per_shard_(std::max<size_t>(1, max_keys / kShards)) {}

int RateLimiter::Take(std::string_view key, std::chrono::steady_clock::time_point now) {
  if (rate_ <= 0) return 0;
  Shard& shard = shards_[std::hash<std::string_view>{}(key) % kShards];
  std::lock_guard lock(shard.mu);
  auto it = shard.buckets.find(std::string(key));
  if (it == shard.buckets.end()) {
    if (shard.buckets.size() >= max_per_shard_) {
      // Forget the bucket unused the longest: that client (idle longer than anyone else here)
      // starts again with a full bucket, which errs toward admitting, while memory stays bounded.
      shard.buckets.erase(shard.lru.back());
      shard.lru.pop_back();
    }
    shard.lru.emplace_front(key);
    it = shard.buckets.emplace(std::string(key), Bucket{burst_, now, shard.lru.begin()}).first;
  } else {
    shard.lru.splice(shard.lru.begin(), shard.lru, it->second.recency);
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

size_t RateLimiter::SizeForTest() const {
  size_t n = 0;
  for (const Shard& shard : shards_) {
    std::lock_guard lock(shard.mu);
    n += shard.buckets.size();
  }
  return n;
}

}  // namespace argus::api
