#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/status.h"

namespace argus {

/// Which calls of a wrapped store fail or stall, after LevelDB's fault-injection Env: the
/// fault-injecting wrappers in tests/fakes/ forward every call to the real store, except that
/// each first asks Before(method) and returns its error instead when there is one. Methods are
/// named as in the contract header ("Lease", "CompleteMany", ...). Thread-safe.
class FaultPlan {
 public:
  /// Calls number `first` .. `first + count - 1` of `method` (counting from 1, from now on)
  /// return `status` without reaching the store. count < 0: every call from `first` on.
  void Fail(std::string method, Status status, int first = 1, int count = 1) {
    std::lock_guard lock(mu_);
    Rule& r = rules_[method];
    r.status = std::move(status);
    r.first = r.calls + first;
    r.last = count < 0 ? INT64_MAX : r.first + count - 1;
  }
  /// Every call of `method` first sleeps `delay` (then goes on to the store).
  void Delay(std::string method, std::chrono::milliseconds delay) {
    std::lock_guard lock(mu_);
    rules_[method].delay = delay;
  }
  /// Forgets every failure and delay (the call counts stay).
  void Clear() {
    std::lock_guard lock(mu_);
    for (auto& [name, r] : rules_) {
      r.status.reset();
      r.delay = {};
    }
  }
  /// Calls of `method` so far, failed ones included.
  int64_t Calls(std::string_view method) const {
    std::lock_guard lock(mu_);
    auto it = rules_.find(method);
    return it == rules_.end() ? 0 : it->second.calls;
  }
  /// Failed (injected) calls of `method` so far.
  int64_t Injected(std::string_view method) const {
    std::lock_guard lock(mu_);
    auto it = rules_.find(method);
    return it == rules_.end() ? 0 : it->second.injected;
  }

  /// For the wrappers: counts the call, sleeps any delay, and returns the error to answer with.
  std::optional<Status> Before(std::string_view method) {
    std::chrono::milliseconds delay{};
    std::optional<Status> out;
    {
      std::lock_guard lock(mu_);
      auto it = rules_.find(method);
      if (it == rules_.end()) it = rules_.emplace(std::string(method), Rule{}).first;
      Rule& r = it->second;
      const int64_t n = ++r.calls;
      delay = r.delay;
      if (r.status && n >= r.first && n <= r.last) {
        out = *r.status;
        ++r.injected;
      }
    }
    if (delay.count() > 0) std::this_thread::sleep_for(delay);
    return out;
  }

 private:
  struct Rule {
    int64_t calls = 0;
    int64_t injected = 0;
    std::optional<Status> status;
    int64_t first = 0, last = -1;
    std::chrono::milliseconds delay{};
  };
  mutable std::mutex mu_;
  std::map<std::string, Rule, std::less<>> rules_;
};

}  // namespace argus

/// In a wrapper method: answer with the injected error, if the plan has one for this call.
#define ARGUS_INJECT_FAULT(plan, method) \
  if (auto injected_ = (plan).Before(method)) return *injected_
