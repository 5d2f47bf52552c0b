#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "store/blob_store.h"
#include "store/localfs/group_sync.h"
#include "store/store_registry.h"

namespace argus::store::localfs {

/// BlobStore over plain files under `<data_dir>/blobs/`:
///
///   blobs/<aa>/<bb>/<sha256>   a committed blob (aa, bb: its first and next two hex digits)
///   blobs/tmp/<random>.part    an upload in progress, or left behind by a killed process
///
/// A writer streams into a fresh temporary (mode 0600) and hashes as it goes; Commit renames it to
/// its SHA-256 name and waits for a group sync (GroupSync: one syncfs for all the commits waiting
/// at that moment; a blob of 4 MiB or more fdatasyncs its own bytes first), so a committed blob
/// survives kill -9 and power loss, and a reader never sees a partial blob. A blob's "last used"
/// time is its file's mtime, real wall-clock time (not the injected clock, which this store never
/// reads): set at commit, and again when a later commit is deduplicated against it. A temporary's
/// mtime is its last write, which is what CleanTemporary compares.
///
/// Thread safety: the store is thread-safe and keeps no state beyond its paths and the group sync;
/// each call is a few system calls. Writers and readers are not thread-safe (one per upload /
/// response); they hold their own file descriptor, paths and a share of the group sync, not a
/// pointer to the store, so they stay usable after the store is destroyed. Two writers committing
/// the same bytes at once both succeed (the second rename replaces an identical file). Delete is
/// unconditional: one racing with a deduplicating Commit of the same blob could remove it after
/// that Commit returned, which is why nobody deletes a blob except through
/// BlobReferences::DeleteBlobIfUnreferenced, whose claim keeps pinned writers out until the
/// unlink is done (ADR 0007). Seal flushes and hashes; the temporary stays in tmp/ until Commit
/// renames it.
///
/// Directories `<aa>/<bb>` are created on demand and never removed (at most 65,536), so a Delete
/// never races with a rename into the same directory.
class LocalBlobStore final : public BlobStore {
 public:
  /// Creates `<args.data_dir>/blobs/` and `blobs/tmp/` if missing. InvalidArgument when there is
  /// no data_dir; FailedPrecondition when it is not a directory; Internal when the folders cannot
  /// be created.
  static Result<std::unique_ptr<BlobStore>> Create(const StoreArgs& args);

  Result<std::unique_ptr<BlobWriter>> NewWriter() override;
  Result<std::unique_ptr<BlobReader>> Open(std::string_view sha256) override;
  Result<bool> Exists(std::string_view sha256) override;
  Status Delete(std::string_view sha256) override;
  /// InvalidArgument when `limit` < 1. Files in the tree that are not named like a blob are
  /// skipped. `after` may be any string ("" lists from the start).
  Result<std::vector<Listed>> List(std::string_view after, int limit) override;
  /// Removes `blobs/tmp/*.part` files whose mtime is before `before` (wall-clock time).
  Result<int64_t> CleanTemporary(TimestampUs before) override;

 private:
  explicit LocalBlobStore(std::string root);

  std::string BlobPath(std::string_view sha256) const;
  // The blobs of directory `<root_>/<aa>/<bb>` named > `after`, sorted, at most `limit`.
  Result<std::vector<Listed>> ListLeafDir(const std::string& aa, const std::string& bb,
                                          std::string_view after, size_t limit) const;

  std::string root_;                       // <data_dir>/blobs
  std::string tmp_dir_;                    // <data_dir>/blobs/tmp
  std::shared_ptr<GroupSync> group_sync_;  // shared with the writers, which may outlive the store
};

}  // namespace argus::store::localfs
