#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"
#include "store/s3/s3_client.h"

namespace argus::store::s3 {

/// Reads one S3 object of known size through a streamed GET: a read at the offset where the
/// previous one ended goes on with the same response, so a sequential read of any size is one
/// request per window in flat memory. A new request is made only to seek, to go past a
/// window, or to resume after a failed connection. A server that ignores Range (answering 200
/// with the whole object) is read from the start, the bytes before the offset dropped as they
/// come, never held: no whole-object buffering, and no re-download per read when reading on.
/// Not thread-safe; holds the shared client.
class S3ObjectReader {
 public:
  /// Bytes asked for in one ranged GET by default: few requests for a long read, little sent in
  /// vain when a reader stops early.
  static constexpr int64_t kWindow = 64 << 20;
  /// Looks at every response before it is read (e.g. that the object is still the version that
  /// was listed) and may stop the read with an error; OK: a 200 or 206 is read, any other
  /// status is S3Client::ErrorStatus.
  using Check = std::function<Status(const S3Response& head)>;

  /// `headers` go with every GET (e.g. If-Match); `window` > 0 bytes are asked for per GET.
  S3ObjectReader(std::shared_ptr<S3Client> client, std::string key, int64_t size,
                 std::vector<std::pair<std::string, std::string>> headers = {},
                 Check check = nullptr, int64_t window = kWindow);

  int64_t size() const { return size_; }
  /// Appends the bytes [offset, offset + max) of the object to `out` (fewer only at its end,
  /// none at or past it). FailedPrecondition when the answers show another object than the one
  /// of `size` (length or range differs); Unavailable when the server cannot be reached; the
  /// S3 error otherwise.
  Status ReadAt(int64_t offset, size_t max, std::string* out);

 private:
  Status OpenAt(int64_t offset);
  Status Changed(std::string_view what) const;

  std::shared_ptr<S3Client> client_;
  std::string key_;
  int64_t size_;
  std::vector<std::pair<std::string, std::string>> headers_;
  Check check_;
  int64_t window_;
  std::unique_ptr<S3BodyStream> stream_;
  int64_t stream_pos_ = 0;  // object offset of the stream's next byte
  int64_t stream_end_ = 0;  // object offset where the stream's body ends
  std::string scratch_;     // bytes skipped on the way to an offset (a server ignoring Range)
};

}  // namespace argus::store::s3
