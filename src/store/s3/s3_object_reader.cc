#include "store/s3/s3_object_reader.h"

#include <algorithm>
#include <charconv>

#include "core/str_cat.h"

namespace argus::store::s3 {

namespace {

// A connection that fails mid-read is resumed this many times within one ReadAt.
constexpr int kResumes = 3;
// Skipped bytes (a server that ignored Range) are read and dropped in pieces this large.
constexpr size_t kSkipPiece = 256 * 1024;

// "bytes a-b/total" → a and total; false when malformed.
bool ParseContentRange(std::string_view text, int64_t* first, int64_t* total) {
  if (!text.starts_with("bytes ")) return false;
  text.remove_prefix(6);
  size_t dash = text.find('-'), slash = text.find('/');
  if (dash == std::string_view::npos || slash == std::string_view::npos || slash < dash) {
    return false;
  }
  auto number = [](std::string_view s, int64_t* v) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *v);
    return ec == std::errc() && p == s.data() + s.size();
  };
  return number(text.substr(0, dash), first) && number(text.substr(slash + 1), total);
}

}  // namespace

S3ObjectReader::S3ObjectReader(std::shared_ptr<S3Client> client, std::string key, int64_t size,
                               std::vector<std::pair<std::string, std::string>> headers,
                               Check check, int64_t window)
    : client_(std::move(client)),
      key_(std::move(key)),
      size_(size),
      headers_(std::move(headers)),
      check_(std::move(check)),
      window_(std::max<int64_t>(1, window)) {}

Status S3ObjectReader::Changed(std::string_view what) const {
  return FailedPreconditionError(StrCat({"s3 object ", key_, " changed: ", what}));
}

Status S3ObjectReader::OpenAt(int64_t offset) {
  stream_.reset();  // before the next request: it may hold a connection
  int64_t end = std::min(size_, offset + window_);
  S3Request request{.method = "GET", .key = key_, .headers = headers_};
  request.headers.emplace_back(
      "Range", StrCat({"bytes=", std::to_string(offset), "-", std::to_string(end - 1)}));
  ARGUS_ASSIGN_OR_RETURN(auto stream, client_->Open(request));
  const S3Response& head = stream->head();
  if (check_) ARGUS_RETURN_IF_ERROR(check_(head));
  if (head.status == 206) {
    int64_t first = 0, total = 0;
    if (!ParseContentRange(head.Header("content-range"), &first, &total) || first != offset ||
        total != size_) {
      return Changed(StrCat({"asked for bytes ", std::to_string(offset), "- of ",
                             std::to_string(size_), ", got '", head.Header("content-range"), "'"}));
    }
    stream_pos_ = offset;
    stream_end_ = end;
  } else if (head.status == 200) {
    // The whole object: Range was ignored. Read on from the start, dropping what comes first.
    if (std::string length = head.Header("content-length");
        !length.empty() && length != std::to_string(size_)) {
      return Changed(StrCat({"its length is ", length, ", not ", std::to_string(size_)}));
    }
    stream_pos_ = 0;
    stream_end_ = size_;
  } else {
    return S3Client::ErrorStatus(head, StrCat({"read ", key_}));
  }
  stream_ = std::move(stream);
  while (stream_pos_ < offset) {
    scratch_.clear();
    size_t want = static_cast<size_t>(std::min<int64_t>(offset - stream_pos_, kSkipPiece));
    ARGUS_ASSIGN_OR_RETURN(size_t n, stream_->Read(&scratch_, want));
    if (n == 0) return Changed("its body ended early");
    stream_pos_ += static_cast<int64_t>(n);
  }
  scratch_.clear();
  scratch_.shrink_to_fit();
  return OkStatus();
}

Status S3ObjectReader::ReadAt(int64_t offset, size_t max, std::string* out) {
  if (offset < 0) return InvalidArgumentError(StrCat({"negative read offset in ", key_}));
  int64_t want = std::min<int64_t>(
      size_ - offset, static_cast<int64_t>(std::min<size_t>(max, static_cast<size_t>(INT64_MAX))));
  int resumes = 0;
  while (want > 0) {
    if (!stream_ || stream_pos_ != offset || stream_pos_ >= stream_end_) {
      ARGUS_RETURN_IF_ERROR(OpenAt(offset));
    }
    size_t piece = static_cast<size_t>(std::min(want, stream_end_ - stream_pos_));
    auto n = stream_->Read(out, piece);
    if (!n.ok()) {
      stream_.reset();
      // A connection lost mid-body: resume where it stopped (GETs are idempotent).
      if (n.status().code() == StatusCode::kUnavailable && ++resumes <= kResumes) continue;
      return n.status();
    }
    if (*n == 0) {
      stream_.reset();
      return Changed("its body ended early");
    }
    offset += static_cast<int64_t>(*n);
    stream_pos_ = offset;
    want -= static_cast<int64_t>(*n);
  }
  return OkStatus();
}

}  // namespace argus::store::s3
