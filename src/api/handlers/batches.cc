// /v1/buckets/{bucket}/batches: a set of a bucket's objects processed by collections as one unit
// of work. A draft names the objects (keys, a prefix, a metadata filter) and the tier-1
// collections (default: every collection of the bucket); /submit queues one collection.extract
// task per (object, collection) with the batch as parent; engine/collections/BatchTracker keeps
// its progress from the tasks; later tiers follow each object's tier 1.
#include "api/handlers/handlers.h"
#include "core/id.h"
#include "domain/document_builder.h"
#include "store/event_payloads.h"

namespace argus::api {

namespace {

constexpr int kMaxKeys = 10000;
constexpr int kEnqueueChunk = 500;

const Json kCreateSchema = {
    {"type", "object"},
    {"additionalProperties", false},
    {"properties",
     {{"keys",
       {{"type", "array"},
        {"items", {{"type", "string"}, {"minLength", 1}}},
        {"minItems", 1},
        {"maxItems", kMaxKeys},
        {"description", "these objects"}}},
      {"prefix", {{"type", "string"}, {"maxLength", 1024}, {"description", "keys under it"}}},
      {"filter",
       {{"type", "object"},
        {"description", "objects matching it: key, media_type, size, metadata.<field>"}}},
      {"collections",
       {{"type", "array"},
        {"items", {{"type", "string"}}},
        {"description",
         "the bucket's collections to run (default: all of them); the "
         "collections sourced from them follow"}}}}}};

// The object as a batch's filter sees it.
Json ObjectView(const store::StoredObject& o) {
  return {{"key", o.key}, {"media_type", o.media_type}, {"size", o.size}, {"metadata", o.metadata}};
}

Json BatchBody(const HandlerEnv& env, const store::Batch& b) {
  Json out = store::BatchJson(b);
  Json names = Json::array();
  for (const auto& id : b.collection_ids) {
    auto c = env.deps->collections->GetCollectionById(id);
    names.push_back(c.ok() ? Json(c->name) : Json(nullptr));
  }
  out["collections"] = std::move(names);
  return out;
}

// Calls `each` with every object the batch selects, in key order.
Status ForEachSelected(const HandlerEnv& env, const store::Batch& b,
                       const std::function<Status(const store::StoredObject&)>& each) {
  const Json& sel = b.selection;
  if (sel.contains("keys")) {
    for (const auto& key : sel["keys"]) {
      auto o = env.deps->buckets->GetObject(b.bucket_id, key.get<std::string>());
      if (o.status().code() == StatusCode::kNotFound) continue;  // deleted since the draft
      ARGUS_RETURN_IF_ERROR(o.status());
      ARGUS_RETURN_IF_ERROR(each(*o));
    }
    return OkStatus();
  }
  ARGUS_ASSIGN_OR_RETURN(auto filter, store::ParseFilter(sel.value("filter", Json())));
  store::ListObjectsRequest list{.prefix = sel.value("prefix", ""), .limit = 1000};
  for (;;) {
    ARGUS_ASSIGN_OR_RETURN(auto page, env.deps->buckets->ListObjects(b.bucket_id, list));
    for (const auto& o : page.objects) {
      if (filter.MatchesAll() || store::Matches(filter, ObjectView(o))) {
        ARGUS_RETURN_IF_ERROR(each(o));
      }
    }
    if (page.next_after_key.empty()) return OkStatus();
    list.after_key = page.next_after_key;
  }
}

Result<ApiResponse> Create(const HandlerEnv& env, RequestContext& ctx) {
  ARGUS_ASSIGN_OR_RETURN(auto bucket,
                         env.deps->buckets->GetBucket(ctx.namespace_id, ctx.PathParam("bucket")));
  const Json& body = ctx.body;
  if (body.contains("keys") && (body.contains("prefix") || body.contains("filter"))) {
    return InvalidArgumentError("keys: give keys, or a prefix and/or a filter, not both");
  }
  store::Batch b;
  b.id = NewId(*env.deps->clock);
  b.namespace_id = ctx.namespace_id;
  b.bucket_id = bucket.id;
  b.created_at = b.updated_at = env.deps->clock->NowUs();
  for (const char* field : {"keys", "prefix", "filter"}) {
    if (body.contains(field)) b.selection[field] = body[field];
  }
  if (body.contains("filter")) {
    ARGUS_RETURN_IF_ERROR(store::ParseFilter(body["filter"], {}, "filter").status());
  }
  if (body.contains("keys")) {
    const Json& keys = body["keys"];
    for (size_t i = 0; i < keys.size(); ++i) {
      auto o = env.deps->buckets->GetObject(bucket.id, keys[i].get<std::string>());
      if (o.status().code() == StatusCode::kNotFound) {
        return InvalidArgumentError("keys[" + std::to_string(i) + "]: bucket '" + bucket.name +
                                    "' has no object '" + keys[i].get<std::string>() + "'");
      }
      ARGUS_RETURN_IF_ERROR(o.status());
    }
  }
  if (body.contains("collections")) {
    const Json& names = body["collections"];
    for (size_t i = 0; i < names.size(); ++i) {
      const std::string name = names[i];
      auto c = env.deps->collections->GetCollection(ctx.namespace_id, name);
      if (c.status().code() == StatusCode::kNotFound) {
        return InvalidArgumentError("collections[" + std::to_string(i) + "]: no collection '" +
                                    name + "'");
      }
      ARGUS_RETURN_IF_ERROR(c.status());
      if (c->source_bucket_id != bucket.id) {
        return InvalidArgumentError(
            "collections[" + std::to_string(i) + "]: '" + name + "' runs on " +
            (c->source_bucket_id.empty() ? "another collection's regions (it follows its source)"
                                         : "another bucket") +
            "; give the collections of bucket '" + bucket.name + "'");
      }
      b.collection_ids.push_back(c->id);
    }
  } else {
    ARGUS_ASSIGN_OR_RETURN(auto of_bucket,
                           env.deps->collections->CollectionsOfSource(bucket.id, false));
    for (const auto& c : of_bucket) b.collection_ids.push_back(c.id);
  }
  if (b.collection_ids.empty()) {
    return InvalidArgumentError("collections: bucket '" + bucket.name +
                                "' is the source of no collection: create one first");
  }
  ARGUS_ASSIGN_OR_RETURN(auto created, env.deps->batches->CreateBatch(b));
  return ApiResponse::Of(201, BatchBody(env, created));
}

Result<ApiResponse> Submit(const HandlerEnv& env, RequestContext& ctx) {
  if (env.deps->tasks == nullptr) return UnavailableError("this server runs no tasks");
  ARGUS_ASSIGN_OR_RETURN(auto bucket,
                         env.deps->buckets->GetBucket(ctx.namespace_id, ctx.PathParam("bucket")));
  ARGUS_ASSIGN_OR_RETURN(auto b,
                         env.deps->batches->GetBatch(ctx.namespace_id, ctx.PathParam("id")));
  if (b.bucket_id != bucket.id) return NotFoundError("batch '" + b.id + "' does not exist");
  if (b.status != store::BatchStatus::kDraft) {
    return FailedPreconditionError("batch '" + b.id + "' is " +
                                   std::string(store::BatchStatusName(b.status)) +
                                   "; only a draft is submitted (retry re-runs its failures)");
  }
  // The tasks first, each keyed by (batch, collection, object): a second submission, or one
  // repeated after a failure half-way, queues none twice. The batch is marked queued after.
  int64_t objects = 0, queued = 0;
  std::vector<store::NewTask> chunk;
  auto flush = [&]() -> Status {
    if (chunk.empty()) return OkStatus();
    ARGUS_RETURN_IF_ERROR(env.deps->tasks->Enqueue(chunk, 0).status());
    queued += static_cast<int64_t>(chunk.size());
    chunk.clear();
    return OkStatus();
  };
  ARGUS_RETURN_IF_ERROR(ForEachSelected(env, b, [&](const store::StoredObject& o) -> Status {
    ++objects;
    for (const auto& collection_id : b.collection_ids) {
      store::NewTask t;
      t.namespace_id = b.namespace_id;
      t.kind = std::string(domain::kExtractKind);
      t.input = domain::ExtractInput(collection_id, o);
      t.parent_id = b.id;
      t.idempotency_key = "batch:" + b.id + ":" + collection_id + ":" + o.id;
      chunk.push_back(std::move(t));
      if (static_cast<int>(chunk.size()) >= kEnqueueChunk) ARGUS_RETURN_IF_ERROR(flush());
    }
    return OkStatus();
  }));
  ARGUS_RETURN_IF_ERROR(flush());
  const TimestampUs now = env.deps->clock->NowUs();
  ARGUS_ASSIGN_OR_RETURN(
      auto submitted,
      env.deps->batches->UpdateBatch(
          b.namespace_id, b.id,
          {.status = store::BatchStatus::kQueued,
           .objects = objects,
           .progress = Json{{"tiers", {{{"tier", 1}, {"total", queued}, {"pending", queued}}}},
                            {"errors", Json::object()}},
           .submitted_at = now,
           .event_type = "batch.submitted",
           .only_from = store::BatchStatus::kDraft},
          now));
  const auto wait_s = PreferWait(ctx.http, kMaxPreferWaitS);
  if (!wait_s || *wait_s <= 0 || env.waiter == nullptr) {
    return ApiResponse::Of(202, BatchBody(env, submitted));
  }
  // Prefer: wait=N: answered once the batch is finished, or at N seconds with its progress.
  ApiResponse deferred;
  const std::string ns = b.namespace_id, id = b.id;
  deferred.deferred = [env, ns, id, wait_s](std::function<void(Result<ApiResponse>)> complete) {
    const auto deadline = std::chrono::steady_clock::now() +
                          std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                              std::chrono::duration<double>(*wait_s));
    env.waiter->Poll(deadline, ns, {}, [env, ns, id, wait_s, complete](bool final) {
      auto batch = env.deps->batches->GetBatch(ns, id);
      if (!batch.ok()) {
        complete(batch.status());
        return TaskWaiter::PollResult{.done = true};
      }
      const bool finished = store::IsFinished(batch->status);
      if (finished || final) {
        ApiResponse r = ApiResponse::Of(finished ? 200 : 202, BatchBody(env, *batch));
        r.headers.emplace_back("Preference-Applied",
                               "wait=" + std::to_string(static_cast<int64_t>(*wait_s)));
        complete(std::move(r));
        return TaskWaiter::PollResult{.done = true};
      }
      // Task events wake the poll; the batch is updated just after them.
      return TaskWaiter::PollResult{.retry_at =
                                        TaskWaiter::Clock::now() + std::chrono::milliseconds(200)};
    });
  };
  return deferred;
}

}  // namespace

void AddBatchRoutes(Router& router, HandlerEnv env) {
  const Json batch_schema = {{"type", "object"}};
  auto batch_of = [env](const RequestContext& ctx) -> Result<store::Batch> {
    ARGUS_ASSIGN_OR_RETURN(auto bucket,
                           env.deps->buckets->GetBucket(ctx.namespace_id, ctx.PathParam("bucket")));
    ARGUS_ASSIGN_OR_RETURN(auto b,
                           env.deps->batches->GetBatch(ctx.namespace_id, ctx.PathParam("id")));
    if (b.bucket_id != bucket.id) {
      return NotFoundError("batch '" + b.id + "' is not a batch of bucket '" + bucket.name + "'");
    }
    return b;
  };
  router.Add({.method = "POST",
              .pattern = "/v1/buckets/{bucket}/batches",
              .operation_id = "createBatch",
              .summary = "A draft batch: the bucket's objects (by keys, a prefix or a metadata "
                         "filter) to process with its collections",
              .tag = "batches",
              .access = Access::kNamespaceEditor,
              .request_schema = kCreateSchema,
              .response_schema = batch_schema,
              .success_status = 201,
              .handler = [env](RequestContext& ctx) { return Create(env, ctx); }});
  router.Add({.method = "GET",
              .pattern = "/v1/buckets/{bucket}/batches",
              .operation_id = "listBatches",
              .summary = "The bucket's batches, oldest first",
              .tag = "batches",
              .access = Access::kNamespaceViewer,
              .response_schema = ListSchema(batch_schema),
              .query = ListQueryParams(),
              .handler = [env](RequestContext& ctx) -> Result<ApiResponse> {
                ARGUS_ASSIGN_OR_RETURN(auto params, ParseListParams(ctx));
                ARGUS_ASSIGN_OR_RETURN(auto bucket, env.deps->buckets->GetBucket(
                                                        ctx.namespace_id, ctx.PathParam("bucket")));
                ARGUS_ASSIGN_OR_RETURN(auto page, env.deps->batches->ListBatches(
                                                      ctx.namespace_id, bucket.id, params.page));
                Json items = Json::array();
                for (const auto& b : page.items) items.push_back(BatchBody(env, b));
                return ApiResponse::Of(200, ListBody(std::move(items), page.next_after_id));
              }});
  router.Add({.method = "GET",
              .pattern = "/v1/buckets/{bucket}/batches/{id}",
              .operation_id = "getBatch",
              .summary = "A batch: status, counts per tier and status, errors by extractor",
              .tag = "batches",
              .access = Access::kNamespaceViewer,
              .response_schema = batch_schema,
              .handler = [env, batch_of](RequestContext& ctx) -> Result<ApiResponse> {
                ARGUS_ASSIGN_OR_RETURN(auto b, batch_of(ctx));
                return ApiResponse::Of(200, BatchBody(env, b));
              }});
  router.Add({.method = "POST",
              .pattern = "/v1/buckets/{bucket}/batches/{id}/submit",
              .operation_id = "submitBatch",
              .summary = "Queue the draft's tasks (Prefer: wait=N answers once it is finished)",
              .tag = "batches",
              .access = Access::kNamespaceEditor,
              .response_schema = batch_schema,
              .success_status = 202,
              .handler = [env](RequestContext& ctx) { return Submit(env, ctx); }});
  router.Add(
      {.method = "POST",
       .pattern = "/v1/buckets/{bucket}/batches/{id}/cancel",
       .operation_id = "cancelBatch",
       .summary = "Cancel the batch's tasks that have not finished",
       .tag = "batches",
       .access = Access::kNamespaceEditor,
       .response_schema = batch_schema,
       .handler = [env, batch_of](RequestContext& ctx) -> Result<ApiResponse> {
         ARGUS_ASSIGN_OR_RETURN(auto b, batch_of(ctx));
         if (store::IsFinished(b.status)) {
           return FailedPreconditionError("batch '" + b.id + "' is " +
                                          std::string(store::BatchStatusName(b.status)));
         }
         if (env.deps->tasks != nullptr) {
           ARGUS_RETURN_IF_ERROR(
               env.deps->tasks->CancelMatching({.namespace_id = b.namespace_id, .parent_id = b.id})
                   .status());
         }
         const TimestampUs now = env.deps->clock->NowUs();
         ARGUS_ASSIGN_OR_RETURN(auto cancelled, env.deps->batches->UpdateBatch(
                                                    b.namespace_id, b.id,
                                                    {.status = store::BatchStatus::kCancelled,
                                                     .finished_at = now,
                                                     .event_type = "batch.cancelled"},
                                                    now));
         return ApiResponse::Of(200, BatchBody(env, cancelled));
       }});
  router.Add({.method = "POST",
              .pattern = "/v1/buckets/{bucket}/batches/{id}/retry",
              .operation_id = "retryBatch",
              .summary = "Run the batch's failed tasks again",
              .tag = "batches",
              .access = Access::kNamespaceEditor,
              .response_schema = batch_schema,
              .success_status = 202,
              .handler = [env, batch_of](RequestContext& ctx) -> Result<ApiResponse> {
                ARGUS_ASSIGN_OR_RETURN(auto b, batch_of(ctx));
                if (b.status == store::BatchStatus::kDraft) {
                  return FailedPreconditionError("batch '" + b.id + "' is a draft: submit it");
                }
                if (env.deps->tasks == nullptr)
                  return UnavailableError("this server runs no tasks");
                int64_t retried = 0;
                store::PageRequest page{.limit = 1000};
                for (;;) {
                  ARGUS_ASSIGN_OR_RETURN(
                      auto failed, env.deps->tasks->List({.namespace_id = b.namespace_id,
                                                          .status = store::TaskStatus::kFailed,
                                                          .parent_id = b.id},
                                                         page));
                  for (const auto& t : failed.items) {
                    ARGUS_RETURN_IF_ERROR(env.deps->tasks->Retry(b.namespace_id, t.id).status());
                    ++retried;
                  }
                  if (failed.next_after_id.empty()) break;
                  page.after_id = failed.next_after_id;
                }
                const TimestampUs now = env.deps->clock->NowUs();
                store::BatchUpdate update{.event_type = "batch.retried"};
                if (retried > 0) {
                  update.status = store::BatchStatus::kProcessing;
                  update.finished_at = 0;
                }
                ARGUS_ASSIGN_OR_RETURN(auto updated, env.deps->batches->UpdateBatch(
                                                         b.namespace_id, b.id, update, now));
                Json out = BatchBody(env, updated);
                out["retried"] = retried;
                return ApiResponse::Of(202, std::move(out));
              }});
  router.Add({.method = "DELETE",
              .pattern = "/v1/buckets/{bucket}/batches/{id}",
              .operation_id = "deleteBatch",
              .summary = "Delete a draft or finished batch's record (its documents stay)",
              .tag = "batches",
              .access = Access::kNamespaceEditor,
              .success_status = 204,
              .handler = [env, batch_of](RequestContext& ctx) -> Result<ApiResponse> {
                ARGUS_ASSIGN_OR_RETURN(auto b, batch_of(ctx));
                if (b.status != store::BatchStatus::kDraft && !store::IsFinished(b.status)) {
                  return FailedPreconditionError("batch '" + b.id + "' is " +
                                                 std::string(store::BatchStatusName(b.status)) +
                                                 ": cancel it first");
                }
                ARGUS_RETURN_IF_ERROR(env.deps->batches->DeleteBatch(b.namespace_id, b.id));
                return ApiResponse::NoContent();
              }});
}

}  // namespace argus::api
