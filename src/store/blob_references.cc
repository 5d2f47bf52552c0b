#include "store/blob_references.h"

namespace argus::store {

Result<PinnedBlob> CommitPinned(BlobWriter& writer, BlobReferences& references,
                                std::string_view expected_sha256) {
  // Seal aborts the writer itself on a mismatch or an I/O error.
  ARGUS_ASSIGN_OR_RETURN(BlobInfo sealed, writer.Seal(expected_sha256));
  auto pin = references.PinBlob(sealed.sha256);
  if (!pin.ok()) {
    writer.Abort();
    return pin.status();
  }
  // Pinned before the bytes become visible or are matched with a stored copy: from here until
  // the pin goes, no collector deletes them.
  ARGUS_ASSIGN_OR_RETURN(BlobInfo committed, writer.Commit());
  return PinnedBlob{.info = std::move(committed), .pin = std::move(pin).value()};
}

}  // namespace argus::store
