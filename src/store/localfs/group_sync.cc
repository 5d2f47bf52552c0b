#include "store/localfs/group_sync.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "core/str_cat.h"

namespace argus::store::localfs {

GroupSync::GroupSync(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}

GroupSync::~GroupSync() {
  if (fd_ >= 0) ::close(fd_);
}

Status GroupSync::Sync() {
  std::unique_lock lock(mu_);
  // One that is running now may have begun before our changes: we need the next one.
  const uint64_t target = started_ + 1;
  while (finished_ < target) {
    if (running_) {
      done_.wait(lock);
      continue;
    }
    running_ = true;
    const uint64_t generation = ++started_;
    lock.unlock();
    const int rc = ::syncfs(fd_);
    const int err = rc == 0 ? 0 : errno;
    lock.lock();
    finished_ = generation;
    running_ = false;
    if (rc != 0) {
      failed_ = generation;
      failed_errno_ = err;
    }
    done_.notify_all();
  }
  if (failed_ >= target) {
    return InternalError(
        StrCat({"cannot sync the file system of ", path_, ": ", std::strerror(failed_errno_)}));
  }
  return OkStatus();
}

uint64_t GroupSync::syncs() const {
  std::lock_guard lock(mu_);
  return finished_;
}

}  // namespace argus::store::localfs
