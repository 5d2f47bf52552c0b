#include "store/sqlite/blob_pin_table.h"

#include "core/log.h"

namespace argus::store::sqlite {

Status BlobPinTable::Pin(const std::string& sha256) {
  std::unique_lock lock(mu_);
  if (claims_.contains(sha256)) {
    ++waiting_;
    // A claim lasts one check and one delete of the blob store (a syscall, or one S3 DELETE):
    // waiting longer means the store hangs, and the caller is better told so than held.
    const bool released =
        released_.wait_for(lock, max_wait_, [&] { return !claims_.contains(sha256); });
    --waiting_;
    if (!released) {
      return UnavailableError("blob " + sha256 + " has been being deleted for over " +
                              std::to_string(max_wait_.count()) +
                              " ms: the blob store does not answer; try again");
    }
  }
  ++pins_[sha256];
  return OkStatus();
}

void BlobPinTable::Unpin(const std::string& sha256) {
  std::lock_guard lock(mu_);
  auto it = pins_.find(sha256);
  if (it == pins_.end()) {
    log::Error("blob unpinned more often than pinned", {{"sha256", sha256}});
    return;
  }
  if (--it->second == 0) pins_.erase(it);
}

bool BlobPinTable::TryClaim(const std::string& sha256) {
  std::lock_guard lock(mu_);
  if (pins_.contains(sha256)) return false;
  return claims_.insert(sha256).second;
}

void BlobPinTable::Release(const std::string& sha256) {
  {
    std::lock_guard lock(mu_);
    claims_.erase(sha256);
  }
  released_.notify_all();
}

int BlobPinTable::WaitingForTest() const {
  std::lock_guard lock(mu_);
  return waiting_;
}

}  // namespace argus::store::sqlite
