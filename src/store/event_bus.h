#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "store/event_log.h"

namespace argus::store {

/// A batch of committed events, shared by every subscriber (never copied per subscriber).
using EventBatch = std::shared_ptr<const std::vector<Event>>;

/// Live fan-out of committed events: SSE and WebSocket streams, `Prefer: wait`, long-polling
/// external workers, idle in-process workers and the webhook dispatcher are woken by it, never by
/// polling the database. In-process in `argus serve`; Redis pub/sub in the distributed mode.
///
/// The stores publish each transaction's events once it has committed, in seq order. Delivery
/// is a hint, not the record: a subscriber that needs every event keeps a cursor and reads the
/// EventLog from it when it (re)starts or suspects a gap; a subscriber that only needs a wake-up
/// (an idle worker) just looks again.
///
/// Thread-safe.
class EventBus {
 public:
  /// Ends a subscription when destroyed: once the destructor returns, the handler is not running
  /// and will not run again.
  class Subscription {
   public:
    virtual ~Subscription() = default;
  };
  /// Runs on the publishing thread (for the in-process bus: the database's writer thread), so it
  /// must be quick: take what it needs, signal its own thread, return. It must not block, throw,
  /// or call the bus.
  using Handler = std::function<void(const EventBatch& batch)>;

  virtual ~EventBus() = default;

  /// Hands a batch of committed events to every current subscriber. An empty batch is ignored.
  virtual void Publish(EventBatch batch) = 0;
  /// Calls `handler` with every batch published from now on, until the subscription ends.
  virtual std::unique_ptr<Subscription> Subscribe(Handler handler) = 0;
};

}  // namespace argus::store
