#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace argus::api {

/// Token buckets keyed by a string (an API key id, a client address): `rate` tokens per second
/// up to `burst`. A disabled limiter (rate <= 0) admits everything without locking.
///
/// Memory is bounded: at most about `max_keys` buckets are kept. When a new key arrives at a full
/// table, only the least recently used bucket of its shard is forgotten (that client starts
/// again with a full bucket), so a flood of new addresses cannot reset the clients being limited.
/// Thread-safe; sharded so concurrent I/O threads rarely contend.
class RateLimiter {
 public:
  static constexpr size_t kDefaultMaxKeys = size_t{1} << 20;

  /// `burst` <= 0 means max(1, twice the rate). REQUIRES: max_keys >= 1.
  RateLimiter(double rate_per_s, double burst, size_t max_keys = kDefaultMaxKeys);

  bool enabled() const { return rate_ > 0; }

  /// Takes one token for `key` at `now`. Returns 0 when admitted, else the whole seconds to
  /// wait before a token is available (for Retry-After, at least 1).
  int Take(std::string_view key, std::chrono::steady_clock::time_point now);

  /// Buckets currently kept, over all shards.
  size_t SizeForTest() const;

 private:
  struct Bucket {
    double tokens;
    std::chrono::steady_clock::time_point updated;
    std::list<std::string>::iterator recency;  ///< its key's place in Shard::lru
  };
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<std::string, Bucket> buckets;  // GUARDED_BY(mu)
    std::list<std::string> lru;  ///< keys, most recently used first; GUARDED_BY(mu)
  };
  static constexpr size_t kShards = 16;

  double rate_;
  double burst_;
  size_t max_per_shard_;
  std::array<Shard, kShards> shards_;
};

}  // namespace argus::api
