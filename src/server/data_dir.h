#pragma once

#include <string>

#include "core/result.h"

namespace argus::server {

/// An exclusive lock on a data directory, held for the life of the object (flock on
/// <dir>/argus.lock, which also records the holder's pid). The kernel drops it if the process
/// dies, so a kill -9 never leaves a stale lock behind.
class DataDirLock {
 public:
  /// Creates the directory (0700) if needed. FailedPrecondition naming the holder's pid when
  /// another process holds the lock.
  static Result<DataDirLock> Acquire(const std::string& dir);
  DataDirLock(DataDirLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  DataDirLock& operator=(DataDirLock&&) = delete;
  ~DataDirLock();

 private:
  explicit DataDirLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace argus::server
