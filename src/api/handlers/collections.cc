// /v1/collections: create, list, get, update, delete, and the feature addresses a collection's
// documents carry. Definitions are checked in the domain (collection_spec) against the extractors
// the InferenceService registers.
#include <map>

#include "api/handlers/handlers.h"
#include "core/id.h"
#include "domain/collection_spec.h"
#include "retrieval/vector_indexes.h"

namespace argus::api {

namespace {

const Json kExtractorSchema = {
    {"type", "object"},
    {"required", {"name"}},
    {"properties",
     {{"name", {{"type", "string"}, {"description", "an extractor of GET /v1/extractors"}}},
      {"version",
       {{"type", {"string", "integer"}}, {"description", "default: the registered version"}}},
      {"params", {{"type", "object"}}},
      {"input_mappings",
       {{"type", "object"},
        {"description", "{\"image\": \"source\"}: the object, or the parent's region crop"}}},
      {"vector_storage",
       {{"type", "string"},
        {"enum", {"f32", "f16", "i8"}},
        {"description",
         "how the indexes of its vectors store them (default f32): f16 takes half the memory, "
         "i8 a quarter (cosine vectors only; candidates re-ranked with the f32 vectors)"}}}}}};

const Json kIndexSchema = {
    {"type", "object"},
    {"required", {"field", "type"}},
    {"properties",
     {{"field", {{"type", "string"}}},
      {"type",
       {{"type", "string"}, {"enum", {"keyword", "integer", "float", "bool", "datetime"}}}}}}};

Json FieldsSchema() {
  return {{"description", {{"type", "string"}, {"maxLength", 2000}}},
          {"extractors", {{"type", "array"}, {"items", kExtractorSchema}}},
          {"field_passthrough",
           {{"type", "array"},
            {"items", {{"type", "string"}}},
            {"description", "payload paths copied into each document (\"metadata.camera\")"}}},
          {"payload_indexes", {{"type", "array"}, {"items", kIndexSchema}}},
          {"auto_process",
           {{"type", "boolean"},
            {"description", "process new objects of the source as they arrive (default true)"}}}};
}

Json CreateSchema() {
  Json props = FieldsSchema();
  props["name"] = {{"type", "string"}, {"minLength", 1}, {"maxLength", 63}};
  props["source"] = {
      {"type", "object"},
      {"description", "{\"bucket\": name} or {\"collection\": name}"},
      {"properties", {{"bucket", {{"type", "string"}}}, {"collection", {{"type", "string"}}}}}};
  return {{"type", "object"},
          {"required", {"name", "source", "extractors"}},
          {"properties", std::move(props)}};
}

const Json kCollectionSchema = {
    {"type", "object"},
    {"required", {"id", "name", "source", "extractors", "index_signature", "created_at"}},
    {"properties",
     {{"id", {{"type", "string"}}},
      {"name", {{"type", "string"}}},
      {"description", {{"type", "string"}}},
      {"source", {{"type", "object"}}},
      {"extractors", {{"type", "array"}, {"items", kExtractorSchema}}},
      {"field_passthrough", {{"type", "array"}}},
      {"payload_indexes", {{"type", "array"}, {"items", kIndexSchema}}},
      {"auto_process", {{"type", "boolean"}}},
      {"index_signature",
       {{"type", "string"},
        {"description", "changes whenever the collection's documents or definition do"}}},
      {"created_at", {{"type", "string"}, {"format", "date-time"}}},
      {"updated_at", {{"type", "string"}, {"format", "date-time"}}}}}};

const Json kFeatureSchema = {
    {"type", "object"},
    {"properties",
     {{"address", {{"type", "string"}}},
      {"extractor", {{"type", "string"}}},
      {"version", {{"type", "string"}}},
      {"output", {{"type", "string"}}},
      {"dimension", {{"type", "integer"}}},
      {"metric", {{"type", "string"}}},
      {"granularity", {{"type", "string"}}},
      {"storage", {{"type", "string"}, {"enum", {"f32", "f16", "i8"}}}},
      {"index",
       {{"type", "object"},
        {"description",
         "the feature's vector index, once open: vectors it holds, "
         "the journal seq it has applied and the one its file holds "
         "(null before the first save), and whether it was opened "
         "from its file or built from the stored vectors"},
        {"properties",
         {{"vectors", {{"type", "integer"}}},
          {"seq", {{"type", "integer"}}},
          {"saved_seq", {{"type", {"integer", "null"}}}},
          {"opened_from", {{"type", "string"}, {"enum", {"file", "vectors"}}}}}}}}}}};

Json CollectionJson(const store::Collection& c) {
  Json extractors = Json::array();
  for (const auto& e : c.extractors) {
    extractors.push_back(
        {{"name", e.name},
         {"version", e.version},
         {"params", e.params},
         {"input_mappings", e.input_mappings},
         {"vector_storage", std::string(store::VectorStorageName(e.vector_storage))}});
  }
  Json indexes = Json::array();
  for (const auto& i : c.payload_indexes) {
    indexes.push_back({{"field", i.field}, {"type", std::string(store::FieldTypeName(i.type))}});
  }
  return {{"id", c.id},
          {"name", c.name},
          {"description", c.description},
          {"source", {{c.source_bucket_id.empty() ? "collection" : "bucket", c.source_name}}},
          {"extractors", std::move(extractors)},
          {"field_passthrough", c.field_passthrough},
          {"payload_indexes", std::move(indexes)},
          {"auto_process", c.auto_process},
          {"index_signature", domain::IndexSignature(c)},
          {"created_at", FormatRfc3339(c.created_at)},
          {"updated_at", FormatRfc3339(c.updated_at)}};
}

domain::CollectionSpecContext SpecContext(const HandlerEnv& env) {
  return {.buckets = env.deps->buckets,
          .collections = env.deps->collections,
          .inference = env.deps->inference};
}

}  // namespace

void AddCollectionRoutes(Router& router, HandlerEnv env) {
  router.Add({.method = "POST",
              .pattern = "/v1/collections",
              .operation_id = "createCollection",
              .summary = "Create a collection: the extractors to run on a bucket's objects (or on "
                         "another collection's regions), the fields to copy and to index",
              .tag = "collections",
              .access = Access::kNamespaceEditor,
              .request_schema = CreateSchema(),
              .response_schema = kCollectionSchema,
              .success_status = 201,
              .handler = [env](RequestContext& ctx) -> Result<ApiResponse> {
                ARGUS_ASSIGN_OR_RETURN(
                    store::Collection c,
                    domain::CollectionFromSpec(SpecContext(env), ctx.namespace_id, ctx.body));
                c.id = NewId();
                c.created_at = c.updated_at = env.deps->clock->NowUs();
                ARGUS_ASSIGN_OR_RETURN(auto created, env.deps->collections->CreateCollection(c));
                auto resp = ApiResponse::Of(201, CollectionJson(created));
                resp.headers.emplace_back("Location", "/v1/collections/" + created.name);
                return resp;
              }});
  router.Add({.method = "GET",
              .pattern = "/v1/collections",
              .operation_id = "listCollections",
              .summary = "List collections, oldest first",
              .tag = "collections",
              .access = Access::kNamespaceViewer,
              .response_schema = ListSchema(kCollectionSchema),
              .query = ListQueryParams(),
              .handler = [env](RequestContext& ctx) -> Result<ApiResponse> {
                ARGUS_ASSIGN_OR_RETURN(auto params, ParseListParams(ctx));
                ARGUS_ASSIGN_OR_RETURN(auto page, env.deps->collections->ListCollections(
                                                      ctx.namespace_id, params.page));
                Json items = Json::array();
                for (const auto& c : page.items) items.push_back(CollectionJson(c));
                return ApiResponse::Of(200, ListBody(std::move(items), page.next_after_id));
              }});
  router.Add({.method = "GET",
              .pattern = "/v1/collections/{collection}",
              .operation_id = "getCollection",
              .summary = "Get a collection",
              .tag = "collections",
              .access = Access::kNamespaceViewer,
              .response_schema = kCollectionSchema,
              .handler = [env](RequestContext& ctx) -> Result<ApiResponse> {
                ARGUS_ASSIGN_OR_RETURN(auto c, env.deps->collections->GetCollection(
                                                   ctx.namespace_id, ctx.PathParam("collection")));
                return ApiResponse::Of(200, CollectionJson(c));
              }});
  router.Add(
      {.method = "PATCH",
       .pattern = "/v1/collections/{collection}",
       .operation_id = "updateCollection",
       .summary = "Change a collection's description, extractors (new versions make "
                  "existing documents stale), copied or indexed fields, auto_process",
       .tag = "collections",
       .access = Access::kNamespaceEditor,
       .request_schema = {{"type", "object"}, {"properties", FieldsSchema()}},
       .response_schema = kCollectionSchema,
       .handler = [env](RequestContext& ctx) -> Result<ApiResponse> {
         ARGUS_ASSIGN_OR_RETURN(auto current, env.deps->collections->GetCollection(
                                                  ctx.namespace_id, ctx.PathParam("collection")));
         ARGUS_ASSIGN_OR_RETURN(
             auto update, domain::CollectionUpdateFromSpec(SpecContext(env), current, ctx.body));
         ARGUS_ASSIGN_OR_RETURN(
             auto updated, env.deps->collections->UpdateCollection(
                               ctx.namespace_id, current.name, update, env.deps->clock->NowUs()));
         return ApiResponse::Of(200, CollectionJson(updated));
       }});
  router.Add({.method = "DELETE",
              .pattern = "/v1/collections/{collection}",
              .operation_id = "deleteCollection",
              .summary = "Delete a collection (refused while another collection takes it as "
                         "its source)",
              .tag = "collections",
              .access = Access::kNamespaceAdmin,
              .success_status = 204,
              .handler = [env](RequestContext& ctx) -> Result<ApiResponse> {
                ARGUS_ASSIGN_OR_RETURN(auto c, env.deps->collections->GetCollection(
                                                   ctx.namespace_id, ctx.PathParam("collection")));
                ARGUS_RETURN_IF_ERROR(
                    env.deps->collections->DeleteCollection(ctx.namespace_id, c.name));
                // Its vector indexes and their files go with it.
                if (env.vector_indexes != nullptr) env.vector_indexes->Forget(c.id);
                return ApiResponse::NoContent();
              }});
  router.Add({.method = "GET",
              .pattern = "/v1/collections/{collection}/features",
              .operation_id = "listCollectionFeatures",
              .summary = "The vectors the collection's documents carry: feature addresses "
                         "(extractor@version/output) with dimension and metric",
              .tag = "collections",
              .access = Access::kNamespaceViewer,
              .response_schema = ListSchema(kFeatureSchema),
              .handler = [env](RequestContext& ctx) -> Result<ApiResponse> {
                ARGUS_ASSIGN_OR_RETURN(auto c, env.deps->collections->GetCollection(
                                                   ctx.namespace_id, ctx.PathParam("collection")));
                std::map<std::string, retrieval::IndexState> indexes;
                if (env.vector_indexes != nullptr) {
                  for (auto& s : env.vector_indexes->States()) {
                    if (s.key.collection_id == c.id) indexes[s.key.feature] = s;
                  }
                }
                Json items = Json::array();
                for (const auto& f : domain::FeaturesOf(c, env.deps->inference->Targets())) {
                  Json item = {{"address", f.address},         {"extractor", f.extractor},
                               {"version", f.version},         {"output", f.output},
                               {"dimension", f.dimension},     {"metric", f.metric},
                               {"granularity", f.granularity}, {"storage", f.storage}};
                  if (auto it = indexes.find(f.address); it != indexes.end()) {
                    const auto& s = it->second;
                    item["index"] = {
                        {"vectors", s.size},
                        {"seq", s.seq},
                        {"saved_seq", s.saved_seq < 0 ? Json(nullptr) : Json(s.saved_seq)},
                        {"opened_from", s.rebuilt ? "vectors" : "file"}};
                  }
                  items.push_back(std::move(item));
                }
                return ApiResponse::Of(200, ListBody(std::move(items), ""));
              }});
}

}  // namespace argus::api
