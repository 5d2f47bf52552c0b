#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "store/object_source.h"

namespace argus::store::localfs {

/// The "folder" source: the regular files below a directory of the server, settings
/// {"path": "/absolute/dir"}. The directory must be at or below one of the operator's
/// `allowed_roots` (compared after realpath, on path-component boundaries), so a user who may
/// create syncs reads only where the operator allows.
///
/// Listing walks the tree in global bytewise path order: siblings are sorted by name, with "/"
/// appended to directory names, so "a-b" < "a.txt" < "a/x" as whole paths compare. A subtree
/// whose every path is <= the cursor is not entered, so paging through a large tree costs one
/// directory read per level on the way down to the cursor, not a walk of everything before it.
/// Hidden names (starting with '.') are left out silently. Only regular files are entries; what
/// is not listed for a reason the operator should see is reported in `skipped`: a symlink leading
/// outside the allowed roots, a broken symlink, a symlink back to an enclosing directory (a
/// cycle), an unreadable directory (with the errno text), a special file. Skips count towards
/// `limit` like entries, so a page stays bounded; next_cursor is then the path of the last
/// item of either kind (a directory's with a trailing "/"), still "" only when the walk is done.
/// Symlinks to files or directories inside the allowed roots are followed; entries below them
/// carry the link's path. Nesting deeper than kMaxDepth is skipped.
///
/// An entry's version is "<size>-<mtime ns>-<inode>", modified_at its mtime. Open resolves the
/// path again (re-checking the roots), opens the canonical path refusing symlinks (openat2
/// RESOLVE_NO_SYMLINKS where the kernel has it, else O_NOFOLLOW) and compares the version; the
/// reader compares size and mtime again at the end of the file, so a file rewritten while read
/// is FailedPrecondition rather than a torn copy.
///
/// Watch uses inotify on the root and every directory below it (added as they appear; following
/// symlinked directories inside the roots), from one thread per watch.
///
/// Thread safety: the source is immutable after Create and thread-safe; each call is its own
/// walk. Readers are not thread-safe; they own their file descriptor and do not refer to the
/// source. A watch owns its thread and inotify descriptor and does not refer to the source.
class FolderSource final : public ObjectSource {
 public:
  static constexpr int kMaxDepth = 256;

  /// From `args.config` = {"path": "/abs/dir"}. InvalidArgument for other settings, a relative
  /// path, a path that does not exist or is not a directory; PermissionDenied when there are no
  /// `args.allowed_roots` (folder syncs are disabled) or the path resolves outside all of them.
  /// Never touches anything outside the roots beyond realpath(3) and stat(2).
  static Result<std::unique_ptr<ObjectSource>> Create(const SourceArgs& args);
  /// watchable, no secrets, the settings schema; a host warning when the kernel refuses
  /// openat2(RESOLVE_NO_SYMLINKS) (probed once per process), so the O_NOFOLLOW fallback is
  /// logged at start-up and shown by `argus config print`.
  static SourceCapabilities Capabilities();
  /// Behaves as if the kernel refused openat2 (the fallback and its warning), or stops doing so.
  static void DisableOpenat2ForTest(bool disabled);

  /// The canonical source directory.
  const std::string& root() const { return root_; }

  /// InvalidArgument when `limit` < 1; NotFound when the root is gone; PermissionDenied when it
  /// cannot be read or now resolves outside the allowed roots.
  Result<SourcePage> List(std::string_view cursor, int limit) override;
  /// InvalidArgument for a path that cannot come from List (absolute, "..", hidden, empty
  /// segments); NotFound when gone; PermissionDenied when it now leads outside the roots or
  /// cannot be read; FailedPrecondition when its version changed or it is no longer a file.
  Result<std::unique_ptr<SourceReader>> Open(const SourceEntry& entry) override;
  /// Internal when inotify cannot be set up on the root (e.g. the watch limit is reached).
  Result<std::unique_ptr<SourceWatch>> Watch(std::function<void()> on_change) override;

 private:
  FolderSource(std::string root, std::vector<std::string> allowed_roots);

  std::string root_;                        // canonical
  std::vector<std::string> allowed_roots_;  // canonical, existing
};

}  // namespace argus::store::localfs
