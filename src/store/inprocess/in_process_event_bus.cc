#include "store/inprocess/in_process_event_bus.h"

namespace argus::store::inprocess {

class InProcessEventBus::Handle final : public EventBus::Subscription {
 public:
  Handle(InProcessEventBus* bus, int64_t id) : bus_(bus), id_(id) {}
  ~Handle() override { bus_->Unsubscribe(id_); }

 private:
  InProcessEventBus* bus_;
  int64_t id_;
};

void InProcessEventBus::Publish(EventBatch batch) {
  if (batch == nullptr || batch->empty()) return;
  std::lock_guard lock(mu_);
  ++published_;
  for (auto& [id, handler] : handlers_) handler(batch);
}

std::unique_ptr<EventBus::Subscription> InProcessEventBus::Subscribe(Handler handler) {
  std::lock_guard lock(mu_);
  const int64_t id = next_id_++;
  handlers_.emplace(id, std::move(handler));
  return std::make_unique<Handle>(this, id);
}

void InProcessEventBus::Unsubscribe(int64_t id) {
  std::lock_guard lock(mu_);
  handlers_.erase(id);
}

int64_t InProcessEventBus::PublishedForTest() const {
  std::lock_guard lock(mu_);
  return published_;
}

}  // namespace argus::store::inprocess
