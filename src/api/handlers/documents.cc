// /v1/collections/{c}/documents (list with a filter, get, delete) and /trigger, which queues a
// collection.extract task per object of the collection's source bucket.
#include "api/handlers/handlers.h"
#include "domain/document_builder.h"

namespace argus::api {

namespace {

constexpr int kEnqueueBatch = 500;

const Json kDocumentSchema = {
    {"type", "object"},
    {"required", {"id", "object_id", "tier", "payload", "created_at"}},
    {"properties",
     {{"id", {{"type", "string"}}},
      {"object_id", {{"type", "string"}}},
      {"parent_id", {{"type", {"string", "null"}}}},
      {"tier", {{"type", "integer"}}},
      {"unit", {{"type", "string"}}},
      {"region", {{"type", {"object", "null"}}}},
      {"payload", {{"type", "object"}}},
      {"versions", {{"type", "object"}}},
      {"text", {{"type", "string"}}},
      {"vectors",
       {{"type", "object"},
        {"description", "feature address → values (with include_vectors=true)"}}},
      {"created_at", {{"type", "string"}, {"format", "date-time"}}},
      {"updated_at", {{"type", "string"}, {"format", "date-time"}}}}}};

Result<bool> BoolQuery(const RequestContext& ctx, std::string_view name) {
  auto v = ctx.Query(name);
  if (!v || v->empty() || *v == "false") return false;
  if (*v == "true") return true;
  return InvalidArgumentError("query parameter '" + std::string(name) + "' is true or false");
}

// ?filter= (the filter language, as JSON), typed by the collection's payload indexes.
Result<store::Filter> FilterQuery(const RequestContext& ctx, const store::Collection& c) {
  auto text = ctx.Query("filter");
  if (!text || text->empty()) return store::Filter{};
  auto json = ParseJson(*text);
  if (!json.ok()) {
    return InvalidArgumentError("query parameter 'filter' is not JSON: " +
                                std::string(json.status().message()));
  }
  store::FieldTypes types;
  for (const auto& i : c.payload_indexes) types.emplace(i.field, i.type);
  return store::ParseFilter(*json, types, "filter");
}

}  // namespace

Json DocumentJson(const store::Document& d, bool with_vectors) {
  Json j = {{"id", d.id},
            {"object_id", d.object_id},
            {"parent_id", d.parent_id.empty() ? Json(nullptr) : Json(d.parent_id)},
            {"tier", d.tier},
            {"unit", d.unit},
            {"region", d.region},
            {"payload", d.payload},
            {"versions", d.versions},
            {"text", d.text},
            {"created_at", FormatRfc3339(d.created_at)},
            {"updated_at", FormatRfc3339(d.updated_at)}};
  if (with_vectors) {
    Json vectors = Json::object();
    for (const auto& v : d.vectors) vectors[v.feature] = v.values;
    j["vectors"] = std::move(vectors);
  }
  return j;
}

void AddDocumentRoutes(Router& router, HandlerEnv env) {
  auto collection_of = [env](const RequestContext& ctx) {
    return env.deps->collections->GetCollection(ctx.namespace_id, ctx.PathParam("collection"));
  };
  router.Add(
      {.method = "GET",
       .pattern = "/v1/collections/{collection}/documents",
       .operation_id = "listDocuments",
       .summary = "The collection's documents that match a filter, in the order they were made",
       .tag = "collections",
       .access = Access::kNamespaceViewer,
       .response_schema = ListSchema(kDocumentSchema),
       .query =
           [] {
             auto q = ListQueryParams();
             q.push_back({"filter",
                          {{"type", "string"}},
                          "a filter as JSON: {\"label\": \"person\", \"score\": {\"gte\": 0.5}}"});
             q.push_back({"include_vectors", {{"type", "boolean"}}, "the documents' vectors too"});
             return q;
           }(),
       .handler = [env, collection_of](RequestContext& ctx) -> Result<ApiResponse> {
         ARGUS_ASSIGN_OR_RETURN(auto c, collection_of(ctx));
         ARGUS_ASSIGN_OR_RETURN(auto params, ParseListParams(ctx));
         ARGUS_ASSIGN_OR_RETURN(auto filter, FilterQuery(ctx, c));
         ARGUS_ASSIGN_OR_RETURN(bool vectors, BoolQuery(ctx, "include_vectors"));
         ARGUS_ASSIGN_OR_RETURN(
             auto page, env.deps->documents->ListDocuments(c.id, filter, params.page, vectors));
         Json items = Json::array();
         for (const auto& d : page.items) items.push_back(DocumentJson(d, vectors));
         return ApiResponse::Of(200, ListBody(std::move(items), page.next_after_id));
       }});
  router.Add({.method = "GET",
              .pattern = "/v1/collections/{collection}/documents/{id}",
              .operation_id = "getDocument",
              .summary = "One document (include_vectors=true for its vectors)",
              .tag = "collections",
              .access = Access::kNamespaceViewer,
              .response_schema = kDocumentSchema,
              .query = {{"include_vectors", {{"type", "boolean"}}, "the vectors too"}},
              .handler = [env, collection_of](RequestContext& ctx) -> Result<ApiResponse> {
                ARGUS_ASSIGN_OR_RETURN(auto c, collection_of(ctx));
                ARGUS_ASSIGN_OR_RETURN(bool vectors, BoolQuery(ctx, "include_vectors"));
                ARGUS_ASSIGN_OR_RETURN(
                    auto d, env.deps->documents->GetDocument(c.id, ctx.PathParam("id"), vectors));
                return ApiResponse::Of(200, DocumentJson(d, vectors));
              }});
  router.Add({.method = "DELETE",
              .pattern = "/v1/collections/{collection}/documents/{id}",
              .operation_id = "deleteDocument",
              .summary = "Delete one document and its vectors",
              .tag = "collections",
              .access = Access::kNamespaceEditor,
              .success_status = 204,
              .handler = [env, collection_of](RequestContext& ctx) -> Result<ApiResponse> {
                ARGUS_ASSIGN_OR_RETURN(auto c, collection_of(ctx));
                ARGUS_RETURN_IF_ERROR(
                    env.deps->documents->DeleteDocument(c.id, ctx.PathParam("id")));
                return ApiResponse::NoContent();
              }});
  router.Add(
      {.method = "POST",
       .pattern = "/v1/collections/{collection}/trigger",
       .operation_id = "triggerCollection",
       .summary = "Process the source bucket's objects (all, or those under a prefix) again: one "
                  "collection.extract task each (a later tier: the objects of the bucket its "
                  "sources start from, on their parent documents' regions)",
       .tag = "collections",
       .access = Access::kNamespaceEditor,
       .request_schema = {{"type", "object"},
                          {"additionalProperties", false},
                          {"properties", {{"prefix", {{"type", "string"}, {"maxLength", 1024}}}}}},
       .response_schema = {{"type", "object"}, {"properties", {{"tasks", {{"type", "integer"}}}}}},
       .success_status = 202,
       .handler = [env, collection_of](RequestContext& ctx) -> Result<ApiResponse> {
         ARGUS_ASSIGN_OR_RETURN(auto c, collection_of(ctx));
         // A later tier runs on the objects of the bucket at the root of its sources.
         std::string bucket_id = c.source_bucket_id;
         for (std::string up = c.source_collection_id; bucket_id.empty();) {
           ARGUS_ASSIGN_OR_RETURN(auto parent, env.deps->collections->GetCollectionById(up));
           bucket_id = parent.source_bucket_id;
           up = parent.source_collection_id;
         }
         if (env.deps->tasks == nullptr) return UnavailableError("this server runs no tasks");
         store::ListObjectsRequest list{.prefix = ctx.body.value("prefix", ""), .limit = 1000};
         int64_t queued = 0;
         std::vector<store::NewTask> batch;
         auto flush = [&]() -> Status {
           if (batch.empty()) return OkStatus();
           ARGUS_RETURN_IF_ERROR(
               env.deps->tasks->Enqueue(batch, env.deps->max_pending_per_namespace).status());
           queued += static_cast<int64_t>(batch.size());
           batch.clear();
           return OkStatus();
         };
         for (;;) {
           ARGUS_ASSIGN_OR_RETURN(auto page, env.deps->buckets->ListObjects(bucket_id, list));
           for (const auto& o : page.objects) {
             store::NewTask t;
             t.namespace_id = ctx.namespace_id;
             t.kind = std::string(domain::kExtractKind);
             t.queue = "cpu";
             t.input = domain::ExtractInput(c.id, o);
             batch.push_back(std::move(t));
             if (static_cast<int>(batch.size()) >= kEnqueueBatch) ARGUS_RETURN_IF_ERROR(flush());
           }
           if (page.next_after_key.empty()) break;
           list.after_key = page.next_after_key;
         }
         ARGUS_RETURN_IF_ERROR(flush());
         return ApiResponse::Of(202, {{"collection", c.name}, {"tasks", queued}});
       }});
}

}  // namespace argus::api
