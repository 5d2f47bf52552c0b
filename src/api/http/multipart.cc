#include "api/http/multipart.h"

#include <algorithm>
#include <cctype>

namespace argus::api {

namespace {

constexpr size_t kMaxHeaderBlock = 16 * 1024;

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The value of `param` in a header like `form-data; name="file"; filename="a b.jpg"`.
bool Param(std::string_view header, std::string_view param, std::string* out) {
  size_t pos = 0;
  while (pos < header.size()) {
    size_t semi = header.find(';', pos);
    if (semi == std::string_view::npos) return false;
    size_t start = semi + 1;
    size_t eq = header.find('=', start);
    if (eq == std::string_view::npos) return false;
    std::string key = Lower(Trim(header.substr(start, eq - start)));
    size_t v = eq + 1;
    std::string value;
    if (v < header.size() && header[v] == '"') {
      size_t i = v + 1;
      for (; i < header.size() && header[i] != '"'; ++i) {
        if (header[i] == '\\' && i + 1 < header.size()) ++i;
        value.push_back(header[i]);
      }
      pos = i + 1;
    } else {
      size_t end = header.find(';', v);
      value = std::string(Trim(header.substr(v, end == std::string_view::npos ? end : end - v)));
      pos = end == std::string_view::npos ? header.size() : end;
    }
    if (key == param) {
      *out = std::move(value);
      return true;
    }
  }
  return false;
}

}  // namespace

Result<std::string> MultipartParser::BoundaryOf(std::string_view content_type) {
  std::string type = Lower(Trim(content_type.substr(0, content_type.find(';'))));
  if (type != "multipart/form-data") {
    return InvalidArgumentError("the body must be multipart/form-data");
  }
  std::string boundary;
  if (!Param(content_type, "boundary", &boundary) || boundary.empty() || boundary.size() > 70) {
    return InvalidArgumentError("multipart/form-data needs a boundary of 1 to 70 characters");
  }
  return boundary;
}

MultipartParser::MultipartParser(std::string boundary, Callbacks callbacks)
    : callbacks_(std::move(callbacks)) {
  delimiter_ = "\r\n--";
  delimiter_ += boundary;
  // The first boundary may open the body without a CRLF before it: pretend there was one.
  buffer_ = "\r\n";
}

Status MultipartParser::ParseHeaders(std::string_view block) {
  MultipartPart part;
  bool disposition = false;
  while (!block.empty()) {
    size_t eol = block.find("\r\n");
    std::string_view line = block.substr(0, eol);
    block = eol == std::string_view::npos ? std::string_view() : block.substr(eol + 2);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      return InvalidArgumentError("malformed multipart part header");
    }
    std::string name = Lower(Trim(line.substr(0, colon)));
    std::string_view value = Trim(line.substr(colon + 1));
    if (name == "content-disposition") {
      if (Lower(Trim(value.substr(0, value.find(';')))) != "form-data") {
        return InvalidArgumentError("multipart parts must be Content-Disposition: form-data");
      }
      disposition = Param(value, "name", &part.name);
      part.has_filename = Param(value, "filename", &part.filename);
    } else if (name == "content-type") {
      part.content_type = std::string(value);
    }
  }
  if (!disposition || part.name.empty()) {
    return InvalidArgumentError("a multipart part has no form field name");
  }
  in_part_ = true;
  if (callbacks_.on_part_begin && !callbacks_.on_part_begin(part)) {
    return CancelledError("stopped by the receiver");
  }
  return OkStatus();
}

Status MultipartParser::Step(bool* progressed) {
  *progressed = false;
  switch (state_) {
    case State::kPreamble:
    case State::kBody: {
      size_t at = buffer_.find(delimiter_);
      size_t safe =
          at != std::string::npos
              ? at
              : (buffer_.size() >= delimiter_.size() ? buffer_.size() - delimiter_.size() + 1 : 0);
      if (state_ == State::kBody && safe > 0 && callbacks_.on_part_data &&
          !callbacks_.on_part_data(std::string_view(buffer_).substr(0, safe))) {
        return CancelledError("stopped by the receiver");
      }
      if (at == std::string::npos) {
        buffer_.erase(0, safe);
        return OkStatus();  // need more
      }
      if (state_ == State::kBody) {
        in_part_ = false;
        if (callbacks_.on_part_end && !callbacks_.on_part_end()) {
          return CancelledError("stopped by the receiver");
        }
      }
      buffer_.erase(0, at + delimiter_.size());
      state_ = State::kAfterDelimiter;
      *progressed = true;
      return OkStatus();
    }
    case State::kAfterDelimiter: {
      // "--" closes the body; otherwise optional whitespace then CRLF starts a part.
      if (buffer_.size() < 2) return OkStatus();
      if (buffer_.compare(0, 2, "--") == 0) {
        state_ = State::kDone;
        buffer_.clear();
        *progressed = true;
        return OkStatus();
      }
      size_t eol = buffer_.find("\r\n");
      if (eol == std::string::npos) {
        if (buffer_.size() > 256) return InvalidArgumentError("malformed multipart boundary line");
        return OkStatus();
      }
      if (!Trim(std::string_view(buffer_).substr(0, eol)).empty()) {
        return InvalidArgumentError("malformed multipart boundary line");
      }
      buffer_.erase(0, eol + 2);
      state_ = State::kHeaders;
      *progressed = true;
      return OkStatus();
    }
    case State::kHeaders: {
      if (buffer_.compare(0, 2, "\r\n") == 0) {
        return InvalidArgumentError("a multipart part has no headers");
      }
      size_t end = buffer_.find("\r\n\r\n");
      if (end == std::string::npos) {
        if (buffer_.size() > kMaxHeaderBlock) {
          return InvalidArgumentError("multipart part headers are over 16 KiB");
        }
        return OkStatus();
      }
      ARGUS_RETURN_IF_ERROR(ParseHeaders(std::string_view(buffer_).substr(0, end)));
      buffer_.erase(0, end + 4);  // the body starts after the blank line
      state_ = State::kBody;
      *progressed = true;
      return OkStatus();
    }
    case State::kDone:
      buffer_.clear();  // the epilogue is ignored
      return OkStatus();
  }
  return OkStatus();
}

Status MultipartParser::Feed(std::string_view data) {
  if (state_ == State::kDone) return OkStatus();
  buffer_.append(data);
  for (;;) {
    bool progressed = false;
    ARGUS_RETURN_IF_ERROR(Step(&progressed));
    if (!progressed) return OkStatus();
  }
}

Status MultipartParser::Finish() {
  if (state_ != State::kDone) {
    return InvalidArgumentError("the multipart body is truncated (no closing boundary)");
  }
  return OkStatus();
}

}  // namespace argus::api
