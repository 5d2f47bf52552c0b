#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "store/blob_store.h"
#include "store/store_registry.h"

namespace argus::store::sqlite {

/// Blobs kept whole, each as one row of `<data_dir>/blobs/small.db`, for many small objects
/// (ADR 0010): a 10 KiB blob costs a few WAL pages in a group commit instead of a file, a rename
/// and a share of a file-system sync. The "local" blob backend keeps blobs up to
/// `blobs.small_blob_bytes` here (store/tiered_blob_store.h); alone it is the "sqlite" backend.
///
/// A writer holds its bytes in memory (at most kMaxBlobBytes; Write refuses more with
/// PayloadTooLarge) and Commit inserts them through a GroupCommitWriter of this file's own: many
/// uploads share one transaction and its fsync (synchronous=FULL: a committed blob also survives
/// power loss, as a synced file does). last_used is a column, set by Commit (also when the bytes
/// were there already). Reads go through a pool of read-only connections; Open reads the whole
/// row. No temporaries exist: an uncommitted write is memory only.
///
/// Thread-safe. Writers and readers may outlive the store (they share what they use).
class SqliteBlobStore final : public BlobStore {
 public:
  static constexpr int64_t kMaxBlobBytes = int64_t{16} << 20;
  static constexpr const char* kFileName = "small.db";

  /// Opens or creates `<data_dir>/blobs/small.db` (and the directories on the way).
  /// InvalidArgument without a data directory; FailedPrecondition when it is not a directory or
  /// the file was written by a newer argus; Internal when SQLite fails.
  static Result<std::unique_ptr<BlobStore>> Create(const StoreArgs& args);
  static BlobStoreCapabilities Capabilities();
  ~SqliteBlobStore() override;

  Result<std::unique_ptr<BlobWriter>> NewWriter() override;
  Result<std::unique_ptr<BlobReader>> Open(std::string_view sha256) override;
  Result<bool> Exists(std::string_view sha256) override;
  Status Delete(std::string_view sha256) override;
  Result<std::vector<Listed>> List(std::string_view after, int limit) override;
  /// Nothing to clean: returns 0.
  Result<int64_t> CleanTemporary(TimestampUs before) override;

  struct File;  // the database: writer, readers, checkpointer

 private:
  explicit SqliteBlobStore(std::shared_ptr<File> file) : file_(std::move(file)) {}
  std::shared_ptr<File> file_;
};

}  // namespace argus::store::sqlite
