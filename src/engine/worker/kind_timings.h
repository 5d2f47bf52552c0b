#pragma once

#include <map>
#include <string>
#include <vector>

namespace argus::engine {

/// Which task kinds a worker may lease ahead, from the run times it has seen.
///
/// Leasing ahead saves a database round trip per task when tasks take microseconds (no-op and
/// bookkeeping tasks), but a task leased ahead waits in the worker, shown running, while the
/// slots are busy: so only kinds whose recent mean run time is well under a millisecond or two
/// are leased ahead, and only as many as make up `horizon_s` of expected work. A kind not seen
/// yet (`min_samples`), including every kind after a restart, is never leased ahead.
///
/// Not thread-safe: the owner serialises calls.
class KindTimings {
 public:
  struct Options {
    double max_task_s = 0.002;  ///< a kind is quick when its mean run time is below this
    double horizon_s = 0.05;    ///< lease ahead at most this much expected work
    int max_prefetch = 256;     ///< and never more tasks than this (0: never lease ahead)
    int min_samples = 3;        ///< runs seen before a kind can count as quick
  };

  explicit KindTimings(Options options) : options_(options) {}

  /// Records one run of `kind` that took `seconds`.
  void Observe(const std::string& kind, double seconds);

  /// The kinds quick enough to lease ahead, by name.
  std::vector<std::string> QuickKinds() const;
  /// How many tasks to lease ahead: horizon_s over the slowest quick kind's mean, at least 1
  /// when any kind is quick, at most max_prefetch; 0 when no kind is quick.
  int Prefetch() const;

 private:
  struct Mean {
    double seconds = 0;  // exponentially weighted
    int samples = 0;
  };
  bool Quick(const Mean& m) const;

  Options options_;
  std::map<std::string, Mean> kinds_;
};

}  // namespace argus::engine
