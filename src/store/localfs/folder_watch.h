// The inotify watch behind FolderSource::Watch; internal to src/store/localfs.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "store/object_source.h"

namespace argus::store::localfs {

/// Starts watching canonical directory `root` and every non-hidden directory below it (and
/// symlinked directories that resolve inside `allowed_roots`) with inotify, adding directories
/// as they appear. One thread poll(2)s the inotify descriptor and an eventfd; after each batch of
/// events that may change a listing (a file closed after writing, created, moved, deleted,
/// attributes changed, the queue overflowed) it calls `on_change` once. After an overflow it
/// rescans the tree for directories it missed. Directories beyond the inotify watch limit are
/// not watched (logged once); the caller's polling still finds their changes.
///
/// Destroying the returned watch stops and joins the thread: no callback runs afterwards.
/// Exceptions from `on_change` are caught and logged. Internal when inotify, the eventfd or the
/// thread cannot be set up, or the root cannot be watched.
Result<std::unique_ptr<SourceWatch>> StartFolderWatch(std::string root,
                                                      std::vector<std::string> allowed_roots,
                                                      std::function<void()> on_change);

}  // namespace argus::store::localfs
