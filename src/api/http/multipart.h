#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace argus::api {

/// One part's headers (RFC 7578): the form field name, the file name when the part is a file,
/// and its declared Content-Type (informational only).
struct MultipartPart {
  std::string name;
  std::string filename;
  bool has_filename = false;
  std::string content_type;
};

/// A streaming multipart/form-data reader: bytes go in as they arrive, parts come out through
/// callbacks, part bodies in pieces (a file part of any size never sits in memory). A callback
/// returning false stops the parse (Feed then returns Cancelled). Not thread-safe.
class MultipartParser {
 public:
  struct Callbacks {
    std::function<bool(const MultipartPart&)> on_part_begin;
    std::function<bool(std::string_view)> on_part_data;
    std::function<bool()> on_part_end;
  };

  /// The boundary parameter of a `multipart/form-data; boundary=...` Content-Type;
  /// InvalidArgument when the type is different or the boundary is missing or malformed.
  static Result<std::string> BoundaryOf(std::string_view content_type);

  MultipartParser(std::string boundary, Callbacks callbacks);

  /// InvalidArgument for malformed input (headers over 16 KiB, a part without a name, ...).
  Status Feed(std::string_view data);
  /// At the end of the body: InvalidArgument unless the closing boundary was seen.
  Status Finish();

 private:
  enum class State { kPreamble, kHeaders, kBody, kAfterDelimiter, kDone };
  Status ParseHeaders(std::string_view block);
  Status Step(bool* progressed);

  std::string delimiter_;  // "\r\n--" + boundary
  Callbacks callbacks_;
  State state_ = State::kPreamble;
  std::string buffer_;
  bool in_part_ = false;
};

}  // namespace argus::api
