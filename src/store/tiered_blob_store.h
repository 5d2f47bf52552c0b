#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "store/blob_store.h"

namespace argus::store {

/// Two blob stores as one: blobs of at most `small_max_bytes` go to `small` (rows of a database:
/// no file, rename and file-system sync per blob), larger ones to `large` (ADR 0010). A writer
/// keeps the first `small_max_bytes` in memory and moves them to a `large` writer as soon as one
/// more byte comes, so a blob is streamed to its tier without being held whole.
///
/// Reads look in `small`, then in `large` (blobs stored before the tiers, or by another
/// configuration, stay readable); Exists, Delete and List cover both, and a blob found in both
/// is listed once (the later last_used). CleanTemporary cleans both.
///
/// Thread-safe as its parts are. Writers share the parts, so they may outlive the store.
class TieredBlobStore final : public BlobStore {
 public:
  /// REQUIRES: both stores non-null; 0 <= small_max_bytes <= what `small` can store.
  TieredBlobStore(std::unique_ptr<BlobStore> small, std::unique_ptr<BlobStore> large,
                  int64_t small_max_bytes);

  Result<std::unique_ptr<BlobWriter>> NewWriter() override;
  Result<std::unique_ptr<BlobReader>> Open(std::string_view sha256) override;
  Result<bool> Exists(std::string_view sha256) override;
  Status Delete(std::string_view sha256) override;
  Result<std::vector<Listed>> List(std::string_view after, int limit) override;
  Result<int64_t> CleanTemporary(TimestampUs before) override;

 private:
  const std::shared_ptr<BlobStore> small_;
  const std::shared_ptr<BlobStore> large_;
  const int64_t small_max_bytes_;
};

}  // namespace argus::store
