#include "engine/collections/event_follower.h"

#include <chrono>
#include <exception>
#include <utility>

#include "core/log.h"
#include "core/thread_name.h"

namespace argus::engine {

EventFollower::EventFollower(std::string name, store::EventBus* bus,
                             std::function<bool(const store::Event&)> wants, Step step,
                             double retry_s)
    : name_(std::move(name)),
      bus_(bus),
      wants_(std::move(wants)),
      step_(std::move(step)),
      retry_s_(retry_s) {}

EventFollower::~EventFollower() { Stop(); }

void EventFollower::Start() {
  if (bus_ != nullptr) {
    subscription_ = bus_->Subscribe([this](const store::EventBatch& batch) {
      for (const store::Event& e : *batch) {
        if (!wants_(e)) continue;
        {
          std::lock_guard lock(mu_);
          woken_ = true;
        }
        cv_.notify_all();
        return;
      }
    });
  }
  thread_ = std::thread([this] {
    SetThreadName("argus-" + name_);
    std::unique_lock lock(mu_);
    while (!stop_) {
      woken_ = false;
      lock.unlock();
      bool more = false, failed = false;
      try {
        if (Status step = step_(&more); !step.ok()) {
          failed = true;
          log::Warn("an event follower cannot read on; it tries again",
                    {{"follower", name_}, {"error", step.ToString()}});
        }
      } catch (const std::exception& e) {
        failed = true;
        log::Error("an event follower failed a step; it goes on",
                   {{"follower", name_}, {"error", e.what()}});
      }
      lock.lock();
      if (more && !failed) continue;
      // With a bus, only a wanted event (or a failure's retry) calls for another step.
      const auto wait = std::chrono::duration<double>(failed || bus_ == nullptr ? retry_s_ : 3600);
      cv_.wait_for(lock, wait, [this] { return stop_ || woken_; });
    }
  });
}

void EventFollower::Stop() {
  subscription_.reset();
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace argus::engine
