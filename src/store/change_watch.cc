#include "store/change_watch.h"

#include <utility>

namespace argus::store {

class ChangeWatchers::Entry final : public ChangeWatch {
 public:
  Entry(std::shared_ptr<ChangeWatchers> owner, int id) : owner_(std::move(owner)), id_(id) {}
  ~Entry() override {
    std::lock_guard lock(owner_->mu_);  // waits for a Notify that is running it
    owner_->callbacks_.erase(id_);
  }

 private:
  std::shared_ptr<ChangeWatchers> owner_;
  int id_;
};

std::unique_ptr<ChangeWatch> ChangeWatchers::Add(std::function<void()> on_change) {
  std::lock_guard lock(mu_);
  int id = next_++;
  callbacks_.emplace(id, std::move(on_change));
  return std::make_unique<Entry>(shared_from_this(), id);
}

void ChangeWatchers::Notify() {
  std::lock_guard lock(mu_);
  for (const auto& [id, callback] : callbacks_) callback();
}

}  // namespace argus::store
