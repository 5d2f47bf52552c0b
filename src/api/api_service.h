#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "api/auth/authenticator.h"
#include "api/http/client_address.h"
#include "api/http/http_types.h"
#include "api/http/rate_limiter.h"
#include "api/router.h"
#include "api/task_waiter.h"
#include "core/config.h"
#include "core/json_schema.h"
#include "core/media_type.h"
#include "core/metrics.h"
#include "retrieval/vector_indexes.h"
#include "store/batch_store.h"
#include "store/blob_references.h"
#include "store/blob_store.h"
#include "store/bucket_store.h"
#include "store/collection_store.h"
#include "store/document_store.h"
#include "store/event_bus.h"
#include "store/event_log.h"
#include "store/inference_service.h"
#include "store/key_store.h"
#include "store/namespace_store.h"
#include "store/object_source.h"
#include "store/sync_store.h"
#include "store/task_catalog.h"
#include "store/task_queue.h"
#include "store/text_index.h"
#include "store/webhook_store.h"

namespace argus::api {

class EventStreams;
class TaskKindCache;
class WorkerDirectory;

/// What the API needs from the rest of the process, all borrowed (they outlive the service).
struct ApiDeps {
  // The metadata roles (one backend's facade behind them all in `argus serve`); each handler
  // uses the ones it needs.
  store::NamespaceStore* namespaces = nullptr;
  store::KeyStore* keys = nullptr;
  store::BucketStore* buckets = nullptr;  ///< buckets, objects, uploads
  store::SyncStore* syncs = nullptr;
  /// Collections; null (or no `inference` to check definitions against): no /v1/collections.
  store::CollectionStore* collections = nullptr;
  store::DocumentStore* documents = nullptr;  ///< with `collections`
  store::TextIndex* text = nullptr;           ///< with `collections`
  store::BatchStore* batches = nullptr;       ///< with `collections`: /v1/buckets/{b}/batches
  /// The collections' vector indexes; null: no search route.
  retrieval::VectorIndexes* vector_indexes = nullptr;
  store::BlobReferences* references = nullptr;  ///< pins and derived blobs (thumbnails)
  MetricsRegistry* metrics = nullptr;
  const Clock* clock = nullptr;
  /// Readiness checks by name → "ok" or an error text; /readyz is 200 only when all are "ok".
  std::function<std::vector<std::pair<std::string, std::string>>()> readiness;
  std::string docs_dir;  ///< swagger-ui-dist directory for /docs
  store::TaskQueue* tasks = nullptr;
  store::EventLog* events = nullptr;  ///< with `bus`: SSE, WebSocket, Prefer: wait, long polls
  store::EventBus* bus = nullptr;
  /// The kinds the workers publish (input schemas checked at submission, internal kinds
  /// refused from clients) and the workers' registrations (/v1/workers); required with `tasks`.
  store::TaskCatalog* catalog = nullptr;
  int64_t max_pending_per_namespace = 0;
  /// Webhook subscriptions and their delivery log; null: no /v1/webhooks routes.
  store::WebhookStore* webhooks = nullptr;
  bool webhooks_allow_private_targets = false;
  int webhook_max_attempts = 8;  ///< the attempt budget a redelivery gets
  /// Object contents; null: no /v1/buckets routes.
  store::BlobStore* blobs = nullptr;
  int64_t max_object_bytes = 0;       ///< server-wide object size limit (0: none)
  size_t max_metadata_bytes = 16384;  ///< an object's user metadata, as JSON text
  SniffOptions sniff;                 ///< how objects' media types are sniffed
  double upload_expire_s = 86400;     ///< a resumable upload left unfinished this long goes
  /// Sync sources by type ("folder", "s3"); null: no /v1/buckets/{b}/syncs routes.
  const store::ObjectSourceRegistry* sources = nullptr;
  /// Models and extractors; null: no /v1/models, /v1/extractors, /v1/inference routes.
  store::InferenceService* inference = nullptr;
  int64_t inference_max_body_bytes = 32 << 20;  ///< an image sent for inference
  double inference_timeout_s = 30;              ///< then 504
  /// Stored objects read for thumbnails or inference by reference: larger ones are refused (413).
  int64_t thumbnail_max_source_bytes = 64 << 20;
  std::vector<std::string> sync_allowed_roots;  ///< folder syncs read only below these
  bool sync_allow_private_endpoints = false;
};

/// The HTTP handler of the public API: request ids, CORS, routing, authentication and roles,
/// rate limits, JSON parsing and schema validation, error bodies, gzip, metrics and the access
/// log, around the per-resource handlers in api/handlers/. Thread-safe.
class ApiService final : public HttpHandler {
 public:
  static Result<std::unique_ptr<ApiService>> Create(const Config& config, ApiDeps deps);
  ~ApiService() override;

  /// Per-address rate limit (429 without reading the body), then the route: its work runs on
  /// the I/O thread when the route never blocks (Route::never_blocks), else on the pool. What
  /// it decides is kept with the request (HttpRequest::handler_state): StreamBody authorizes a
  /// streamed body from it and Handle answers from it, so nothing is routed or checked twice.
  HeadDecision OnHead(const HttpRequest& head) override;
  void Handle(const HttpRequest& request, HttpResponse& response) override;
  void HandleTransportError(const HttpRequest& request, int status, std::string_view code,
                            std::string_view message, HttpResponse& response) override;
  std::shared_ptr<BodyConsumer> StreamBody(const HttpRequest& head) override;

  /// Answers every waiting call now (before the HTTP server drains).
  void Shutdown();

  const Router& router() const { return router_; }
  Authenticator& authenticator() { return *auth_; }

 private:
  ApiService(const Config& config, ApiDeps deps, ClientAddressResolver resolver);

  struct RouteMetrics;
  struct HeadState;
  /// Verifies the key, resolves the namespace, checks the role and takes a token from the key's
  /// rate limit: once per request (for a streamed body in StreamBody, before it is read). On the
  /// I/O thread (req.dispatch kInline) only the key and namespace caches are used: Unavailable
  /// then means the answer needs the store, and the request moves to the pool.
  Status Authorize(const Route& route, const HttpRequest& req, RequestContext& ctx);
  void Respond(std::string_view request_id, const Route* route, Result<ApiResponse> result,
               HttpResponse& out);
  void Compress(const HttpRequest& req, HttpResponse& out) const;
  void Finish(const HttpRequest& req, std::string_view request_id, const Route* route,
              std::chrono::steady_clock::time_point start, const std::string& client_ip,
              const std::string& key_prefix, HttpResponse& out);
  void AddCors(const HttpRequest& req, HttpResponse& out) const;

  ApiDeps deps_;
  Router router_;
  std::unique_ptr<Authenticator> auth_;
  std::unique_ptr<TaskWaiter> waiter_;
  std::unique_ptr<TaskKindCache> task_kinds_;
  std::unique_ptr<WorkerDirectory> worker_directory_;
  std::unique_ptr<EventStreams> streams_;
  RateLimiter per_key_;
  RateLimiter per_ip_;
  ClientAddressResolver client_address_;
  std::vector<std::string> cors_origins_;
  JsonLimits json_limits_;
  size_t gzip_min_bytes_;
  bool access_log_;
  bool metrics_require_auth_;
  Family<Counter>* requests_total_;
  Family<Histogram>* request_seconds_;
  std::vector<std::unique_ptr<RouteMetrics>> route_metrics_;  // by Route::index, + 1 unmatched
};

/// Writes the standard error body {"error":{"code","message","request_id"}} into `out`.
void WriteError(int status, std::string_view code, std::string_view message,
                std::string_view request_id, HttpResponse& out);

}  // namespace argus::api
