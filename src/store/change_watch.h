#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>

namespace argus::store {

/// Ends a watch when destroyed: once the destructor returns, its callback is not running and
/// will not run again.
class ChangeWatch {
 public:
  virtual ~ChangeWatch() = default;
};

/// The callbacks a store runs after its committed changes: what an in-process backend hands out
/// from a Watch call. Callbacks run on the thread whose change committed, one at a time; they
/// must be quick and must not call the store. Thread-safe. Held by shared_ptr (the watches it
/// hands out keep it alive).
class ChangeWatchers : public std::enable_shared_from_this<ChangeWatchers> {
 public:
  std::unique_ptr<ChangeWatch> Add(std::function<void()> on_change);
  /// Runs every callback.
  void Notify();

 private:
  class Entry;
  std::mutex mu_;
  std::map<int, std::function<void()>> callbacks_;  // GUARDED_BY(mu_)
  int next_ = 0;                                    // GUARDED_BY(mu_)
};

}  // namespace argus::store
