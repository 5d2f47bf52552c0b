#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>

#include "store/event_bus.h"

namespace argus::store::inprocess {

/// The EventBus of a single process (`argus serve`): Publish calls every handler in turn on the
/// publishing thread. A mutex held across the calls makes unsubscribing wait for a running
/// handler, so a handler never outlives its subscription. Thread-safe.
class InProcessEventBus final : public EventBus {
 public:
  void Publish(EventBatch batch) override;
  std::unique_ptr<Subscription> Subscribe(Handler handler) override;

  /// Batches published so far.
  int64_t PublishedForTest() const;

 private:
  class Handle;
  void Unsubscribe(int64_t id);

  mutable std::mutex mu_;
  std::map<int64_t, Handler> handlers_;  // GUARDED_BY(mu_)
  int64_t next_id_ = 0;                  // GUARDED_BY(mu_)
  int64_t published_ = 0;                // GUARDED_BY(mu_)
};

}  // namespace argus::store::inprocess
