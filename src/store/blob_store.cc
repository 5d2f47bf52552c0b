#include "store/blob_store.h"

#include <algorithm>

namespace argus::store {

bool IsBlobSha256(std::string_view text) {
  return text.size() == 64 && std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

Status BadBlobSha256(std::string_view sha256) {
  std::string message = "blob name '";
  message.append(sha256.substr(0, 80)).append("' is not 64 lowercase hex digits");
  return InvalidArgumentError(std::move(message));
}

Status CheckExpectedSha256(std::string_view expected, std::string_view actual) {
  if (expected.empty()) return OkStatus();
  if (!IsBlobSha256(expected)) return BadBlobSha256(expected);
  if (expected == actual) return OkStatus();
  std::string message = "uploaded bytes have SHA-256 ";
  message.append(actual).append(", not the expected ").append(expected);
  return InvalidArgumentError(std::move(message));
}

void BlobDigest::Update(std::string_view bytes) {
  hasher_.Update(bytes);
  size_ += static_cast<int64_t>(bytes.size());
}

Result<BlobInfo> BlobDigest::Seal(std::string_view expected_sha256) {
  if (!sealed_) {
    info_ = BlobInfo{.sha256 = HexEncode(hasher_.Finish()), .size = size_};
    sealed_ = true;
  }
  ARGUS_RETURN_IF_ERROR(CheckExpectedSha256(expected_sha256, info_.sha256));
  return info_;
}

Result<std::string> ReadWholeBlob(BlobStore& blobs, std::string_view sha256, int64_t max_bytes) {
  ARGUS_ASSIGN_OR_RETURN(auto reader, blobs.Open(sha256));
  if (reader->size() > max_bytes) {
    return PayloadTooLargeError("blob " + std::string(sha256) + " has " +
                                std::to_string(reader->size()) + " bytes, more than " +
                                std::to_string(max_bytes) + " read at once");
  }
  std::string bytes;
  bytes.reserve(static_cast<size_t>(reader->size()));
  while (static_cast<int64_t>(bytes.size()) < reader->size()) {
    ARGUS_ASSIGN_OR_RETURN(auto piece, reader->ReadAt(static_cast<int64_t>(bytes.size()), 8 << 20));
    if (piece.empty())
      return InternalError("blob " + std::string(sha256) + " ended before its size");
    bytes.append(piece);
  }
  return bytes;
}

}  // namespace argus::store
