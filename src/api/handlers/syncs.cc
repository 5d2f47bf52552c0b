// /v1/buckets/{bucket}/syncs: a folder on the server or an S3 prefix whose files become objects
// of the bucket. The API records the sync and reports it; the engine's scheduler runs it.
#include <set>

#include "api/handlers/handlers.h"
#include "api/handlers/object_common.h"
#include "core/id.h"
#include "core/json_schema.h"

namespace argus::api {

namespace {

constexpr double kDefaultIntervalS = 60;
constexpr size_t kMaxPathCursorBytes = 4096;

const Json kCreateSchema = {
    {"type", "object"},
    {"additionalProperties", false},
    {"required", {"source"}},
    {"properties",
     {{"source",
       {{"type", "object"},
        {"required", {"type"}},
        {"properties", {{"type", {{"type", "string"}, {"enum", {"folder", "s3"}}}}}},
        {"description",
         "{\"type\": \"folder\", \"path\"} or {\"type\": \"s3\", \"endpoint\", \"region\", "
         "\"bucket\", \"prefix\", \"access_key_id\", \"secret_access_key\", \"path_style\"}"}}},
      {"interval_s",
       {{"type", "number"},
        {"minimum", 1},
        {"maximum", 30 * 86400},
        {"description", "seconds between periodic runs (default 60)"}}},
      {"key_prefix",
       {{"type", "string"},
        {"maxLength", 512},
        {"description", "put before each source path to make the object key"}}},
      {"metadata", {{"type", "object"}, {"description", "user metadata of every object"}}},
      {"paused", {{"type", "boolean"}}}}}};

const Json kUpdateSchema = {
    {"type", "object"},
    {"additionalProperties", false},
    {"properties",
     {{"interval_s", {{"type", "number"}, {"minimum", 1}, {"maximum", 30 * 86400}}}}}};

const Json kRetrySchema = {
    {"type", "object"},
    {"additionalProperties", false},
    {"properties",
     {{"paths",
       {{"type", "array"},
        {"maxItems", 1000},
        {"items", {{"type", "string"}}},
        {"description", "the failed files to retry; all of them when absent"}}}}}};

const Json kCountsSchema = {{"type", "object"},
                            {"properties",
                             {{"discovered", {{"type", "integer"}}},
                              {"ingested", {{"type", "integer"}}},
                              {"failed", {{"type", "integer"}}},
                              {"pending", {{"type", "integer"}}}}}};

const Json kSyncSchema = {
    {"type", "object"},
    {"required", {"id", "bucket", "source", "interval_s", "state", "counts"}},
    {"properties",
     {{"id", {{"type", "string"}}},
      {"bucket", {{"type", "string"}}},
      {"source", {{"type", "object"}, {"description", "the settings, without secrets"}}},
      {"key_prefix", {{"type", "string"}}},
      {"metadata", {{"type", "object"}}},
      {"interval_s", {{"type", "number"}}},
      {"state", {{"type", "string"}, {"enum", {"active", "paused"}}}},
      {"run",
       {{"type", "object"},
        {"description",
         "the latest run: its task id and status (pending, running, succeeded...)"}}},
      {"last_run_at", {{"type", {"string", "null"}}}},
      {"last_success_at", {{"type", {"string", "null"}}}},
      {"next_run_at", {{"type", {"string", "null"}}}},
      {"last_error", {{"type", {"string", "null"}}}},
      {"counts", kCountsSchema},
      {"created_at", {{"type", "string"}}},
      {"updated_at", {{"type", "string"}}}}}};

const Json kFileSchema = {{"type", "object"},
                          {"required", {"path", "state"}},
                          {"properties",
                           {{"path", {{"type", "string"}}},
                            {"state", {{"type", "string"}}},
                            {"size", {{"type", "integer"}}},
                            {"object_key", {{"type", "string"}}},
                            {"error", {{"type", {"string", "null"}}}},
                            {"attempts", {{"type", "integer"}}},
                            {"updated_at", {{"type", "string"}}}}}};

Json TimeOrNull(TimestampUs t) { return t == 0 ? Json(nullptr) : Json(FormatRfc3339(t)); }

// The sync as the API shows it: secrets are never returned.
Json SyncJson(const HandlerEnv& env, const store::Sync& s, const std::string& bucket) {
  Json source = s.source;
  if (auto caps = env.deps->sources->CapabilitiesOf(s.source_type); caps.ok()) {
    for (const auto& secret : caps->secret_fields) source.erase(secret);
  }
  source["type"] = s.source_type;
  Json j = {{"id", s.id},
            {"bucket", bucket},
            {"source", std::move(source)},
            {"key_prefix", s.key_prefix},
            {"metadata", s.metadata},
            {"interval_s", s.interval_s},
            {"state", s.paused ? "paused" : "active"},
            {"last_run_at", TimeOrNull(s.last_run_at)},
            {"last_success_at", TimeOrNull(s.last_success_at)},
            {"next_run_at", s.paused ? Json(nullptr) : TimeOrNull(s.next_run_at)},
            {"last_error", s.last_error.empty() ? Json(nullptr) : Json(s.last_error)},
            {"created_at", FormatRfc3339(s.created_at)},
            {"updated_at", FormatRfc3339(s.updated_at)}};
  j["run"] = nullptr;
  if (!s.run_task_id.empty() && env.deps->tasks != nullptr) {
    if (auto t = env.deps->tasks->Get(s.namespace_id, s.run_task_id); t.ok()) {
      j["run"] = {{"task_id", t->id}, {"status", store::TaskStatusName(t->status)}};
    }
  }
  Json counts = Json::object();
  if (auto c = env.deps->syncs->CountSyncFiles(s.id); c.ok()) {
    counts = {{"discovered", c->discovered},
              {"ingested", c->ingested},
              {"failed", c->failed},
              {"pending", c->pending}};
  }
  j["counts"] = std::move(counts);
  return j;
}

Json FileJson(const store::SyncFile& f) {
  return {{"path", f.path},
          {"state", f.state},
          {"size", f.size},
          {"object_key", f.object_key},
          {"error", f.error.empty() ? Json(nullptr) : Json(f.error)},
          {"attempts", f.attempts},
          {"updated_at", FormatRfc3339(f.updated_at)}};
}

// The sync in the path, which must belong to the bucket in the path.
Result<store::Sync> SyncOf(const HandlerEnv& env, const RequestContext& ctx,
                           const store::Bucket& bucket) {
  ARGUS_ASSIGN_OR_RETURN(auto sync,
                         env.deps->syncs->GetSync(ctx.namespace_id, ctx.PathParam("id")));
  if (sync.bucket_id != bucket.id) {
    return NotFoundError("bucket '" + bucket.name + "' has no sync '" + sync.id + "'");
  }
  return sync;
}

// Checks the settings with the source type's schema and factory (which checks the allowed roots
// and private endpoints) without reaching the source.
Status CheckSource(const HandlerEnv& env, const std::string& type, const Json& config) {
  ARGUS_ASSIGN_OR_RETURN(auto caps, env.deps->sources->CapabilitiesOf(type));
  ARGUS_ASSIGN_OR_RETURN(auto schema, JsonSchema::Compile(caps.config_schema));
  if (Status valid = schema.Validate(config); !valid.ok()) {
    return InvalidArgumentError("source: " + std::string(valid.message()));
  }
  store::SourceArgs args;
  args.config = config;
  args.allowed_roots = env.deps->sync_allowed_roots;
  args.allow_private_endpoints = env.deps->sync_allow_private_endpoints;
  args.clock = env.deps->clock;
  return env.deps->sources->Create(type, args).status();
}

using SyncAction = std::function<Result<store::SyncUpdate>(const store::Sync&)>;

// A POST action on one sync that changes some fields and answers the sync.
Route ActionRoute(HandlerEnv env, std::string action, std::string summary, SyncAction change) {
  return {.method = "POST",
          .pattern = "/v1/buckets/{bucket}/syncs/{id}/" + action,
          .operation_id = action + "Sync",
          .summary = std::move(summary),
          .tag = "syncs",
          .access = Access::kNamespaceEditor,
          .response_schema = kSyncSchema,
          .handler = [env, change](RequestContext& ctx) -> Result<ApiResponse> {
            ARGUS_ASSIGN_OR_RETURN(auto bucket, BucketOf(env, ctx));
            ARGUS_ASSIGN_OR_RETURN(auto sync, SyncOf(env, ctx, bucket));
            ARGUS_ASSIGN_OR_RETURN(auto update, change(sync));
            ARGUS_ASSIGN_OR_RETURN(
                sync, env.deps->syncs->UpdateSync(sync.id, update, env.deps->clock->NowUs()));
            return ApiResponse::Of(200, SyncJson(env, sync, bucket.name));
          }};
}

Result<ApiResponse> ListFiles(const HandlerEnv& env, RequestContext& ctx, std::string state) {
  ARGUS_ASSIGN_OR_RETURN(auto bucket, BucketOf(env, ctx));
  ARGUS_ASSIGN_OR_RETURN(auto sync, SyncOf(env, ctx, bucket));
  ARGUS_ASSIGN_OR_RETURN(auto params, ParseListParams(ctx, kMaxPathCursorBytes));
  if (auto s = ctx.Query("state")) {
    static const std::set<std::string> kStates = {"pending", "ingested", "failed"};
    if (!kStates.count(*s)) {
      return InvalidArgumentError("state must be pending, ingested or failed");
    }
    state = *s;
  }
  ARGUS_ASSIGN_OR_RETURN(auto page, env.deps->syncs->ListSyncFiles(
                                        sync.id, state, params.page.after_id, params.page.limit));
  Json items = Json::array();
  for (const auto& f : page.items) items.push_back(FileJson(f));
  return ApiResponse::Of(200, ListBody(std::move(items), page.next_after_id));
}

}  // namespace

void AddSyncRoutes(Router& router, HandlerEnv env) {
  router.Add(
      {.method = "POST",
       .pattern = "/v1/buckets/{bucket}/syncs",
       .operation_id = "createSync",
       .summary = "Sync a folder (below syncs.allowed_roots) or an S3 prefix into the bucket",
       .tag = "syncs",
       .access = Access::kNamespaceAdmin,
       .request_schema = kCreateSchema,
       .response_schema = kSyncSchema,
       .success_status = 201,
       .handler = [env](RequestContext& ctx) -> Result<ApiResponse> {
         ARGUS_ASSIGN_OR_RETURN(auto bucket, BucketOf(env, ctx));
         const Json& b = ctx.body;
         store::Sync s;
         s.source_type = b["source"]["type"].get<std::string>();
         s.source = b["source"];
         s.source.erase("type");
         ARGUS_RETURN_IF_ERROR(CheckSource(env, s.source_type, s.source));
         s.key_prefix = b.value("key_prefix", "");
         if (!s.key_prefix.empty()) {
           std::string probe;
           Status key_ok = domain::CheckObjectKey(s.key_prefix + "x", &probe);
           if (!key_ok.ok()) {
             return InvalidArgumentError("key_prefix: " + std::string(key_ok.message()));
           }
           s.key_prefix = probe.substr(0, probe.size() - 1);
         }
         s.metadata = b.value("metadata", Json::object());
         ARGUS_RETURN_IF_ERROR(
             domain::CheckObjectMetadata(bucket, s.metadata, env.deps->max_metadata_bytes));
         s.interval_s = b.value("interval_s", kDefaultIntervalS);
         s.paused = b.value("paused", false);
         s.id = NewId();
         s.namespace_id = ctx.namespace_id;
         s.bucket_id = bucket.id;
         s.created_at = s.updated_at = env.deps->clock->NowUs();
         s.next_run_at = s.created_at;  // the first run starts at once
         ARGUS_ASSIGN_OR_RETURN(auto created, env.deps->syncs->CreateSync(s));
         auto resp = ApiResponse::Of(201, SyncJson(env, created, bucket.name));
         std::string location = "/v1/buckets/";
         location.append(bucket.name).append("/syncs/").append(created.id);
         resp.headers.emplace_back("Location", std::move(location));
         return resp;
       }});
  router.Add({.method = "GET",
              .pattern = "/v1/buckets/{bucket}/syncs",
              .operation_id = "listSyncs",
              .summary = "List the bucket's syncs, oldest first",
              .tag = "syncs",
              .access = Access::kNamespaceViewer,
              .response_schema = ListSchema(kSyncSchema),
              .query = ListQueryParams(),
              .handler = [env](RequestContext& ctx) -> Result<ApiResponse> {
                ARGUS_ASSIGN_OR_RETURN(auto bucket, BucketOf(env, ctx));
                ARGUS_ASSIGN_OR_RETURN(auto params, ParseListParams(ctx));
                ARGUS_ASSIGN_OR_RETURN(auto page,
                                       env.deps->syncs->ListSyncs(bucket.id, params.page));
                Json items = Json::array();
                for (const auto& s : page.items) items.push_back(SyncJson(env, s, bucket.name));
                return ApiResponse::Of(200, ListBody(std::move(items), page.next_after_id));
              }});
  router.Add({.method = "GET",
              .pattern = "/v1/buckets/{bucket}/syncs/{id}",
              .operation_id = "getSync",
              .summary = "A sync's settings (without secrets), state, latest run and counts",
              .tag = "syncs",
              .access = Access::kNamespaceViewer,
              .response_schema = kSyncSchema,
              .handler = [env](RequestContext& ctx) -> Result<ApiResponse> {
                ARGUS_ASSIGN_OR_RETURN(auto bucket, BucketOf(env, ctx));
                ARGUS_ASSIGN_OR_RETURN(auto sync, SyncOf(env, ctx, bucket));
                return ApiResponse::Of(200, SyncJson(env, sync, bucket.name));
              }});
  router.Add({.method = "PATCH",
              .pattern = "/v1/buckets/{bucket}/syncs/{id}",
              .operation_id = "updateSync",
              .summary = "Change a sync's interval",
              .tag = "syncs",
              .access = Access::kNamespaceAdmin,
              .request_schema = kUpdateSchema,
              .response_schema = kSyncSchema,
              .handler = [env](RequestContext& ctx) -> Result<ApiResponse> {
                ARGUS_ASSIGN_OR_RETURN(auto bucket, BucketOf(env, ctx));
                ARGUS_ASSIGN_OR_RETURN(auto sync, SyncOf(env, ctx, bucket));
                store::SyncUpdate u;
                if (ctx.body.contains("interval_s")) {
                  u.interval_s = ctx.body["interval_s"].get<double>();
                  // A shorter interval applies from now, not after the old one runs out.
                  TimestampUs sooner =
                      env.deps->clock->NowUs() + static_cast<TimestampUs>(*u.interval_s * 1e6);
                  if (sooner < sync.next_run_at) u.next_run_at = sooner;
                }
                ARGUS_ASSIGN_OR_RETURN(
                    sync, env.deps->syncs->UpdateSync(sync.id, u, env.deps->clock->NowUs()));
                return ApiResponse::Of(200, SyncJson(env, sync, bucket.name));
              }});
  router.Add({.method = "DELETE",
              .pattern = "/v1/buckets/{bucket}/syncs/{id}",
              .operation_id = "deleteSync",
              .summary = "Delete a sync and its file records (the objects it made stay)",
              .tag = "syncs",
              .access = Access::kNamespaceAdmin,
              .success_status = 204,
              .handler = [env](RequestContext& ctx) -> Result<ApiResponse> {
                ARGUS_ASSIGN_OR_RETURN(auto bucket, BucketOf(env, ctx));
                ARGUS_ASSIGN_OR_RETURN(auto sync, SyncOf(env, ctx, bucket));
                ARGUS_RETURN_IF_ERROR(env.deps->syncs->DeleteSync(ctx.namespace_id, sync.id));
                return ApiResponse::NoContent();
              }});
  router.Add(ActionRoute(env, "pause", "Stop starting runs (a run in progress finishes)",
                         [](const store::Sync&) -> Result<store::SyncUpdate> {
                           store::SyncUpdate u;
                           u.paused = true;
                           return u;
                         }));
  router.Add(ActionRoute(env, "resume", "Start runs again, the first at once",
                         [](const store::Sync&) -> Result<store::SyncUpdate> {
                           store::SyncUpdate u;
                           u.paused = false;
                           u.next_run_at = 0;
                           return u;
                         }));
  router.Add(ActionRoute(env, "run", "Start a run now (after the one in progress, if any)",
                         [](const store::Sync& s) -> Result<store::SyncUpdate> {
                           if (s.paused) {
                             return FailedPreconditionError("the sync is paused: resume it");
                           }
                           store::SyncUpdate u;
                           u.next_run_at = 0;
                           return u;
                         }));
  std::vector<QueryParam> file_query = ListQueryParams();
  file_query.push_back({"state",
                        {{"type", "string"}, {"enum", {"pending", "ingested", "failed"}}},
                        "only files in this state"});
  router.Add({.method = "GET",
              .pattern = "/v1/buckets/{bucket}/syncs/{id}/files",
              .operation_id = "listSyncFiles",
              .summary = "The source files a sync has seen, in path order",
              .tag = "syncs",
              .access = Access::kNamespaceViewer,
              .response_schema = ListSchema(kFileSchema),
              .query = file_query,
              .handler = [env](RequestContext& ctx) { return ListFiles(env, ctx, ""); }});
  router.Add({.method = "GET",
              .pattern = "/v1/buckets/{bucket}/syncs/{id}/failures",
              .operation_id = "listSyncFailures",
              .summary = "The files a sync could not ingest, with the reasons",
              .tag = "syncs",
              .access = Access::kNamespaceViewer,
              .response_schema = ListSchema(kFileSchema),
              .query = ListQueryParams(),
              .handler = [env](RequestContext& ctx) { return ListFiles(env, ctx, "failed"); }});
  router.Add({.method = "POST",
              .pattern = "/v1/buckets/{bucket}/syncs/{id}/failures/retry",
              .operation_id = "retrySyncFailures",
              .summary = "Try failed files again (all, or the listed paths) in a run now",
              .tag = "syncs",
              .access = Access::kNamespaceEditor,
              .request_schema = kRetrySchema,
              .response_schema = {{"type", "object"},
                                  {"properties", {{"retried", {{"type", "integer"}}}}}},
              .handler = [env](RequestContext& ctx) -> Result<ApiResponse> {
                ARGUS_ASSIGN_OR_RETURN(auto bucket, BucketOf(env, ctx));
                ARGUS_ASSIGN_OR_RETURN(auto sync, SyncOf(env, ctx, bucket));
                std::vector<std::string> paths;
                if (ctx.body.contains("paths")) {
                  paths = ctx.body["paths"].get<std::vector<std::string>>();
                }
                ARGUS_ASSIGN_OR_RETURN(int64_t n, env.deps->syncs->RetrySyncFiles(sync.id, paths));
                if (n > 0 && !sync.paused) {
                  store::SyncUpdate u;
                  u.next_run_at = 0;
                  ARGUS_RETURN_IF_ERROR(
                      env.deps->syncs->UpdateSync(sync.id, u, env.deps->clock->NowUs()).status());
                }
                return ApiResponse::Of(200, Json{{"retried", n}});
              }});
}

}  // namespace argus::api
