#include "api/api_service.h"

#include <array>
#include <cmath>

#include "api/event_streams.h"
#include "api/handlers/handlers.h"
#include "api/http/gzip.h"
#include "api/http/status_mapping.h"
#include "api/task_catalog_view.h"
#include "core/id.h"
#include "core/json_schema.h"
#include "core/log.h"

namespace argus::api {

namespace {

constexpr std::string_view kUnmatched = "unmatched";

// Unmatched requests are labelled by method, but only by the methods HTTP defines for us, so a
// client inventing method names cannot grow the metric's label set without bound.
std::string_view MethodLabel(std::string_view method) {
  for (std::string_view known : {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}) {
    if (method == known) return known;
  }
  return "other";
}

bool ValidRequestId(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

std::string KeyPrefix(const RequestContext& ctx) {
  return ctx.principal ? ctx.principal->key_prefix : std::string();
}

}  // namespace

// Per route: the duration histogram child and request counters per status code, created on
// first use and then reached without locks.
struct ApiService::RouteMetrics {
  std::string label;
  Histogram* seconds = nullptr;
  std::array<std::atomic<Counter*>, 600> by_code{};
  std::string method_label;
};

void WriteError(int status, std::string_view code, std::string_view message,
                std::string_view request_id, HttpResponse& out) {
  out.status = status;
  out.content_type = "application/json";
  Json body = {{"error", {{"code", code}, {"message", message}, {"request_id", request_id}}}};
  DumpJsonTo(body, &out.body);
}

Result<std::unique_ptr<ApiService>> ApiService::Create(const Config& config, ApiDeps deps) {
  auto resolver = ClientAddressResolver::FromStrings(config.GetStringList("http.trusted_proxies"));
  if (!resolver.ok()) {
    return InvalidArgumentError("http.trusted_proxies: " +
                                std::string(resolver.status().message()));
  }
  if (deps.tasks != nullptr && deps.catalog == nullptr) {
    return InvalidArgumentError("ApiDeps: a task queue needs its task catalog");
  }
  return std::unique_ptr<ApiService>(new ApiService(config, std::move(deps), *resolver));
}

ApiService::ApiService(const Config& config, ApiDeps deps, ClientAddressResolver resolver)
    : deps_(std::move(deps)),
      auth_(std::make_unique<Authenticator>(deps_.keys, deps_.namespaces, deps_.clock,
                                            config.GetDouble("auth.key_cache_ttl_s"))),
      per_key_(config.GetDouble("rate_limit.per_key_rps"),
               config.GetDouble("rate_limit.per_key_burst")),
      per_ip_(config.GetDouble("rate_limit.per_ip_rps"),
              config.GetDouble("rate_limit.per_ip_burst")),
      client_address_(std::move(resolver)),
      cors_origins_(config.GetStringList("http.cors.allowed_origins")),
      gzip_min_bytes_(static_cast<size_t>(config.GetInt("http.gzip_min_bytes"))),
      access_log_(config.GetBool("http.access_log")),
      metrics_require_auth_(config.GetBool("metrics.require_auth")) {
  json_limits_.max_depth = static_cast<int>(config.GetInt("http.json_max_depth"));
  json_limits_.max_string_bytes = static_cast<size_t>(config.GetInt("http.json_max_string_bytes"));
  if (deps_.tasks != nullptr && deps_.bus != nullptr) {
    waiter_ = std::make_unique<TaskWaiter>(deps_.tasks, deps_.bus);
  }
  if (deps_.events != nullptr && deps_.bus != nullptr) {
    streams_ = std::make_unique<EventStreams>(deps_.events, deps_.bus);
  }
  if (deps_.catalog != nullptr) {
    task_kinds_ = std::make_unique<TaskKindCache>(deps_.catalog, deps_.clock);
    worker_directory_ = std::make_unique<WorkerDirectory>(deps_.catalog, deps_.clock);
  }
  HandlerEnv env{.deps = &deps_,
                 .auth = auth_.get(),
                 .router = &router_,
                 .waiter = waiter_.get(),
                 .task_kinds = task_kinds_.get(),
                 .workers = worker_directory_.get(),
                 .streams = streams_.get(),
                 .vector_indexes = deps_.vector_indexes};
  AddOpsRoutes(router_, env);
  AddNamespaceRoutes(router_, env);
  AddKeyRoutes(router_, env);
  AddDiagnosticsRoutes(router_, env);
  if (deps_.tasks != nullptr) {
    AddTaskRoutes(router_, env);
    AddEventRoutes(router_, env);
    AddWebSocketRoutes(router_, env);
  }
  if (deps_.webhooks != nullptr) AddWebhookRoutes(router_, env);
  if (deps_.inference != nullptr) AddInferenceRoutes(router_, env);
  if (deps_.blobs != nullptr && deps_.inference != nullptr) AddThumbnailRoutes(router_, env);
  if (deps_.blobs != nullptr) {
    AddBucketRoutes(router_, env);
    AddObjectRoutes(router_, env);
    AddUploadRoutes(router_, env);
    if (deps_.sources != nullptr) AddSyncRoutes(router_, env);
    if (deps_.collections != nullptr && deps_.inference != nullptr) {
      AddCollectionRoutes(router_, env);
      if (deps_.documents != nullptr) AddDocumentRoutes(router_, env);
      if (deps_.batches != nullptr) AddBatchRoutes(router_, env);
      if (deps_.documents != nullptr && deps_.vector_indexes != nullptr && deps_.text != nullptr) {
        AddSearchRoutes(router_, env);
      }
    }
  }
  requests_total_ = &deps_.metrics->AddCounter(
      "argus_http_requests_total", "HTTP requests answered, by route, method and status code.",
      {"route", "method", "code"});
  request_seconds_ =
      &deps_.metrics->AddHistogram("argus_http_request_duration_seconds",
                                   "Time from a complete request to its response.", {"route"});
  for (const auto& r : router_.routes()) {
    auto m = std::make_unique<RouteMetrics>();
    m->label = r->pattern;
    m->method_label = r->method;
    m->seconds = &request_seconds_->WithLabels({m->label});
    route_metrics_.push_back(std::move(m));
  }
  auto unmatched = std::make_unique<RouteMetrics>();
  unmatched->label = std::string(kUnmatched);
  unmatched->seconds = &request_seconds_->WithLabels({unmatched->label});
  route_metrics_.push_back(std::move(unmatched));
}

ApiService::~ApiService() = default;

void ApiService::Shutdown() {
  if (waiter_) waiter_->Shutdown();
  if (streams_) streams_->Shutdown();
}

void ApiService::AddCors(const HttpRequest& req, HttpResponse& out) const {
  if (cors_origins_.empty()) return;
  std::string_view origin = req.Header("origin");
  if (origin.empty()) return;
  bool any = false, match = false;
  for (const auto& o : cors_origins_) {
    any = any || o == "*";
    match = match || o == origin;
  }
  if (!any && !match) return;
  out.AddHeader("Access-Control-Allow-Origin", any && !match ? "*" : std::string(origin));
  if (!any || match) out.AddHeader("Vary", "Origin");
  out.AddHeader("Access-Control-Expose-Headers", "X-Request-Id, Retry-After, Location");
}

namespace {

// A request refused from its head: no body byte is read; Handle answers (HeadState says why).
class RefusedBody final : public BodyConsumer {
 public:
  bool Wanted() const override { return false; }
  bool OnData(std::string_view) override { return false; }
  void OnEnd(bool) override {}
};

}  // namespace

// What OnHead and StreamBody decided from a request's head, handed to Handle through
// HttpRequest::handler_state: a request is routed once, and a streamed one is authorized and
// charged once, before its body is read.
struct ApiService::HeadState {
  int retry_after_s = 0;  // > 0: over the per-address rate (429, the body left unread)
  Router::Match match;
  std::optional<Status> auth;  // set by StreamBody: the verdict on the key and the namespace
  std::optional<Principal> principal;
  std::string namespace_id;
  std::string namespace_name;
  bool route_body = false;  // body_consumer was made by the route's body_stream
};

HeadDecision ApiService::OnHead(const HttpRequest& req) {
  HeadDecision decision;
  auto state = std::make_shared<HeadState>();
  decision.state = state;
  // Every request pays its per-address token here, on the head: a client over its rate is
  // answered 429 before a byte of its body is read, whatever the route.
  std::string client_ip = client_address_.Resolve(req.peer_ip, req.Header("x-forwarded-for"));
  if (int wait = per_ip_.Take(client_ip, std::chrono::steady_clock::now()); wait > 0) {
    state->retry_after_s = wait;
    decision.dispatch = Dispatch::kInline;
    decision.consumer = std::make_shared<RefusedBody>();
    return decision;
  }
  state->match = router_.Find(req.method, req.path);
  const Route* route = state->match.route;
  // No route (404, 405, a CORS preflight): answered from memory.
  if (route == nullptr || route->never_blocks) {
    decision.dispatch = Dispatch::kInline;
    return decision;
  }
  decision.stream_body = (req.method == "PUT" || req.method == "POST") && route->body_stream;
  return decision;
}

std::shared_ptr<BodyConsumer> ApiService::StreamBody(const HttpRequest& req) {
  auto* state = static_cast<HeadState*>(req.handler_state.get());
  if (state == nullptr) return nullptr;  // no OnHead: the body is buffered
  const Route* route = state->match.route;
  if (route == nullptr || !route->body_stream) return nullptr;
  // Authorized (and charged) here, before a byte of a possibly huge body is read; Handle
  // answers with this verdict instead of checking again.
  RequestContext ctx{req, {}, state->match.params, std::nullopt, {}, {}, nullptr};
  state->auth = Authorize(*route, req, ctx);
  if (!state->auth->ok()) return std::make_shared<RefusedBody>();
  state->principal = ctx.principal;
  state->namespace_id = ctx.namespace_id;
  state->namespace_name = ctx.namespace_name;
  try {
    if (auto consumer = route->body_stream(ctx)) {
      state->route_body = true;
      return consumer;
    }
  } catch (const std::exception& e) {
    log::Error("body stream setup threw", {{"route", route->pattern}, {"error", e.what()}});
  }
  return std::make_shared<RefusedBody>();
}

void ApiService::Handle(const HttpRequest& req, HttpResponse& out) {
  auto start = std::chrono::steady_clock::now();
  std::string request_id;
  std::string_view given = req.Header("x-request-id");
  request_id = ValidRequestId(given) ? std::string(given) : NewId(*deps_.clock);
  log::RequestIdScope log_scope(request_id);
  std::string client_ip = client_address_.Resolve(req.peer_ip, req.Header("x-forwarded-for"));
  AddCors(req, out);
  // Routed on the head (OnHead); a caller that skipped it is routed here.
  const auto* state = static_cast<const HeadState*>(req.handler_state.get());
  Router::Match found;
  if (state == nullptr) found = router_.Find(req.method, req.path);
  const Router::Match& match = state != nullptr ? state->match : found;

  // Over the per-address rate: decided on the head, the body left unread.
  if (state != nullptr && state->retry_after_s > 0) {
    out.AddHeader("Retry-After", std::to_string(state->retry_after_s));
    WriteError(429, "rate_limited", "too many requests from this address", request_id, out);
    return Finish(req, request_id, match.route, start, client_ip, {}, out);
  }

  // CORS preflight.
  if (req.method == "OPTIONS" && !cors_origins_.empty() && req.HasHeader("origin") &&
      req.HasHeader("access-control-request-method")) {
    out.status = 204;
    out.AddHeader("Access-Control-Allow-Methods", "GET, HEAD, POST, PUT, PATCH, DELETE");
    out.AddHeader("Access-Control-Allow-Headers",
                  "Authorization, Content-Type, X-Namespace, X-Request-Id, Idempotency-Key, "
                  "Prefer, If-Match, If-None-Match");
    out.AddHeader("Access-Control-Max-Age", "600");
    return Finish(req, request_id, nullptr, start, client_ip, {}, out);
  }

  if (match.route == nullptr) {
    if (match.path_found) {
      out.AddHeader("Allow", match.allowed);
      WriteError(405, "method_not_allowed",
                 "method " + req.method + " is not allowed here; allowed: " + match.allowed,
                 request_id, out);
    } else {
      WriteError(404, "not_found", "no route for " + std::string(req.path), request_id, out);
    }
    return Finish(req, request_id, nullptr, start, client_ip, {}, out);
  }
  const Route& route = *match.route;
  RequestContext ctx{req, request_id, match.params, std::nullopt, {}, {}, nullptr};

  Status auth;
  if (state != nullptr && state->auth) {
    // A streamed body: authorized and charged by StreamBody before it was read.
    auth = *state->auth;
    ctx.principal = state->principal;
    ctx.namespace_id = state->namespace_id;
    ctx.namespace_name = state->namespace_name;
    if (state->route_body) ctx.streamed_body = req.body_consumer.get();
  } else {
    auth = Authorize(route, req, ctx);
  }
  if (req.dispatch == Dispatch::kInline && auth.code() == StatusCode::kUnavailable) {
    // The key or namespace is not cached: checking it needs the store, which the I/O thread
    // never calls. Nothing happened yet (no token taken): run again on the pool.
    out.run_blocking = true;
    return;
  }
  if (!auth.ok()) {
    if (auth.code() == StatusCode::kResourceExhausted) {
      out.AddHeader("Retry-After", std::string(auth.message()));
      WriteError(429, "rate_limited", "too many requests for this API key", request_id, out);
    } else {
      if (auth.code() == StatusCode::kUnauthenticated) {
        out.AddHeader("WWW-Authenticate", "Bearer");
      }
      WriteError(HttpStatusFor(auth.code()), StatusCodeName(auth.code()), auth.message(),
                 request_id, out);
    }
    return Finish(req, request_id, &route, start, client_ip, KeyPrefix(ctx), out);
  }

  // A route that streams its body reads (and checks) it in its handler.
  if (route.compiled_request && !route.body_stream) {
    const std::string_view content_type = req.Header("content-type");
    if (!content_type.empty() && !IsJsonType(content_type)) {
      WriteError(415, "unsupported_media_type", "the body must be application/json", request_id,
                 out);
      return Finish(req, request_id, &route, start, client_ip, KeyPrefix(ctx), out);
    }
    auto body = ParseJson(req.body.empty() ? std::string_view("{}") : std::string_view(req.body),
                          json_limits_);
    Status valid = body.ok() ? route.compiled_request->Validate(*body) : body.status();
    if (!valid.ok()) {
      WriteError(400, "invalid_argument", valid.message(), request_id, out);
      return Finish(req, request_id, &route, start, client_ip, KeyPrefix(ctx), out);
    }
    ctx.body = std::move(body).value();
  }

  Result<ApiResponse> result = [&]() -> Result<ApiResponse> {
    try {
      return route.handler(ctx);
    } catch (const std::exception& e) {
      log::Error("handler threw", {{"route", route.pattern}, {"error", e.what()}});
      return InternalError("internal error");
    }
  }();
  if (result.ok() && result->websocket) {
    out.status = 101;
    out.websocket = std::move(result->websocket);
    Finish(req, request_id, &route, start, client_ip, KeyPrefix(ctx), out);
    return;
  }
  if (result.ok() && result->stream) {
    out.status = result->status;
    out.content_type = result->content_type;
    for (auto& h : result->headers) out.headers.push_back(std::move(h));
    out.stream = std::move(result->stream);
    Finish(req, request_id, &route, start, client_ip, KeyPrefix(ctx), out);
    return;
  }
  if (result.ok() && result->deferred) {
    // Answer later: the transport parks the connection until `resume`. Everything the answer
    // needs is copied now; the RequestContext ends with this call.
    auto deferred = std::move(result->deferred);
    out.deferred = [this, &req, &out, deferred = std::move(deferred), id = std::string(request_id),
                    route = &route, start, client_ip,
                    key = KeyPrefix(ctx)](std::function<void()> resume) mutable {
      deferred([this, &req, &out, id, route, start, client_ip, key,
                resume = std::move(resume)](Result<ApiResponse> answer) {
        Respond(id, route, std::move(answer), out);
        Compress(req, out);
        Finish(req, id, route, start, client_ip, key, out);
        resume();
      });
    };
    return;
  }
  Respond(request_id, &route, std::move(result), out);
  Compress(req, out);
  Finish(req, request_id, &route, start, client_ip, KeyPrefix(ctx), out);
}

void ApiService::Compress(const HttpRequest& req, HttpResponse& out) const {
  if (out.body.size() >= gzip_min_bytes_ && out.status != 204 &&
      AcceptsGzip(req.Header("accept-encoding")) &&
      (out.content_type.starts_with("application/json") || out.content_type.starts_with("text/"))) {
    std::string zipped;
    if (GzipCompress(out.body, &zipped)) {
      out.body = std::move(zipped);
      out.AddHeader("Content-Encoding", "gzip");
      out.AddHeader("Vary", "Accept-Encoding");
    }
  }
}

Status ApiService::Authorize(const Route& route, const HttpRequest& req, RequestContext& ctx) {
  bool is_metrics = route.pattern == "/metrics";
  if (route.access == Access::kPublic && !(is_metrics && metrics_require_auth_)) {
    return OkStatus();
  }
  std::string_view authz = req.Header("authorization");
  std::string_view token;
  std::string query_token;  // only for ?access_token=, which needs decoding
  if (authz.size() >= 7 && (authz.substr(0, 7) == "Bearer " || authz.substr(0, 7) == "bearer ")) {
    token = authz.substr(7);
  } else if (route.allow_query_token && authz.empty()) {
    query_token = ctx.Query("access_token").value_or("");
    token = query_token;
  }
  if (token.empty()) {
    return UnauthenticatedError("missing API key: send 'Authorization: Bearer <key>'");
  }
  const bool may_block = req.dispatch == Dispatch::kBlocking;
  std::optional<Result<Principal>> verified;
  if (may_block) {
    verified = auth_->Verify(token);
  } else {
    verified = auth_->VerifyCached(token);
    if (!verified) return UnavailableError("the key is not cached");
  }
  ARGUS_ASSIGN_OR_RETURN(Principal p, std::move(*verified));
  if (int wait = per_key_.Take(p.key_id, std::chrono::steady_clock::now()); wait > 0) {
    return ResourceExhaustedError(std::to_string(wait));
  }
  // Routes that act outside any namespace (namespaces themselves, queue controls) ignore the
  // header: SDKs send it on every call, including the one that creates the namespace it names.
  std::string_view wanted =
      route.access == Access::kGlobalAdmin ? std::string_view() : req.Header("x-namespace");
  if (p.global) {
    if (!wanted.empty()) {
      if (may_block) {
        ARGUS_ASSIGN_OR_RETURN(ctx.namespace_id, auth_->ResolveNamespace(wanted));
      } else if (auto cached = auth_->CachedNamespace(wanted)) {
        ctx.namespace_id = std::move(*cached);
      } else {
        return UnavailableError("the namespace is not cached");
      }
      ctx.namespace_name = std::string(wanted);
    }
  } else {
    // A namespace key acts only in its own namespace; naming another one looks exactly like
    // naming one that does not exist.
    if (!wanted.empty() && wanted != p.namespace_name) {
      return NotFoundError("namespace '" + std::string(wanted) + "' does not exist");
    }
    ctx.namespace_id = p.namespace_id;
    ctx.namespace_name = p.namespace_name;
  }
  ctx.principal = std::move(p);
  const Principal& who = *ctx.principal;
  store::Role need = store::Role::kViewer;
  switch (route.access) {
    case Access::kPublic:
    case Access::kAnyKey:
      return OkStatus();
    case Access::kGlobalAdmin:
      if (!who.global) return PermissionDeniedError("this operation needs a global admin key");
      return OkStatus();
    case Access::kNamespaceAdmin:
      if (who.global) return OkStatus();
      need = store::Role::kAdmin;
      break;
    case Access::kNamespaceEditor:
      need = store::Role::kEditor;
      break;
    case Access::kNamespaceViewer:
      need = store::Role::kViewer;
      break;
  }
  if (ctx.namespace_id.empty()) {
    return InvalidArgumentError("this operation acts in a namespace: send 'X-Namespace: <name>'");
  }
  if (!who.global && static_cast<int>(who.role) < static_cast<int>(need)) {
    return PermissionDeniedError("this operation needs the " + std::string(store::RoleName(need)) +
                                 " role; the key has " + std::string(store::RoleName(who.role)));
  }
  return OkStatus();
}

void ApiService::Respond(std::string_view request_id, const Route* route,
                         Result<ApiResponse> result, HttpResponse& out) {
  if (!result.ok()) {
    const Status& s = result.status();
    if (s.code() == StatusCode::kInternal) {
      log::Error("request failed", {{"error", std::string(s.message())}});
      WriteError(500, "internal", "internal error (see the server log for this request id)",
                 request_id, out);
    } else {
      WriteError(HttpStatusFor(s.code()), StatusCodeName(s.code()), s.message(), request_id, out);
      // A full queue or a model still loading: worth trying again in a moment.
      if (s.code() == StatusCode::kResourceExhausted || s.code() == StatusCode::kUnavailable) {
        out.AddHeader("Retry-After", "1");
      }
    }
    return;
  }
  ApiResponse& r = *result;
  out.status = r.status;
  for (auto& h : r.headers) out.headers.push_back(std::move(h));
  if (r.body_source) {
    out.body_source = std::move(r.body_source);
    out.content_type = r.content_type;
  } else if (r.raw) {
    out.body = std::move(*r.raw);
    out.content_type = r.content_type.empty() ? route->response_content_type : r.content_type;
  } else if (r.status != 204) {
    DumpJsonTo(r.body, &out.body);
    out.content_type = "application/json";
  } else {
    out.content_type.clear();
  }
}

void ApiService::HandleTransportError(const HttpRequest& req, int status, std::string_view code,
                                      std::string_view message, HttpResponse& out) {
  std::string_view given = req.Header("x-request-id");
  std::string request_id = ValidRequestId(given) ? std::string(given) : NewId(*deps_.clock);
  out.AddHeader("X-Request-Id", request_id);
  WriteError(status, code, message, request_id, out);
  if (access_log_) {
    log::RequestIdScope scope(request_id);
    log::Info("request refused", {{"status", status}, {"code", code}, {"peer", req.peer_ip}});
  }
}

void ApiService::Finish(const HttpRequest& req, std::string_view request_id, const Route* route,
                        std::chrono::steady_clock::time_point start, const std::string& client_ip,
                        const std::string& key_prefix, HttpResponse& out) {
  out.AddHeader("X-Request-Id", std::string(request_id));
  RouteMetrics& m = *route_metrics_[route ? route->index : route_metrics_.size() - 1];
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  m.seconds->Observe(seconds);
  int code = (out.status >= 100 && out.status < 600) ? out.status : 500;
  Counter* c = m.by_code[code].load(std::memory_order_acquire);
  if (c == nullptr || !route) {
    // Unmatched requests carry the client's method; everything else the route's.
    c = &requests_total_->WithLabels({m.label,
                                      route ? route->method : std::string(MethodLabel(req.method)),
                                      std::to_string(code)});
    if (route) m.by_code[code].store(c, std::memory_order_release);
  }
  c->Inc();
  if (access_log_) {
    Json fields = {{"method", req.method},
                   {"path", std::string(req.path)},
                   {"status", out.status},
                   {"bytes", out.body.size()},
                   {"duration_ms", std::round(seconds * 1e6) / 1000},
                   {"client", client_ip}};
    if (route) fields["route"] = route->pattern;
    if (!key_prefix.empty()) fields["key"] = key_prefix;
    log::Info("request", fields);
  }
}

}  // namespace argus::api
