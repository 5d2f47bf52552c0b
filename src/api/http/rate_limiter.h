#pragma once

#include <array>
#include <chrono>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace argus::api {

/// Token buckets keyed by a string (an API key id, a client address): `rate` tokens per second
/// up to `burst`. A disabled limiter (rate <= 0) admits everything without locking.
/// Thread-safe; sharded so concurrent I/O threads rarely contend.
class RateLimiter {
 public:
  RateLimiter(double rate_per_s, double burst);

  bool enabled() const { return rate_ > 0; }

  /// Takes one token for `key` at `now`. Returns 0 when admitted, else the whole seconds to
  /// wait before a token is available (for Retry-After, at least 1).
  int Take(std::string_view key, std::chrono::steady_clock::time_point now);

 private:
  struct Bucket {
    double tokens;
    std::chrono::steady_clock::time_point updated;
  };
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::string, Bucket> buckets;
  };
  static constexpr size_t kShards = 16;
  static constexpr size_t kMaxBucketsPerShard = 65536;

  double rate_;
  double burst_;
  std::array<Shard, kShards> shards_;
};

}  // namespace argus::api
