#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/request_context.h"
#include "core/json.h"
#include "core/json_schema.h"

namespace argus::api {

/// Who may call a route.
enum class Access {
  kPublic,           ///< no key needed
  kAnyKey,           ///< any valid key; a namespace is used when one is in scope
  kGlobalAdmin,      ///< only a global admin key
  kNamespaceViewer,  ///< a namespace in scope and at least viewer there
  kNamespaceEditor,  ///< ... at least editor
  kNamespaceAdmin,   ///< ... admin; a global admin also passes without a namespace in scope
};

/// A documented query parameter (for /openapi.json and validation of known names).
struct QueryParam {
  std::string name;
  Json schema;
  std::string description;
};

/// One operation: method + path pattern + who may call it + schemas + the handler. The route
/// table is the single source of /openapi.json.
struct Route {
  std::string method;   ///< "GET", "POST", ...
  std::string pattern;  ///< "/v1/keys/{id}"; a final "{name+}" segment matches the rest
  std::string operation_id;
  std::string summary;
  std::string tag;
  Access access = Access::kNamespaceViewer;
  Json request_schema;   ///< null: the route takes no body
  Json response_schema;  ///< null: no JSON body (e.g. 204)
  int success_status = 200;
  std::vector<QueryParam> query;
  std::string response_content_type = "application/json";
  /// Also accept the key as ?access_token= (EventSource and WebSocket clients cannot set
  /// headers); the access log never records query strings.
  bool allow_query_token = false;
  /// Set for routes that take a raw body of any size (uploads): called once the request head is
  /// parsed and authorized, before any body byte is read, to make the consumer the body streams
  /// into; the handler then finds it in ctx.http.body_consumer. Null: the body is buffered
  /// (at most http.max_body_bytes) and, with request_schema, parsed as JSON.
  std::function<std::shared_ptr<BodyConsumer>(RequestContext&)> body_stream;
  /// The handler never blocks: no store, disk or network call, only memory (health checks,
  /// answers from caches, a JSON echo). It then runs on the I/O thread, with the caller's key
  /// checked against the key cache only (a key not cached sends the request to the blocking
  /// pool). Default: the request's work runs on the blocking pool.
  bool never_blocks = false;
  std::function<Result<ApiResponse>(RequestContext&)> handler;
  size_t index = 0;  ///< position in the table, for per-route metrics
  /// `request_schema` compiled by Router::Add; null when the route takes no body.
  std::shared_ptr<const JsonSchema> compiled_request;
};

/// Matches request paths to routes. Built once at start-up, then read-only (thread-safe).
class Router {
 public:
  /// Adds a route. REQUIRES: pattern starts with '/'; no duplicate (method, pattern).
  void Add(Route route);

  struct Match {
    const Route* route = nullptr;  ///< null: no route for this method
    std::vector<std::pair<std::string_view, std::string>> params;
    std::string allowed;  ///< when route is null but the path exists: "GET, POST"
    bool path_found = false;
  };
  /// `path` is the raw (still percent-encoded) path; parameters come back decoded.
  Match Find(std::string_view method, std::string_view path) const;

  const std::vector<std::unique_ptr<Route>>& routes() const { return routes_; }

 private:
  struct Node {
    std::string literal;
    std::vector<std::unique_ptr<Node>> children;
    std::unique_ptr<Node> param;  ///< "{x}" child
    std::string param_name;
    std::unique_ptr<Node> rest;  ///< "{x+}" child
    std::string rest_name;
    std::vector<const Route*> routes;
  };
  Node root_;
  std::vector<std::unique_ptr<Route>> routes_;
};

/// Percent-decodes; false on a malformed escape. '+' stays '+' (paths, not forms).
bool PercentDecode(std::string_view in, std::string* out);

}  // namespace argus::api
