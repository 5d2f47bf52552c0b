#pragma once

#include <map>
#include <mutex>

#include "api/api_service.h"
#include "api/auth/authenticator.h"
#include "api/router.h"
#include "api/task_catalog_view.h"
#include "retrieval/vector_indexes.h"

namespace argus::api {

/// What route registration functions get; all pointers borrowed from the ApiService.
struct HandlerEnv {
  ApiDeps* deps;
  Authenticator* auth;
  const Router* router;
  TaskWaiter* waiter;                        ///< null when the server runs no task queue
  TaskKindCache* task_kinds;                 ///< null when the server runs no task queue
  WorkerDirectory* workers;                  ///< null when the server runs no task queue
  EventStreams* streams;                     ///< null when the server runs no task queue
  retrieval::VectorIndexes* vector_indexes;  ///< null: no search routes
};

/// Seconds from `Prefer: wait=N` (RFC 7240), capped at `max_s`; nullopt when absent.
std::optional<double> PreferWait(const HttpRequest& req, double max_s);
/// The longest `Prefer: wait` honoured.
inline constexpr double kMaxPreferWaitS = 300;
/// The answer to `Prefer: wait=N` on a call that started or reads `task`: when the task is
/// terminal or after `wait_s`, whichever is first, with the task and Preference-Applied.
/// `created` is null for GET (200 either way), else whether the call created the task (200 once
/// terminal, 202 while it still runs).
ApiResponse WaitForTask(HandlerEnv env, const store::Task& task, double wait_s,
                        std::optional<bool> created);
/// How long a call that runs an internal task (a cascading delete) waits for it.
inline constexpr double kInternalTaskWaitS = 60;
/// Enqueues an internal task (its kind refused from clients: a cascading delete) on the io
/// queue and answers when it ends: `succeeded()` when it succeeded, its error (by its code) when
/// it failed, 202 with the task when it still runs after kInternalTaskWaitS.
Result<ApiResponse> RunInternalTask(HandlerEnv env, store::NewTask task,
                                    std::function<ApiResponse()> succeeded);

/// /healthz, /readyz, /metrics, /openapi.json, /docs.
void AddOpsRoutes(Router& router, HandlerEnv env);
/// /v1/namespaces.
void AddNamespaceRoutes(Router& router, HandlerEnv env);
/// /v1/keys.
void AddKeyRoutes(Router& router, HandlerEnv env);
/// /v1/whoami and /v1/diagnostics/echo.
void AddDiagnosticsRoutes(Router& router, HandlerEnv env);

/// /v1/tasks, /v1/queues, /v1/workers (+ the external worker protocol).
void AddTaskRoutes(Router& router, HandlerEnv env);
/// GET /v1/events (SSE).
void AddEventRoutes(Router& router, HandlerEnv env);
/// GET /v1/ws (WebSocket).
void AddWebSocketRoutes(Router& router, HandlerEnv env);
/// /v1/task-kinds: the catalog, kinds external workers publish, and per-kind limits.
void AddTaskKindRoutes(Router& router, HandlerEnv env);
/// A task kind or queue name: [a-z][a-z0-9_.:-]{0,63}.
bool ValidTaskName(std::string_view s);
/// POST /v1/workers/lease and /v1/tasks/{id}/heartbeat|complete|fail.
void AddWorkerProtocolRoutes(Router& router, HandlerEnv env);

/// /v1/collections.
void AddCollectionRoutes(Router& router, HandlerEnv env);
/// /v1/collections/{c}/documents and /trigger.
void AddDocumentRoutes(Router& router, HandlerEnv env);
/// POST /v1/collections/{c}/search.
void AddSearchRoutes(Router& router, HandlerEnv env);
/// /v1/buckets/{bucket}/batches: drafts, submission, progress, cancel, retry.
void AddBatchRoutes(Router& router, HandlerEnv env);
/// A document as the API shows it (its vectors by feature address when asked; only the payload
/// paths of `return_fields` when it names any).
Json DocumentJson(const store::Document& d, bool with_vectors,
                  const std::vector<std::string>* return_fields = nullptr);
/// `fields` (null, or an array of strings checked by the route's schema) as payload paths;
/// InvalidArgument naming `where`[i] for one that is no path.
Result<std::vector<std::string>> ReturnFields(const Json& fields, std::string_view where);
/// {field: [{"value", "count"}]}.
Json FacetsJson(const std::map<std::string, std::vector<store::FacetValue>>& facets);
/// /v1/buckets.
void AddBucketRoutes(Router& router, HandlerEnv env);
/// /v1/buckets/{bucket}/objects and /content: uploads and downloads.
void AddObjectRoutes(Router& router, HandlerEnv env);
/// /v1/buckets/{bucket}/uploads: resumable uploads in parts.
void AddUploadRoutes(Router& router, HandlerEnv env);
/// /v1/buckets/{bucket}/syncs: folders and S3 prefixes whose files become objects.
void AddSyncRoutes(Router& router, HandlerEnv env);
/// /v1/models, /v1/extractors and POST /v1/inference/{name}.
void AddInferenceRoutes(Router& router, HandlerEnv env);
/// GET /v1/buckets/{bucket}/thumbnails/{key}: made by the inference service, kept as derived blobs.
void AddThumbnailRoutes(Router& router, HandlerEnv env);
/// /v1/webhooks and their delivery log.
void AddWebhookRoutes(Router& router, HandlerEnv env);

/// Builds the OpenAPI 3.1 document from the route table.
Json BuildOpenApi(const Router& router);

// Shared helpers for list endpoints (DESIGN.md §8).
struct ListParams {
  store::PageRequest page;
};
/// Reads ?limit= (1..1000, default 50) and ?cursor= (decoding to at most `max_cursor_bytes`);
/// InvalidArgument when malformed.
Result<ListParams> ParseListParams(const RequestContext& ctx, size_t max_cursor_bytes = 128);
/// {"items": [...], "next_cursor": "..." | null}.
Json ListBody(Json items, const std::string& next_after_id);
/// The shared schema of a list response whose items follow `item_schema`.
Json ListSchema(const Json& item_schema);
/// The common query parameters of list endpoints.
std::vector<QueryParam> ListQueryParams();

}  // namespace argus::api
