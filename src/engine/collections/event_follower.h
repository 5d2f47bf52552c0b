#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/result.h"
#include "store/event_bus.h"

namespace argus::engine {

/// The thread of a follower of the event log (auto_process, batch progress): it runs `step` at
/// start, whenever an event it `wants` is published, again at once while the step says there is
/// more to read, after `retry_s` when the step fails (or throws), and every `retry_s` without a
/// bus. The step keeps its own cursor. Start and Stop once; Stop joins the thread.
class EventFollower {
 public:
  /// Sets *more when a full batch was read and more may follow.
  using Step = std::function<Status(bool* more)>;
  EventFollower(std::string name, store::EventBus* bus,
                std::function<bool(const store::Event&)> wants, Step step, double retry_s);
  ~EventFollower();

  void Start();
  void Stop();

 private:
  std::string name_;
  store::EventBus* bus_;
  std::function<bool(const store::Event&)> wants_;
  Step step_;
  double retry_s_;
  std::unique_ptr<store::EventBus::Subscription> subscription_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;   // under mu_
  bool woken_ = false;  // under mu_: a wanted event was published since the last step began
  std::thread thread_;
};

}  // namespace argus::engine
