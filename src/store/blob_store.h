#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/crypto.h"
#include "core/result.h"

namespace argus::store {

/// A stored blob: content-addressed by the SHA-256 of its bytes.
struct BlobInfo {
  std::string sha256;  ///< lowercase hex, 64 characters
  int64_t size = 0;
};

/// Streams one new blob in: Write the bytes, Seal them (their name is known, nothing is stored
/// yet), Commit. A caller that records a reference to the blob pins it between Seal and Commit
/// (store/blob_references.h: CommitPinned does all three). Not thread-safe (one writer per
/// upload). Destroying a writer that was not committed aborts it (nothing is left behind, also
/// on disk).
class BlobWriter {
 public:
  virtual ~BlobWriter() = default;
  /// Appends bytes. Unavailable/Internal on I/O errors (the writer is then aborted);
  /// FailedPrecondition once sealed, committed or aborted.
  virtual Status Write(std::string_view bytes) = 0;
  /// Bytes written so far.
  virtual int64_t size() const = 0;
  /// Ends the bytes and returns the blob they make, without storing it: nothing is visible
  /// through the store (Open, Exists, List) until Commit. When `expected_sha256` is not empty and
  /// differs, the result is InvalidArgument and the writer is aborted. Sealing again returns the
  /// same blob (checked against the new `expected_sha256`); FailedPrecondition after Commit or
  /// Abort; Unavailable/Internal when buffered bytes cannot be written (the writer is aborted).
  virtual Result<BlobInfo> Seal(std::string_view expected_sha256 = {}) = 0;
  /// Seals (when not sealed yet), makes the blob durable under its SHA-256 (on local disk:
  /// fsynced, renamed, directory fsynced) and returns it. When a blob with the same SHA-256
  /// already exists the new bytes are dropped and the existing one is kept and marked as just
  /// used (its last_used). When `expected_sha256` is not empty and differs, nothing is stored and
  /// the result is InvalidArgument. The writer is finished afterwards, also after an error.
  virtual Result<BlobInfo> Commit(std::string_view expected_sha256 = {}) = 0;
  /// Drops everything written; idempotent.
  virtual void Abort() = 0;
};

/// Reads a stored blob. Not thread-safe (one reader per response).
class BlobReader {
 public:
  virtual ~BlobReader() = default;
  virtual int64_t size() const = 0;
  /// Up to `max_bytes` bytes starting at `offset` (fewer only at the end; empty at or past it).
  virtual Result<std::string> ReadAt(int64_t offset, size_t max_bytes) = 0;
};

/// Whether `text` is a blob name: 64 lowercase hex digits.
bool IsBlobSha256(std::string_view text);
/// InvalidArgument naming a malformed blob name.
Status BadBlobSha256(std::string_view sha256);
/// For BlobWriter::Commit: OK when `expected` is empty or equals `actual`; InvalidArgument when it
/// is malformed or differs.
Status CheckExpectedSha256(std::string_view expected, std::string_view actual);

/// Durable content-addressed bytes (object contents). Thread-safe. Timestamps (last_used,
/// CleanTemporary's cut-off) are the storage's wall-clock time (file times, server times), not an
/// injected clock. A blob, once committed,
/// survives kill -9; a write that never committed leaves only a temporary that
/// CleanTemporary removes. Unavailable when the backend cannot be reached; Internal on I/O
/// errors or corruption.
class BlobStore {
 public:
  virtual ~BlobStore() = default;

  virtual Result<std::unique_ptr<BlobWriter>> NewWriter() = 0;
  /// NotFound when absent; InvalidArgument when `sha256` is not 64 lowercase hex digits.
  virtual Result<std::unique_ptr<BlobReader>> Open(std::string_view sha256) = 0;
  virtual Result<bool> Exists(std::string_view sha256) = 0;
  /// Unconditional: OK also when absent. A blob may be deleted only while nothing refers to it,
  /// and no new reference may appear meanwhile: the collector deletes through
  /// BlobReferences::DeleteBlobIfUnreferenced (ADR 0007), never directly.
  virtual Status Delete(std::string_view sha256) = 0;

  struct Listed {
    std::string sha256;
    int64_t size = 0;
    /// Committed, or last deduplicated against: the collector's grace counts from here. A hint
    /// only (it is stale as soon as it is listed); the references decide.
    TimestampUs last_used = 0;
  };
  /// Stored blobs with sha256 > `after`, in sha256 order, at most `limit` (the collector's walk).
  virtual Result<std::vector<Listed>> List(std::string_view after, int limit) = 0;
  /// Removes temporaries of writes last touched before `before` (kill -9 mid-upload).
  /// Returns how many.
  virtual Result<int64_t> CleanTemporary(TimestampUs before) = 0;
};

/// What every BlobWriter keeps about its bytes: their SHA-256 as they come, their count, and the
/// blob they make once sealed. Not thread-safe (one per writer).
class BlobDigest {
 public:
  void Update(std::string_view bytes);
  int64_t size() const { return size_; }
  bool sealed() const { return sealed_; }
  /// The blob of every byte passed to Update (fixed at the first call; no Update after it),
  /// checked against `expected_sha256` with CheckExpectedSha256.
  Result<BlobInfo> Seal(std::string_view expected_sha256);

 private:
  Sha256Hasher hasher_;
  int64_t size_ = 0;
  bool sealed_ = false;
  BlobInfo info_;  // once sealed_
};

/// The whole blob in memory: for small ones (thumbnails, images for inference). NotFound when
/// absent; PayloadTooLarge, before reading, when it has more than `max_bytes`.
Result<std::string> ReadWholeBlob(BlobStore& blobs, std::string_view sha256, int64_t max_bytes);

}  // namespace argus::store
