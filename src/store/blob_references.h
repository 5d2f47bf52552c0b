#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/json.h"
#include "core/result.h"
#include "store/blob_store.h"

namespace argus::store {

/// A blob made from another one, as BlobReferences' derived-blob methods keep it.
struct DerivedBlob {
  std::string source_sha256;
  std::string variant;  ///< what was made, e.g. "thumbnail-256.jpeg"
  std::string sha256;   ///< the derived blob in the blob store
  std::string media_type;
  int64_t size = 0;
  Json details = Json::object();  ///< width, height, ...
  TimestampUs created_at = 0;
};

/// Holds one blob against the collector (BlobReferences::PinBlob) until it is destroyed. Not
/// thread-safe (one owner); must not outlive the store that made it.
class BlobPin {
 public:
  virtual ~BlobPin() = default;
};

/// What refers to blobs, and the only way a blob may be deleted: a role of MetadataStore
/// (ADR 0007). A blob may go only while nothing refers to it (no object, no upload part, no
/// derived-blob record of a referenced source) and nobody is about to: every writer of a
/// reference pins the blob before it commits (or checks) the bytes and keeps the pin until its
/// row is written:
///
///   BlobWriter::Seal → PinBlob → BlobWriter::Commit → PutObject / PutUploadPart /
///   PutDerivedBlob → destroy the pin                          (CommitPinned does the first three)
///
/// and the collector deletes only through DeleteBlobIfUnreferenced, which checks references and
/// pins and claims the blob in one step. A crash anywhere leaves at worst a blob nothing refers
/// to (freed by a later pass), never a row naming bytes that are gone. Pins and claims live in the
/// process that made them and end with it, like the uploads they protect: a backend that several
/// processes share must keep them where every process sees them.
///
/// Thread-safe. Unavailable when the backend cannot be reached; Internal on a bug or corrupt data.
class BlobReferences {
 public:
  virtual ~BlobReferences() = default;

  /// Whether any object or upload part (any bucket, any namespace) refers to the blob, or it is
  /// a derived blob of a source that is referenced so. Pins are not references.
  virtual Result<bool> BlobReferenced(std::string_view sha256) = 0;

  /// Holds `sha256` (which need not be stored yet) against DeleteBlobIfUnreferenced until the pin
  /// is destroyed. Pins of one blob add up. While a DeleteBlobIfUnreferenced of the blob is under
  /// way, waits for it to finish (at most about 30 s): a Commit after the pin then stores its
  /// bytes afresh instead of deduplicating against a copy that is going. Unavailable when that
  /// wait ran out; InvalidArgument for a sha256 that is not 64 lowercase hex digits.
  virtual Result<std::unique_ptr<BlobPin>> PinBlob(std::string_view sha256) = 0;

  /// The collector's delete. When nothing refers to `sha256` (BlobReferenced), no pin holds it
  /// and no other call is deleting it, claims it (PinBlob waits from now on), forgets its
  /// derived-blob records (as a source and as a derived blob), runs `remove` (which deletes the
  /// bytes from the BlobStore) on the calling thread, and releases the claim. Returns whether
  /// `remove` ran; false when the blob is referenced, pinned or being deleted. `remove`'s error is
  /// returned as it is: the records are gone and the bytes may remain, for a later call. A
  /// reference written before the claim is seen; one written after it comes from a writer that
  /// pinned after the claim, and so committed its bytes after `remove` returned. `remove` must
  /// not pin or delete blobs itself. InvalidArgument for a malformed sha256.
  virtual Result<bool> DeleteBlobIfUnreferenced(std::string_view sha256,
                                                const std::function<Status()>& remove) = 0;

  // Derived blobs: made from another blob (a thumbnail of an image), found again by
  // (source sha256, variant). Content-addressed like their sources, so they serve every object
  // holding the same bytes, in any bucket or namespace.
  /// Records or replaces the derived blob of (source_sha256, variant). InvalidArgument for a
  /// sha256 that is not 64 lowercase hex digits, an empty or over-128-byte variant or media type,
  /// a negative size, or details that are not a JSON object.
  virtual Status PutDerivedBlob(const DerivedBlob& blob) = 0;
  /// NotFound when (source_sha256, variant) has none.
  virtual Result<DerivedBlob> GetDerivedBlob(std::string_view source_sha256,
                                             std::string_view variant) = 0;
  /// Forgets every record whose source or derived blob is `sha256`; returns how many.
  virtual Result<int64_t> DeleteDerivedBlobs(std::string_view sha256) = 0;
};

/// A blob committed under a pin: the collector leaves it alone until `pin` is destroyed, which
/// its owner does once the row naming the blob is written.
struct PinnedBlob {
  BlobInfo info;
  std::unique_ptr<BlobPin> pin;
};

/// Seals `writer` (InvalidArgument when `expected_sha256` is given and differs), pins the blob in
/// `references`, then commits it. On any error the writer is finished, nothing stays pinned and
/// nothing new is stored.
Result<PinnedBlob> CommitPinned(BlobWriter& writer, BlobReferences& references,
                                std::string_view expected_sha256 = {});

}  // namespace argus::store
