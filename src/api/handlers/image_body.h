// An image sent with a request (the real-time inference endpoint, a search by image): the body
// kept whole up to a limit, as the raw bytes, or a multipart form with a "file" part and a JSON
// part beside it.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "api/http/http_types.h"
#include "api/request_context.h"
#include "core/json.h"
#include "core/result.h"

namespace argus::api {

/// The request body, kept whole (images are small next to uploads) up to `limit` bytes; past
/// it, PayloadTooLarge naming inference.max_body_bytes. Used by one request's I/O thread, then
/// by its handler.
class ImageBody final : public BodyConsumer {
 public:
  explicit ImageBody(int64_t limit) : limit_(limit) {}
  void Fail(Status s) {
    if (error_.ok()) error_ = std::move(s);
  }
  bool Wanted() const override { return error_.ok(); }
  bool OnData(std::string_view bytes) override;
  void OnEnd(bool complete) override { complete_ = complete; }

  const Status& error() const { return error_; }
  bool complete() const { return complete_; }
  std::string& bytes() { return bytes_; }

 private:
  int64_t limit_;
  std::string bytes_;
  Status error_;
  bool complete_ = false;
};

/// A route's body_stream making an ImageBody, refused up front when Content-Length says more
/// than `limit`.
std::function<std::shared_ptr<BodyConsumer>(RequestContext&)> ImageBodyStream(int64_t limit);

/// Splits a multipart/form-data body into the image (the "file" part, or the first part with a
/// file name) and the JSON object of the part named `json_part` (left as is when absent).
/// InvalidArgument naming what is missing or malformed.
Status ReadImageForm(std::string_view content_type, const std::string& body,
                     std::string_view json_part, std::string* media, Json* json);

}  // namespace argus::api
