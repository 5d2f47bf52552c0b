#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/http/http_types.h"
#include "core/json.h"
#include "core/result.h"
#include "store/key_store.h"

namespace argus::api {

/// The verified caller of a request.
struct Principal {
  std::string key_id;
  std::string key_name;
  std::string key_prefix;
  store::Role role = store::Role::kViewer;
  bool global = false;       ///< a global admin key (no namespace of its own)
  std::string namespace_id;  ///< the key's namespace; empty for global keys
  std::string namespace_name;
};

/// What a handler answers: a status, a JSON body (or raw bytes) and extra headers.
struct ApiResponse {
  int status = 200;
  Json body;  ///< serialized unless `raw` is set
  std::optional<std::string> raw;
  std::string content_type;  ///< empty: the route's
  std::vector<std::pair<std::string, std::string>> headers;
  /// Set to answer later (`Prefer: wait`, long polls): the service calls it once, after the
  /// handler returned, with `complete`, which must then be called exactly once from any thread
  /// with the real answer. Everything else in this response is ignored.
  std::function<void(std::function<void(Result<ApiResponse>)> complete)> deferred;
  /// Set to stream the body (Server-Sent Events): called once with the sink after the head
  /// (status, content_type, headers) is sent.
  std::function<void(std::shared_ptr<StreamSink>)> stream;
  /// Set (with status 101) to accept a WebSocket upgrade.
  std::shared_ptr<WebSocketHandler> websocket;
  /// Set to send a large body (file contents) piece by piece; content_type applies.
  std::shared_ptr<BodySource> body_source;

  static ApiResponse Of(int status, Json body) {
    ApiResponse r;
    r.status = status;
    r.body = std::move(body);
    return r;
  }
  static ApiResponse NoContent() {
    ApiResponse r;
    r.status = 204;
    return r;
  }
};

/// Everything a handler may look at. Built per request by the API service; handlers must not
/// keep references to it after returning.
struct RequestContext {
  const HttpRequest& http;
  std::string_view request_id;
  std::vector<std::pair<std::string_view, std::string>> path_params;
  std::optional<Principal> principal;
  /// The namespace the request acts in: the key's own, or X-Namespace for a global admin.
  std::string namespace_id;
  std::string namespace_name;
  Json body;  ///< parsed and validated against the route's request schema
  /// The consumer the route's body_stream made for this request, or null when it made none.
  BodyConsumer* streamed_body = nullptr;

  /// streamed_body as the type the route's body_stream makes (each route makes one type).
  template <typename T>
  T* StreamedBody() const {
    return static_cast<T*>(streamed_body);
  }

  /// A path parameter by name, percent-decoded; "" when absent.
  std::string_view PathParam(std::string_view name) const {
    for (const auto& [n, v] : path_params) {
      if (n == name) return v;
    }
    return {};
  }
  /// A query parameter by name, percent-decoded; nullopt when absent.
  std::optional<std::string> Query(std::string_view name) const;
};

}  // namespace argus::api
