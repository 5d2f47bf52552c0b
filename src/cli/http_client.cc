#include "cli/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace argus::cli {

namespace {

// At most this much of an error answer is kept (the JSON error body is small).
constexpr size_t kMaxErrorBody = 1 << 20;

StatusCode CodeFor(long http) {
  switch (http) {
    case 400:
      return StatusCode::kInvalidArgument;
    case 401:
      return StatusCode::kUnauthenticated;
    case 403:
      return StatusCode::kPermissionDenied;
    case 404:
      return StatusCode::kNotFound;
    case 409:
      return StatusCode::kAlreadyExists;
    case 412:
      return StatusCode::kConditionFailed;
    case 413:
      return StatusCode::kPayloadTooLarge;
    case 415:
      return StatusCode::kUnsupportedMediaType;
    case 416:
      return StatusCode::kRangeNotSatisfiable;
    case 429:
      return StatusCode::kResourceExhausted;
    case 501:
      return StatusCode::kUnimplemented;
    case 503:
      return StatusCode::kUnavailable;
    case 504:
      return StatusCode::kDeadlineExceeded;
    default:
      return StatusCode::kInternal;
  }
}

bool Unreserved(unsigned char c) {
  return std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

}  // namespace

std::string UrlEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (Unreserved(c)) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string UrlEncodeKey(std::string_view key) {
  std::string out;
  while (true) {
    size_t slash = key.find('/');
    out += UrlEncode(key.substr(0, slash));
    if (slash == std::string_view::npos) break;
    out.push_back('/');
    key = key.substr(slash + 1);
  }
  return out;
}

namespace {

// One request and what came back.
struct Exchange {
  std::string method;
  std::string path;
  std::vector<std::string> headers;
  const std::string* payload = nullptr;  // a JSON body
  BodySource* source = nullptr;          // or a streamed one
  const BodySink* sink = nullptr;        // where a 2xx body goes; else it is collected in `body`
  bool json_api = true;                  // Accept JSON, allow compression, one overall timeout

  CURL* curl = nullptr;
  long status = 0;
  std::string body;
  HeaderMap response_headers;
  Status callback_error;  // from `source` or `sink`
};

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* x = static_cast<Exchange*>(user);
  size_t len = size * n;
  if (x->status == 0) curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &x->status);
  if (x->sink != nullptr && x->status >= 200 && x->status < 300) {
    Status s = (*x->sink)(std::string_view(data, len));
    if (!s.ok()) {
      x->callback_error = std::move(s);
      return 0;  // CURLE_WRITE_ERROR
    }
    return len;
  }
  if (x->body.size() < kMaxErrorBody || x->sink == nullptr) x->body.append(data, len);
  return len;
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* x = static_cast<Exchange*>(user);
  std::string_view line(data, size * n);
  if (line.starts_with("HTTP/")) {
    x->response_headers.clear();  // a new response (after 100 Continue)
    return size * n;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return size * n;
  std::string name(line.substr(0, colon));
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
    value.remove_suffix(1);
  }
  x->response_headers[name] = std::string(value);
  return size * n;
}

size_t OnRead(char* out, size_t size, size_t n, void* user) {
  auto* x = static_cast<Exchange*>(user);
  auto got = x->source->Read(out, size * n);
  if (!got.ok()) {
    x->callback_error = got.status();
    return CURL_READFUNC_ABORT;
  }
  return *got;
}

int OnSeek(void* user, curl_off_t offset, int origin) {
  auto* x = static_cast<Exchange*>(user);
  if (offset != 0 || origin != SEEK_SET) return CURL_SEEKFUNC_CANTSEEK;
  Status s = x->source->Rewind();
  if (!s.ok()) {
    x->callback_error = std::move(s);
    return CURL_SEEKFUNC_FAIL;
  }
  return CURL_SEEKFUNC_OK;
}

// Runs `x` on the handle in `*handle` (created when null; reset first, which keeps its open
// connection) and turns a non-2xx answer into a Status.
Status Perform(const ClientOptions& options, void** handle, Exchange& x) {
  if (*handle == nullptr) *handle = curl_easy_init();
  if (*handle == nullptr) return InternalError("libcurl failed to initialise");
  CURL* curl = static_cast<CURL*>(*handle);
  curl_easy_reset(curl);
  x.curl = curl;
  std::string url = options.url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  url += x.path;
  curl_slist* headers = nullptr;
  if (x.json_api) headers = curl_slist_append(headers, "Accept: application/json");
  if (!options.key.empty()) {
    std::string h = "Authorization: Bearer ";
    h += options.key;
    headers = curl_slist_append(headers, h.c_str());
  }
  if (!options.ns.empty()) {
    std::string h = "X-Namespace: ";
    h += options.ns;
    headers = curl_slist_append(headers, h.c_str());
  }
  for (const auto& h : x.headers) headers = curl_slist_append(headers, h.c_str());
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, x.method.c_str());
  if (x.payload != nullptr) {
    headers = curl_slist_append(headers, "Content-Type: application/json");
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, x.payload->c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(x.payload->size()));
  }
  if (x.source != nullptr) {
    // The server does not answer "Expect: 100-continue"; waiting for it would only cost time.
    headers = curl_slist_append(headers, "Expect:");
    headers = curl_slist_append(headers, "Content-Type: application/octet-stream");
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(x.source->size()));
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, OnRead);
    curl_easy_setopt(curl, CURLOPT_READDATA, &x);
    curl_easy_setopt(curl, CURLOPT_SEEKFUNCTION, OnSeek);
    curl_easy_setopt(curl, CURLOPT_SEEKDATA, &x);
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &x);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &x);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
  if (x.json_api) {
    curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 600L);
  } else {
    // A transfer of any size may take any time, as long as it moves.
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, 120L);
  }
  CURLcode rc = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &x.status);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
  curl_slist_free_all(headers);
  if (!x.callback_error.ok()) return x.callback_error;
  // A server that refuses an upload from its head answers before the body is sent and may
  // close the connection under it: its answer, when one came, says more than the send error.
  bool answered = x.status >= 400 && !x.body.empty();
  if (rc != CURLE_OK && !answered) {
    std::string message = "cannot reach argus at ";
    message.append(options.url).append(": ").append(curl_easy_strerror(rc));
    if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST) {
      message += " (is `argus serve` running? set --url)";
    }
    return UnavailableError(std::move(message));
  }
  if (x.status >= 200 && x.status < 300) return OkStatus();
  std::string message = "HTTP " + std::to_string(x.status);
  Json parsed = Json::parse(x.body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_object() && parsed.contains("error") && parsed["error"].is_object()) {
    const Json& e = parsed["error"];
    message = e.value("code", "");
    message.append(": ").append(e.value("message", ""));
  }
  return Status(CodeFor(x.status), message);
}

}  // namespace

HttpClient::HttpClient(ClientOptions options) : options_(std::move(options)) {}

HttpClient::~HttpClient() {
  if (curl_ != nullptr) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

Result<Json> HttpClient::Call(const std::string& method, const std::string& path, const Json& body,
                              const std::vector<std::string>& headers) {
  Exchange x;
  x.method = method;
  x.path = path;
  x.headers = headers;
  std::string payload;
  if (!body.is_null()) {
    payload = body.dump();
    x.payload = &payload;
  }
  ARGUS_RETURN_IF_ERROR(Perform(options_, &curl_, x));
  if (x.body.empty()) return Json(nullptr);
  Json parsed = Json::parse(x.body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    return InternalError("the server answered " + std::to_string(x.status) + " with non-JSON");
  }
  return parsed;
}

Result<Json> HttpClient::Send(const std::string& method, const std::string& path, BodySource& body,
                              const std::vector<std::string>& headers) {
  Exchange x;
  x.method = method;
  x.path = path;
  x.headers = headers;
  x.source = &body;
  x.json_api = false;
  x.headers.emplace_back("Accept: application/json");
  ARGUS_RETURN_IF_ERROR(Perform(options_, &curl_, x));
  if (x.body.empty()) return Json(nullptr);
  Json parsed = Json::parse(x.body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    return InternalError("the server answered " + std::to_string(x.status) + " with non-JSON");
  }
  return parsed;
}

Result<HeaderMap> HttpClient::Fetch(const std::string& path, const BodySink& sink,
                                    const std::vector<std::string>& headers) {
  Exchange x;
  x.method = "GET";
  x.path = path;
  x.headers = headers;
  x.sink = &sink;
  x.json_api = false;
  ARGUS_RETURN_IF_ERROR(Perform(options_, &curl_, x));
  return std::move(x.response_headers);
}

}  // namespace argus::cli
