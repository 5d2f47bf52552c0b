#pragma once

#include <string>
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

/// A blocking JSON-over-HTTP client for the CLI (libcurl). Not thread-safe.
class HttpClient {
 public:
  explicit HttpClient(ClientOptions options) : options_(std::move(options)) {}

  /// Sends the request; a 2xx answer returns its JSON body (null for 204). A non-2xx answer
  /// becomes a Status carrying the server's error code and message; a transport failure is
  /// Unavailable naming the URL.
  Result<Json> Call(const std::string& method, const std::string& path, const Json& body = nullptr,
                    const std::vector<std::string>& headers = {});

 private:
  ClientOptions options_;
};

}  // namespace argus::cli
