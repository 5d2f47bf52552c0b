#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/result.h"

namespace argus::cli {

/// Where and as whom the CLI talks to a running server.
struct ClientOptions {
  std::string url = "http://127.0.0.1:7070";
  std::string key;
  std::string ns;  ///< sent as X-Namespace when set
};

/// A request body read in pieces, so that it is never held whole in memory.
class BodySource {
 public:
  virtual ~BodySource() = default;
  /// The exact number of bytes Read will produce (sent as Content-Length).
  virtual int64_t size() const = 0;
  /// Copies up to `max` bytes into `out` and returns how many (0 at the end).
  virtual Result<size_t> Read(char* out, size_t max) = 0;
  /// Starts again from the first byte (libcurl resends when a kept-alive connection was closed
  /// under it).
  virtual Status Rewind() = 0;
};

/// Receives a response body piece by piece; an error stops the transfer and is returned.
using BodySink = std::function<Status(std::string_view)>;

/// Response headers, names in lowercase.
using HeaderMap = std::map<std::string, std::string>;

/// Percent-encodes everything but RFC 3986 unreserved characters (for query values).
std::string UrlEncode(std::string_view s);
/// Percent-encodes each '/'-separated segment of an object key, keeping the '/'.
std::string UrlEncodeKey(std::string_view key);

/// A blocking HTTP client for the CLI (libcurl). One connection is kept alive between calls.
/// Not thread-safe: give each thread its own client.
class HttpClient {
 public:
  explicit HttpClient(ClientOptions options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  /// Sends the request; a 2xx answer returns its JSON body (null for 204). A non-2xx answer
  /// becomes a Status carrying the server's error code and message; a transport failure is
  /// Unavailable naming the URL.
  Result<Json> Call(const std::string& method, const std::string& path, const Json& body = nullptr,
                    const std::vector<std::string>& headers = {});

  /// Like Call, with a raw body streamed from `body` (e.g. PUT of an object's bytes). An error
  /// from `body` ends the request and is returned as it is.
  Result<Json> Send(const std::string& method, const std::string& path, BodySource& body,
                    const std::vector<std::string>& headers = {});

  /// GET whose 2xx body is handed to `sink` as it arrives; returns the response headers. A
  /// non-2xx answer or a transport failure is reported as by Call; an error from `sink` is
  /// returned as it is.
  Result<HeaderMap> Fetch(const std::string& path, const BodySink& sink,
                          const std::vector<std::string>& headers = {});

 private:
  ClientOptions options_;
  void* curl_ = nullptr;  // CURL*, created on first use and reused for keep-alive
};

}  // namespace argus::cli
