#include "api/http/http_types.h"

#include <cctype>

namespace argus::api {

std::string_view HttpRequest::Header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return value;
  }
  return {};
}

bool HttpRequest::HasHeader(std::string_view lower_name) const {
  for (const auto& h : headers) {
    if (h.first == lower_name) return true;
  }
  return false;
}

namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

// Moves the header strings (their buffers) into `spare` and empties `headers`.
void KeepForReuse(Headers& headers, Headers& spare) {
  // A request with very many headers does not pin that many buffers for the connection's life.
  constexpr size_t kMaxSpare = 64;
  for (auto& h : headers) {
    if (spare.size() >= kMaxSpare) break;
    spare.push_back(std::move(h));
  }
  headers.clear();
}

std::pair<std::string, std::string>& Reused(Headers& headers, Headers& spare) {
  if (spare.empty()) return headers.emplace_back();
  auto& h = headers.emplace_back(std::move(spare.back()));
  spare.pop_back();
  h.first.clear();
  h.second.clear();
  return h;
}

}  // namespace

std::pair<std::string, std::string>& HttpRequest::NewHeader() {
  return Reused(headers, spare_headers_);
}

void HttpResponse::AddHeader(std::string_view name, std::string_view value) {
  auto& [n, v] = Reused(headers, spare_headers_);
  n.assign(name);
  v.assign(value);
}

void HttpRequest::Clear() {
  method.clear();
  target.clear();
  path = {};
  query = {};
  KeepForReuse(headers, spare_headers_);
  body.clear();
  keep_alive = true;
  body_consumer.reset();
  dispatch = Dispatch::kBlocking;
  handler_state.reset();
}

void HttpResponse::Clear() {
  status = 200;
  content_type = "application/json";
  body.clear();
  KeepForReuse(headers, spare_headers_);
  close = false;
  run_blocking = false;
  deferred = nullptr;
  stream = nullptr;
  websocket = nullptr;
  body_source = nullptr;
}

bool IsJsonType(std::string_view content_type) {
  std::string_view base = content_type.substr(0, content_type.find(';'));
  while (!base.empty() && (base.back() == ' ' || base.back() == '\t')) base.remove_suffix(1);
  constexpr std::string_view kJson = "application/json";
  if (base.size() != kJson.size()) return false;
  for (size_t i = 0; i < base.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(base[i])) != kJson[i]) return false;
  }
  return true;
}

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Payload Too Large";
    case 415:
      return "Unsupported Media Type";
    case 416:
      return "Range Not Satisfiable";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
  }
  return "Unknown";
}

}  // namespace argus::api
