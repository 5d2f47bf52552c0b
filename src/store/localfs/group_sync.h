#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>

#include "core/status.h"

namespace argus::store::localfs {

/// Group commit for files: makes a file system's recent changes durable for many callers with one
/// syncfs(2) at a time. A caller that wrote a file, renamed it and created directories calls Sync
/// and returns once a syncfs that *started after* its call has finished; callers that arrive while
/// one runs share the next. Sixteen concurrent small uploads then cost about two syncs instead of
/// sixteen fdatasyncs plus sixteen directory fsyncs.
///
/// syncfs flushes everything dirty on the file system, not only the caller's files: on a disk
/// shared with a heavy writer a Sync waits for that writer's pages too. The blob store starts the
/// writeback of large blobs as they arrive and syncs them on their own (fdatasync) before they
/// join a group, so a group mostly carries small files and directory entries.
///
/// Thread safety: Sync may be called from any number of threads. Owns `fd`.
class GroupSync {
 public:
  /// `fd`: an open file or directory on the file system to sync (closed by the destructor);
  /// `path` names it in errors.
  GroupSync(int fd, std::string path);
  ~GroupSync();
  GroupSync(const GroupSync&) = delete;
  GroupSync& operator=(const GroupSync&) = delete;

  /// Every change made before this call is durable when it returns OK. Internal (with the errno
  /// text) when the syncfs that covered it failed.
  Status Sync();

  /// syncfs calls made so far.
  uint64_t syncs() const;

 private:
  const int fd_;
  const std::string path_;
  mutable std::mutex mu_;
  std::condition_variable done_;
  uint64_t started_ = 0;   // syncfs calls begun
  uint64_t finished_ = 0;  // the latest that ended (they run one at a time, in order)
  bool running_ = false;
  uint64_t failed_ = 0;  // the latest that failed, and its errno
  int failed_errno_ = 0;
};

}  // namespace argus::store::localfs
