#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "store/blob_store.h"
#include "store/s3/s3_client.h"
#include "store/store_registry.h"

namespace argus::store::s3 {

/// BlobStore over an S3 bucket (AWS S3 or any S3-compatible server), keys under `prefix`:
///
///   <prefix>blobs/<sha256>         a committed blob
///   <prefix>tmp/<random>           a multipart upload in progress (or completed, not yet copied)
///   <prefix>tmp/<random>.upload    its marker: holds the upload id, rewritten before every part
///
/// A writer hashes as it goes and buffers up to one part (8 MiB) in memory. A blob that fits in
/// one part is a single PUT to `blobs/<sha256>` at Commit, signed with its own hash. A larger one
/// is a multipart upload to `tmp/<random>`; Commit completes it, copies it server-side to
/// `blobs/<sha256>` and deletes the temporary and its marker. S3 writes are atomic per object, so
/// a reader never sees a partial blob.
///
/// last_used is the object's LastModified (server time, whole seconds on most servers). A commit
/// of bytes that exist already overwrites the blob with the identical bytes (PUT or copy), which
/// refreshes LastModified on every S3 implementation and replaces a damaged copy; there is no
/// HEAD-then-touch (S3 has no touch, and a self-copy with MetadataDirective=REPLACE does not
/// refresh LastModified on s3rver). S3 has no conditional DELETE either: a DELETE racing with
/// that overwrite could remove bytes a new object names, so blobs are deleted only through
/// BlobReferences::DeleteBlobIfUnreferenced, which keeps pinned writers out until the DELETE has
/// been answered (ADR 0007). Seal only finishes the hash; nothing is sent until Commit.
///
/// CleanTemporary lists `tmp/`: a marker older than the cut-off has its multipart upload aborted
/// and is deleted; an unmarked temporary older than the cut-off is deleted. Markers make this
/// work without ListMultipartUploads (s3rver answers NotImplemented); on AWS also set a
/// lifecycle rule AbortIncompleteMultipartUpload for uploads that died before their marker.
///
/// Readers stream (S3ObjectReader): reading on from where the last read ended continues the same
/// GET, and memory stays at the piece asked for.
///
/// Limits: a blob above 5 GiB cannot be copied in one CopyObject (S3's limit); such a Commit fails
/// with Internal. No retries: a failed request is the caller's error (Unavailable for network
/// errors and 5xx). Thread safety: the store is thread-safe; writers and readers are not, and hold
/// the shared client, so they outlive the store.
class S3BlobStore final : public BlobStore {
 public:
  /// From the `blobs.s3.*` settings; checks the bucket exists (HEAD bucket): FailedPrecondition
  /// when it does not, Unavailable when the endpoint cannot be reached.
  /// The settings (blobs.s3.*) checked without a connection: the registry entry's validator.
  static Status Validate(const StoreArgs& args);
  static Result<std::unique_ptr<BlobStore>> Create(const StoreArgs& args);
  static Result<std::unique_ptr<BlobStore>> CreateWithOptions(S3Options options,
                                                              size_t part_size = kPartSize);

  Result<std::unique_ptr<BlobWriter>> NewWriter() override;
  Result<std::unique_ptr<BlobReader>> Open(std::string_view sha256) override;
  Result<bool> Exists(std::string_view sha256) override;
  Status Delete(std::string_view sha256) override;
  /// InvalidArgument when `limit` < 1. Keys under `blobs/` not named like a blob are skipped.
  Result<std::vector<Listed>> List(std::string_view after, int limit) override;
  Result<int64_t> CleanTemporary(TimestampUs before) override;

  /// S3's minimum part is 5 MiB (except the last).
  static constexpr size_t kPartSize = 8 << 20;

 private:
  S3BlobStore(std::shared_ptr<S3Client> client, size_t part_size);

  std::string BlobKey(std::string_view sha256) const;

  std::shared_ptr<S3Client> client_;
  size_t part_size_;
  std::string blobs_prefix_;  // <prefix>blobs/
  std::string tmp_prefix_;    // <prefix>tmp/
};

}  // namespace argus::store::s3
