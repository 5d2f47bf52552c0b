// POST /v1/collections/{c}/search: the k nearest documents of a feature to a vector, to another
// document, or to a stored object (embedded by the feature's extractor), among the documents a
// filter selects (the filter applies inside the search: retrieval/vector_indexes plans it).
#include "api/handlers/handlers.h"
#include "domain/collection_spec.h"
#include "retrieval/vector_indexes.h"

namespace argus::api {

namespace {

const Json kSearchSchema = {
    {"type", "object"},
    {"additionalProperties", false},
    {"properties",
     {{"feature",
       {{"type", "string"},
        {"description", "a feature address of GET .../features (default: the first)"}}},
      {"vector", {{"type", "array"}, {"items", {{"type", "number"}}}, {"maxItems", 65536}}},
      {"document_id", {{"type", "string"}, {"description", "search with this document's vector"}}},
      {"object",
       {{"type", "object"},
        {"description",
         "{\"bucket\", \"key\"}: a stored image, embedded by the feature's extractor"}}},
      {"filter", {{"type", "object"}}},
      {"limit", {{"type", "integer"}, {"minimum", 1}, {"maximum", 1000}}},
      {"ef", {{"type", "integer"}, {"minimum", 1}, {"maximum", 100000}}},
      {"include_vectors", {{"type", "boolean"}}}}}};

Result<domain::FeatureAddress> PickFeature(const HandlerEnv& env, const store::Collection& c,
                                           const Json& body) {
  const auto features = domain::FeaturesOf(c, env.deps->inference->Targets());
  if (features.empty()) {
    return FailedPreconditionError("collection '" + c.name + "' has no vector feature to search");
  }
  if (!body.contains("feature")) return features.front();
  std::string names;
  for (const auto& f : features) {
    if (f.address == body["feature"]) return f;
    names += (names.empty() ? "" : ", ") + f.address;
  }
  return InvalidArgumentError("feature: '" + body["feature"].get<std::string>() +
                              "' is not a feature of collection '" + c.name + "'; it has " + names);
}

// The query vector from the one of vector, document_id and object the body gives.
Result<std::vector<float>> QueryVector(const HandlerEnv& env, const RequestContext& ctx,
                                       const store::Collection& c,
                                       const domain::FeatureAddress& f) {
  const Json& b = ctx.body;
  const int given =
      static_cast<int>(b.contains("vector")) + b.contains("document_id") + b.contains("object");
  if (given != 1) return InvalidArgumentError("give one of vector, document_id and object");
  if (b.contains("vector")) return b["vector"].get<std::vector<float>>();
  if (b.contains("document_id")) {
    ARGUS_ASSIGN_OR_RETURN(auto doc, env.deps->documents->GetDocument(
                                         c.id, b["document_id"].get<std::string>(), true));
    for (auto& v : doc.vectors) {
      if (v.feature == f.address) return std::move(v.values);
    }
    return InvalidArgumentError("document_id: that document has no '" + f.address + "' vector");
  }
  const Json& ref = b["object"];
  if (!ref.contains("bucket") || !ref["bucket"].is_string() || !ref.contains("key") ||
      !ref["key"].is_string()) {
    return InvalidArgumentError("object: give {\"bucket\": name, \"key\": key}");
  }
  ARGUS_ASSIGN_OR_RETURN(auto bucket, env.deps->buckets->GetBucket(
                                          ctx.namespace_id, ref["bucket"].get<std::string>()));
  ARGUS_ASSIGN_OR_RETURN(auto object,
                         env.deps->buckets->GetObject(bucket.id, ref["key"].get<std::string>()));
  Json params = Json::object();
  for (const auto& e : c.extractors) {
    if (e.name == f.extractor) params = e.params;
  }
  store::InferenceRequest request{
      .name = f.extractor,
      .blob_sha256 = object.sha256,
      .media_type = object.media_type,
      .params = params,
      .deadline = std::chrono::steady_clock::now() +
                  std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                      std::chrono::duration<double>(env.deps->inference_timeout_s))};
  ARGUS_ASSIGN_OR_RETURN(Json answer, env.deps->inference->Infer(request));
  // A region feature searches with the first region the extractor finds in the image.
  const Json* unit = &answer;
  if (f.granularity == "region") {
    const Json* regions = nullptr;
    for (const auto& [k, v] : answer.items()) {
      if (v.is_array() && !v.empty() && v[0].is_object() && v[0].contains(f.output)) regions = &v;
    }
    if (regions == nullptr) {
      return InvalidArgumentError("object: " + f.extractor + " found nothing in it to search with");
    }
    unit = &(*regions)[0];
  }
  if (!unit->contains(f.output) || !(*unit)[f.output].is_array()) {
    return InternalError("extractor '" + f.extractor + "' answered without '" + f.output + "'");
  }
  return (*unit)[f.output].get<std::vector<float>>();
}

}  // namespace

void AddSearchRoutes(Router& router, HandlerEnv env) {
  router.Add(
      {.method = "POST",
       .pattern = "/v1/collections/{collection}/search",
       .operation_id = "searchCollection",
       .summary = "The nearest documents of a feature to a vector, a document or a stored image, "
                  "among those a filter selects",
       .tag = "collections",
       .access = Access::kNamespaceViewer,
       .request_schema = kSearchSchema,
       .response_schema = {{"type", "object"}},
       .handler = [env](RequestContext& ctx) -> Result<ApiResponse> {
         ARGUS_ASSIGN_OR_RETURN(auto c, env.deps->collections->GetCollection(
                                            ctx.namespace_id, ctx.PathParam("collection")));
         ARGUS_ASSIGN_OR_RETURN(auto feature, PickFeature(env, c, ctx.body));
         ARGUS_ASSIGN_OR_RETURN(std::vector<float> query, QueryVector(env, ctx, c, feature));
         store::FieldTypes types;
         for (const auto& i : c.payload_indexes) types.emplace(i.field, i.type);
         ARGUS_ASSIGN_OR_RETURN(auto filter,
                                store::ParseFilter(ctx.body.value("filter", Json()), types));
         std::vector<uint64_t> allowed;
         if (!filter.MatchesAll()) {
           ARGUS_ASSIGN_OR_RETURN(allowed, env.deps->documents->MatchingKeys(c.id, filter));
         }
         ARGUS_ASSIGN_OR_RETURN(auto metric, store::ParseVectorMetric(feature.metric));
         store::VectorSearchStats stats;
         auto hits =
             env.vector_indexes->Search({.collection_id = c.id,
                                         .feature = feature.address,
                                         .dimension = feature.dimension,
                                         .metric = metric},
                                        {.vector = query,
                                         .k = ctx.body.value("limit", 10),
                                         .ef = ctx.body.value("ef", 0),
                                         .allowed = filter.MatchesAll() ? nullptr : &allowed},
                                        &stats);
         if (!hits.ok() && hits.status().code() == StatusCode::kInvalidArgument) {
           return InvalidArgumentError("vector: " + std::string(hits.status().message()));
         }
         ARGUS_RETURN_IF_ERROR(hits.status());
         std::vector<uint64_t> keys;
         for (const auto& h : *hits) keys.push_back(h.key);
         const bool vectors = ctx.body.value("include_vectors", false);
         ARGUS_ASSIGN_OR_RETURN(auto docs,
                                env.deps->documents->GetDocumentsByKey(c.id, keys, vectors));
         Json items = Json::array();
         size_t d = 0;
         for (const auto& h : *hits) {
           if (d < docs.size() && docs[d].key == h.key) {
             items.push_back({{"score", h.score}, {"document", DocumentJson(docs[d], vectors)}});
             ++d;
           }
         }
         return ApiResponse::Of(200, {{"items", std::move(items)},
                                      {"feature", feature.address},
                                      {"plan", std::string(store::VectorPlanName(stats.plan))},
                                      {"allowed", stats.allowed},
                                      {"index_signature", domain::IndexSignature(c)}});
       }});
}

}  // namespace argus::api
