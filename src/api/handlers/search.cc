// POST /v1/collections/{c}/search: the k nearest documents of a feature to a vector, to another
// document, or to a stored object (embedded by the feature's extractor), and/or the best BM25
// matches of words (the text index), among the documents a filter selects (the filter applies
// inside both searches: retrieval/vector_indexes plans the vector half). Both halves together
// are fused by reciprocal rank.
#include <algorithm>
#include <map>

#include "api/handlers/handlers.h"
#include "api/handlers/image_body.h"
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
      {"text",
       {{"type", "string"},
        {"maxLength", 4096},
        {"description", "words to find in the documents' text (BM25)"}}},
      {"text_match",
       {{"type", "string"},
        {"enum", {"any", "all", "phrase"}},
        {"description", "documents with any of the words (default), all of them, or the phrase"}}},
      {"rrf_k",
       {{"type", "integer"},
        {"minimum", 1},
        {"maximum", 10000},
        {"description",
         "text and a vector query together: each result scores the sum of "
         "1 / (rrf_k + its rank) in each (default 60)"}}},
      {"filter", {{"type", "object"}}},
      {"limit", {{"type", "integer"}, {"minimum", 1}, {"maximum", 1000}}},
      {"ef", {{"type", "integer"}, {"minimum", 1}, {"maximum", 100000}}},
      {"include_vectors", {{"type", "boolean"}}},
      {"return_fields",
       {{"type", "array"},
        {"items", {{"type", "string"}}},
        {"maxItems", 100},
        {"description", "only these payload paths of each document"}}},
      {"facets",
       {{"type", "array"},
        {"items", {{"type", "string"}}},
        {"maxItems", 20},
        {"description",
         "count the values of these payload paths among the documents the "
         "filter selects"}}}}}};

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

// The query vector from the one of vector, document_id, object and an uploaded image
// (`image`, empty when none) the request gives.
Result<std::vector<float>> QueryVector(const HandlerEnv& env, const RequestContext& ctx,
                                       const store::Collection& c, const domain::FeatureAddress& f,
                                       std::string image) {
  const Json& b = ctx.body;
  const int given = static_cast<int>(b.contains("vector")) + b.contains("document_id") +
                    b.contains("object") + !image.empty();
  if (given != 1) {
    return InvalidArgumentError(
        "give one of vector, document_id, object and an image file (and/or text)");
  }
  if (b.contains("vector")) return b["vector"].get<std::vector<float>>();
  if (b.contains("document_id")) {
    ARGUS_ASSIGN_OR_RETURN(auto doc, env.deps->documents->GetDocument(
                                         c.id, b["document_id"].get<std::string>(), true));
    for (auto& v : doc.vectors) {
      if (v.feature == f.address) return std::move(v.values);
    }
    return InvalidArgumentError("document_id: that document has no '" + f.address + "' vector");
  }
  Json params = Json::object();
  for (const auto& e : c.extractors) {
    if (e.name == f.extractor) params = e.params;
  }
  store::InferenceRequest request{
      .name = f.extractor,
      .params = params,
      .deadline = std::chrono::steady_clock::now() +
                  std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                      std::chrono::duration<double>(env.deps->inference_timeout_s))};
  const char* what = "object";
  if (!image.empty()) {
    request.media = std::move(image);
    what = "file";
  } else {
    const Json& ref = b["object"];
    if (!ref.contains("bucket") || !ref["bucket"].is_string() || !ref.contains("key") ||
        !ref["key"].is_string()) {
      return InvalidArgumentError("object: give {\"bucket\": name, \"key\": key}");
    }
    ARGUS_ASSIGN_OR_RETURN(auto bucket, env.deps->buckets->GetBucket(
                                            ctx.namespace_id, ref["bucket"].get<std::string>()));
    ARGUS_ASSIGN_OR_RETURN(auto object,
                           env.deps->buckets->GetObject(bucket.id, ref["key"].get<std::string>()));
    request.blob_sha256 = object.sha256;
    request.media_type = object.media_type;
  }
  auto inferred = env.deps->inference->Infer(request);
  if (!inferred.ok() && inferred.status().code() == StatusCode::kInvalidArgument) {
    return InvalidArgumentError(std::string(what) + ": " +
                                std::string(inferred.status().message()));
  }
  ARGUS_ASSIGN_OR_RETURN(Json answer, std::move(inferred));
  // A region feature searches with the first region the extractor finds in the image.
  const Json* unit = &answer;
  if (f.granularity == "region") {
    const Json* regions = nullptr;
    for (const auto& [k, v] : answer.items()) {
      if (v.is_array() && !v.empty() && v[0].is_object() && v[0].contains(f.output)) regions = &v;
    }
    if (regions == nullptr) {
      return InvalidArgumentError(std::string(what) + ": " + f.extractor +
                                  " found nothing in it to search with");
    }
    unit = &(*regions)[0];
  }
  if (!unit->contains(f.output) || !(*unit)[f.output].is_array()) {
    return InternalError("extractor '" + f.extractor + "' answered without '" + f.output + "'");
  }
  return (*unit)[f.output].get<std::vector<float>>();
}

// The search's JSON (the body, or a multipart form's "query" part beside the image's "file"
// part) into ctx.body, checked against the schema; the image, when one was sent, into `image`.
Status ReadSearchBody(RequestContext& ctx, std::string* image) {
  static const auto* const kCompiled = new JsonSchema(JsonSchema::Compile(kSearchSchema).value());
  auto* raw = ctx.StreamedBody<ImageBody>();
  if (raw == nullptr) return InternalError("search body missing");
  ARGUS_RETURN_IF_ERROR(raw->error());
  if (!raw->complete()) return InvalidArgumentError("the body ended early");
  std::string_view type = ctx.http.Header("content-type");
  Json body = Json::object();
  if (type.starts_with("multipart/form-data")) {
    ARGUS_RETURN_IF_ERROR(ReadImageForm(type, raw->bytes(), "query", image, &body));
    if (image->empty()) return InvalidArgumentError("file: the image part is empty");
  } else if (IsJsonType(type) || (type.empty() && raw->bytes().empty())) {
    if (!raw->bytes().empty()) {
      auto parsed = ParseJson(raw->bytes());
      if (!parsed.ok()) return InvalidArgumentError(std::string(parsed.status().message()));
      body = std::move(parsed).value();
    }
  } else {
    return UnsupportedMediaTypeError(
        "a search is application/json, or multipart/form-data with the image as a \"file\" part "
        "and the search's JSON as a \"query\" part");
  }
  ARGUS_RETURN_IF_ERROR(kCompiled->Validate(body));
  ctx.body = std::move(body);
  return OkStatus();
}

}  // namespace

void AddSearchRoutes(Router& router, HandlerEnv env) {
  router.Add(
      {.method = "POST",
       .pattern = "/v1/collections/{collection}/search",
       .operation_id = "searchCollection",
       .summary = "The nearest documents of a feature to a vector, a document or a stored image, "
                  "and/or the best BM25 matches of words, among those a filter selects",
       .tag = "collections",
       .access = Access::kNamespaceViewer,
       .request_schema = kSearchSchema,
       .response_schema = {{"type", "object"}},
       .body_stream = ImageBodyStream(env.deps->inference_max_body_bytes),
       .handler = [env](RequestContext& ctx) -> Result<ApiResponse> {
         std::string image;
         ARGUS_RETURN_IF_ERROR(ReadSearchBody(ctx, &image));
         ARGUS_ASSIGN_OR_RETURN(auto c, env.deps->collections->GetCollection(
                                            ctx.namespace_id, ctx.PathParam("collection")));
         const Json& body = ctx.body;
         const bool by_text = body.contains("text");
         const bool by_vector = body.contains("vector") || body.contains("document_id") ||
                                body.contains("object") || !image.empty();
         if (!by_text && !by_vector) {
           return InvalidArgumentError(
               "give text, or one of vector, document_id, object and an image file, or text and "
               "one of them");
         }
         const int limit = body.value("limit", 10);
         ARGUS_ASSIGN_OR_RETURN(auto fields,
                                ReturnFields(body.value("return_fields", Json()), "return_fields"));
         ARGUS_ASSIGN_OR_RETURN(auto facet_fields,
                                ReturnFields(body.value("facets", Json()), "facets"));
         store::FieldTypes types;
         for (const auto& i : c.payload_indexes) types.emplace(i.field, i.type);
         ARGUS_ASSIGN_OR_RETURN(auto filter,
                                store::ParseFilter(body.value("filter", Json()), types));
         std::vector<uint64_t> allowed;
         if (!filter.MatchesAll()) {
           ARGUS_ASSIGN_OR_RETURN(allowed, env.deps->documents->MatchingKeys(c.id, filter));
         }
         const std::vector<uint64_t>* allow = filter.MatchesAll() ? nullptr : &allowed;
         Json out = Json::object();

         std::vector<store::VectorHit> vector_hits;
         if (by_vector) {
           ARGUS_ASSIGN_OR_RETURN(auto feature, PickFeature(env, c, body));
           ARGUS_ASSIGN_OR_RETURN(std::vector<float> query,
                                  QueryVector(env, ctx, c, feature, std::move(image)));
           ARGUS_ASSIGN_OR_RETURN(auto metric, store::ParseVectorMetric(feature.metric));
           ARGUS_ASSIGN_OR_RETURN(auto storage, store::ParseVectorStorage(feature.storage));
           store::VectorSearchStats stats;
           auto hits = env.vector_indexes->Search(
               {.collection_id = c.id,
                .feature = feature.address,
                .dimension = feature.dimension,
                .metric = metric,
                .storage = storage},
               {.vector = query, .k = limit, .ef = body.value("ef", 0), .allowed = allow}, &stats);
           if (!hits.ok() && hits.status().code() == StatusCode::kInvalidArgument) {
             return InvalidArgumentError("vector: " + std::string(hits.status().message()));
           }
           ARGUS_RETURN_IF_ERROR(hits.status());
           vector_hits = std::move(hits).value();
           out["feature"] = feature.address;
           out["plan"] = std::string(store::VectorPlanName(stats.plan));
         }
         std::vector<store::TextHit> text_hits;
         if (by_text) {
           const std::string match = body.value("text_match", "any");
           store::TextQuery query{.text = body["text"].get<std::string>(),
                                  .match = match == "all"      ? store::TextMatch::kAll
                                           : match == "phrase" ? store::TextMatch::kPhrase
                                                               : store::TextMatch::kAny,
                                  .limit = limit,
                                  .allowed = allow};
           ARGUS_ASSIGN_OR_RETURN(text_hits, env.deps->text->SearchText(c.id, query));
         }
         if (allow != nullptr) out["allowed"] = allowed.size();

         // One ranking: either half's scores, or both fused by reciprocal rank.
         struct Ranked {
           uint64_t key;
           double score;
         };
         std::vector<Ranked> ranked;
         std::map<uint64_t, Json> parts;
         std::map<uint64_t, size_t> position;  // key → its entry in `ranked`
         const double k = body.value("rrf_k", 60);
         auto add = [&](uint64_t key, size_t rank, double score, const char* half) {
           parts[key][half] = score;
           const double fused = by_text && by_vector ? 1.0 / (k + rank + 1) : score;
           auto [at, added] = position.emplace(key, ranked.size());
           if (added) {
             ranked.push_back({key, fused});
           } else {
             ranked[at->second].score += fused;
           }
         };
         for (size_t i = 0; i < vector_hits.size(); ++i) {
           add(vector_hits[i].key, i, vector_hits[i].score, "vector");
         }
         std::map<uint64_t, std::string> snippets;
         for (size_t i = 0; i < text_hits.size(); ++i) {
           add(text_hits[i].key, i, text_hits[i].score, "text");
           snippets[text_hits[i].key] = text_hits[i].snippet;
         }
         std::stable_sort(ranked.begin(), ranked.end(),
                          [](const Ranked& a, const Ranked& b) { return a.score > b.score; });
         if (static_cast<int>(ranked.size()) > limit) ranked.resize(limit);
         std::vector<uint64_t> keys;
         for (const auto& r : ranked) keys.push_back(r.key);
         const bool vectors = body.value("include_vectors", false);
         ARGUS_ASSIGN_OR_RETURN(auto docs,
                                env.deps->documents->GetDocumentsByKey(c.id, keys, vectors));
         std::map<uint64_t, const store::Document*> by_key;
         for (const auto& d : docs) by_key[d.key] = &d;
         Json items = Json::array();
         for (const auto& r : ranked) {
           auto it = by_key.find(r.key);
           if (it == by_key.end()) continue;  // deleted since the search
           Json item = {{"score", r.score},
                        {"document", DocumentJson(*it->second, vectors, &fields)}};
           if (by_text && by_vector) item["scores"] = parts[r.key];
           if (auto s = snippets.find(r.key); s != snippets.end()) item["snippet"] = s->second;
           items.push_back(std::move(item));
         }
         out["items"] = std::move(items);
         if (!facet_fields.empty()) {
           ARGUS_ASSIGN_OR_RETURN(auto facets,
                                  env.deps->documents->Facets(c.id, filter, facet_fields, 100));
           out["facets"] = FacetsJson(facets);
         }
         out["index_signature"] = domain::IndexSignature(c);
         return ApiResponse::Of(200, std::move(out));
       }});
}

}  // namespace argus::api
