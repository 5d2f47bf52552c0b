// /v1/collections/{c}/documents (list with a filter, get, delete) and /trigger, which queues a
// collection.extract task per object of the collection's source bucket.
#include <optional>
#include <set>

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

// ?name=a,b,c as a JSON array of strings (null when absent).
Json CommaList(const RequestContext& ctx, std::string_view name) {
  auto v = ctx.Query(name);
  if (!v || v->empty()) return nullptr;
  Json out = Json::array();
  size_t start = 0;
  for (;;) {
    const size_t comma = v->find(',', start);
    out.push_back(v->substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

constexpr int kMaxFacetValues = 100;

}  // namespace

Json FacetsJson(const std::map<std::string, std::vector<store::FacetValue>>& facets) {
  Json out = Json::object();
  for (const auto& [field, values] : facets) {
    Json list = Json::array();
    for (const auto& v : values) list.push_back({{"value", v.value}, {"count", v.count}});
    out[field] = std::move(list);
  }
  return out;
}

Json ProjectPayload(const Json& payload, const std::vector<std::string>& paths) {
  Json out = Json::object();
  for (const auto& path : paths) {
    const Json* v = store::FindPath(payload, path);
    if (v == nullptr) continue;
    Json* at = &out;
    size_t start = 0;
    for (size_t dot = path.find('.'); dot != std::string::npos; dot = path.find('.', start)) {
      at = &(*at)[path.substr(start, dot - start)];
      if (!at->is_object()) *at = Json::object();
      start = dot + 1;
    }
    (*at)[path.substr(start)] = *v;
  }
  return out;
}

Result<std::vector<std::string>> ReturnFields(const Json& fields, std::string_view where) {
  std::vector<std::string> out;
  if (fields.is_null()) return out;
  for (size_t i = 0; i < fields.size(); ++i) {
    const std::string f = fields[i];
    if (f.empty() || f.front() == '.' || f.back() == '.' || f.find("..") != std::string::npos) {
      return InvalidArgumentError(std::string(where) + "[" + std::to_string(i) + "]: '" + f +
                                  "' is no payload path (e.g. label, metadata.camera)");
    }
    out.push_back(f);
  }
  return out;
}

Json DocumentJson(const store::Document& d, bool with_vectors,
                  const std::vector<std::string>* return_fields) {
  Json j = {{"id", d.id},
            {"object_id", d.object_id},
            {"parent_id", d.parent_id.empty() ? Json(nullptr) : Json(d.parent_id)},
            {"tier", d.tier},
            {"unit", d.unit},
            {"region", d.region},
            {"payload", return_fields != nullptr && !return_fields->empty()
                            ? ProjectPayload(d.payload, *return_fields)
                            : d.payload},
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
       .summary = "The collection's documents that match a filter, in the order they were made "
                  "or by a field",
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
             q.push_back({"return_fields",
                          {{"type", "string"}},
                          "only these payload paths, comma-separated: label,metadata.camera"});
             q.push_back({"facets",
                          {{"type", "string"}},
                          "count the values of these payload paths among the documents the "
                          "filter selects (all pages), comma-separated"});
             q.push_back({"order_by",
                          {{"type", "string"}},
                          "a payload path (or created_at, updated_at) to sort by, '-' first for "
                          "descending: -score; documents without it come last"});
             return q;
           }(),
       .handler = [env, collection_of](RequestContext& ctx) -> Result<ApiResponse> {
         ARGUS_ASSIGN_OR_RETURN(auto c, collection_of(ctx));
         ARGUS_ASSIGN_OR_RETURN(auto params, ParseListParams(ctx));
         ARGUS_ASSIGN_OR_RETURN(auto filter, FilterQuery(ctx, c));
         ARGUS_ASSIGN_OR_RETURN(bool vectors, BoolQuery(ctx, "include_vectors"));
         ARGUS_ASSIGN_OR_RETURN(auto fields,
                                ReturnFields(CommaList(ctx, "return_fields"), "return_fields"));
         ARGUS_ASSIGN_OR_RETURN(auto facet_fields,
                                ReturnFields(CommaList(ctx, "facets"), "facets"));
         store::DocumentOrder order;
         if (auto by = ctx.Query("order_by"); by && !by->empty()) {
           order.descending = (*by)[0] == '-';
           order.field = by->substr(order.descending ? 1 : 0);
         }
         ARGUS_ASSIGN_OR_RETURN(auto page, env.deps->documents->ListDocuments(
                                               c.id, filter, params.page, vectors, order));
         Json items = Json::array();
         for (const auto& d : page.items) items.push_back(DocumentJson(d, vectors, &fields));
         Json body = ListBody(std::move(items), page.next_after_id);
         if (!facet_fields.empty()) {
           ARGUS_ASSIGN_OR_RETURN(auto facets, env.deps->documents->Facets(
                                                   c.id, filter, facet_fields, kMaxFacetValues));
           body["facets"] = FacetsJson(facets);
         }
         return ApiResponse::Of(200, std::move(body));
       }});
  router.Add(
      {.method = "GET",
       .pattern = "/v1/collections/{collection}/documents/{id}/lineage",
       .operation_id = "getDocumentLineage",
       .summary = "Where a document comes from and what was made from it: its object, its "
                  "parent documents up to tier 1, and the later tiers' documents made from it",
       .tag = "collections",
       .access = Access::kNamespaceViewer,
       .response_schema = {{"type", "object"}},
       .handler = [env, collection_of](RequestContext& ctx) -> Result<ApiResponse> {
         ARGUS_ASSIGN_OR_RETURN(auto c, collection_of(ctx));
         ARGUS_ASSIGN_OR_RETURN(auto doc,
                                env.deps->documents->GetDocument(c.id, ctx.PathParam("id"), false));
         Json out = {{"document", DocumentJson(doc, false)}};
         // Up: each parent lives in the collection's source collection.
         Json parents = Json::array();
         store::Collection at = c;
         std::string parent_id = doc.parent_id;
         while (!parent_id.empty() && !at.source_collection_id.empty()) {
           ARGUS_ASSIGN_OR_RETURN(
               at, env.deps->collections->GetCollectionById(at.source_collection_id));
           auto parent = env.deps->documents->GetDocument(at.id, parent_id, false);
           if (!parent.ok()) break;
           Json p = DocumentJson(*parent, false);
           p["collection"] = at.name;
           parents.push_back(std::move(p));
           parent_id = parent->parent_id;
         }
         // The root object, with its key as tier 1's whole-item document records it.
         Json object = {{"id", doc.object_id}};
         ARGUS_ASSIGN_OR_RETURN(auto roots,
                                env.deps->documents->DocumentsOfSource(at.id, doc.object_id));
         for (const auto& r : roots) {
           if (r.unit.empty() && r.payload.contains("key")) object["key"] = r.payload["key"];
         }
         out["object"] = std::move(object);
         out["parents"] = std::move(parents);
         // Down: the collections sourced from this one, their documents made from this one.
         Json children = Json::array();
         ARGUS_ASSIGN_OR_RETURN(auto next, env.deps->collections->CollectionsOfSource(c.id, true));
         for (const auto& n : next) {
           ARGUS_ASSIGN_OR_RETURN(auto made, env.deps->documents->DocumentsOfSource(n.id, doc.id));
           for (const auto& m : made) {
             Json d = DocumentJson(m, false);
             d["collection"] = n.name;
             children.push_back(std::move(d));
           }
         }
         out["children"] = std::move(children);
         return ApiResponse::Of(200, std::move(out));
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
       .summary = "Process the source bucket's objects (all, under a prefix, of the documents a "
                  "filter selects, or stale ones) again: one "
                  "collection.extract task each (a later tier: the objects of the bucket its "
                  "sources start from, on their parent documents' regions)",
       .tag = "collections",
       .access = Access::kNamespaceEditor,
       .request_schema = {{"type", "object"},
                          {"additionalProperties", false},
                          {"properties",
                           {{"prefix", {{"type", "string"}, {"maxLength", 1024}}},
                            {"filter",
                             {{"type", "object"},
                              {"description", "only the objects of the documents it selects"}}},
                            {"stale",
                             {{"type", "boolean"},
                              {"description",
                               "only the objects whose documents an older extractor version "
                               "made (or that have none)"}}}}}},
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
         // By filter or staleness: the objects of the documents selected (or, stale, of those
         // an older version made; objects without documents are stale too).
         const bool stale = ctx.body.value("stale", false);
         std::optional<std::set<std::string>> only;
         std::set<std::string> current;  // objects with up-to-date documents (stale)
         if (ctx.body.contains("filter") || stale) {
           store::FieldTypes types;
           for (const auto& i : c.payload_indexes) types.emplace(i.field, i.type);
           ARGUS_ASSIGN_OR_RETURN(auto filter,
                                  store::ParseFilter(ctx.body.value("filter", Json()), types));
           only.emplace();
           store::PageRequest page{.limit = 1000};
           for (;;) {
             ARGUS_ASSIGN_OR_RETURN(
                 auto docs, env.deps->documents->ListDocuments(c.id, filter, page, false, {}));
             for (const auto& d : docs.items) {
               bool old = false;
               for (const auto& e : c.extractors) {
                 old = old || d.versions.value(e.name, "") != e.version;
               }
               if (!stale || old) {
                 only->insert(d.object_id);
               } else {
                 current.insert(d.object_id);
               }
             }
             if (docs.next_after_id.empty()) break;
             page.after_id = docs.next_after_id;
           }
         }
         // Every object under the prefix, or those `only` holds; stale without a filter also
         // takes the objects that have no documents at all.
         const bool by_filter = ctx.body.contains("filter");
         auto wanted = [&](const std::string& id) {
           if (!only || only->count(id)) return true;
           return stale && !by_filter && !current.count(id);
         };
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
             if (!wanted(o.id)) continue;
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
