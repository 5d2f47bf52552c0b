// /v1/models, /v1/extractors and the real-time endpoint POST /v1/inference/{name}: the image as
// the raw body or a multipart "file" part, or a JSON body naming a stored object or giving a
// text; parameters as query parameters or a "params" JSON part / field. The work runs on the
// InferenceService's threads; the HTTP thread only parks the request.
#include <algorithm>
#include <charconv>

#include "api/handlers/handlers.h"
#include "api/handlers/image_body.h"
#include "api/handlers/object_common.h"
#include "core/media_type.h"

namespace argus::api {

namespace {

// A query value read as the type the parameter schema gives it ("0.5" → 0.5, "a,b" → array).
Result<Json> QueryValue(const Json& schema, const std::string& name, const std::string& raw) {
  std::string type = schema.is_object() ? schema.value("type", "string") : "string";
  if (type == "number" || type == "integer") {
    auto parsed = ParseJson(raw);
    if (!parsed.ok() || !parsed->is_number()) {
      return InvalidArgumentError("parameter " + name + " must be a number");
    }
    return std::move(parsed).value();
  }
  if (type == "boolean") {
    if (raw == "true" || raw == "false") return Json(raw == "true");
    return InvalidArgumentError("parameter " + name + " must be true or false");
  }
  if (type == "array") {
    Json items = Json::array();
    size_t at = 0;
    while (at <= raw.size()) {
      size_t comma = std::min(raw.find(',', at), raw.size());
      if (comma > at) items.push_back(raw.substr(at, comma - at));
      at = comma + 1;
    }
    return items;
  }
  return Json(raw);
}

// A JSON body: {"object": {"bucket", "key"}} (a stored object of the namespace in scope, read by
// the service from the blob store) or {"text": "..."} (for text models), with "params".
// `target` is the request's target (null when unknown: the service answers 404 later).
Status ReadJsonBody(const HandlerEnv& env, const RequestContext& ctx,
                    const store::InferenceTarget* target, const std::string& body,
                    store::InferenceRequest* request) {
  auto parsed = ParseJson(body);
  if (!parsed.ok() || !parsed->is_object()) {
    return InvalidArgumentError(
        "a JSON body must be an object: {\"object\": {\"bucket\", "
        "\"key\"}} or {\"text\"}, with \"params\"");
  }
  for (const auto& [field, value] : parsed->items()) {
    if (field != "object" && field != "text" && field != "params") {
      return InvalidArgumentError("unknown field '" + field +
                                  "': the body takes object, text and params");
    }
  }
  const Json& j = *parsed;
  if (j.contains("object") == j.contains("text")) {
    return InvalidArgumentError("give either \"object\" or \"text\"");
  }
  if (j.contains("params")) {
    if (!j["params"].is_object()) return InvalidArgumentError("params must be an object");
    request->params = j["params"];
  }
  if (j.contains("text")) {
    if (!j["text"].is_string()) return InvalidArgumentError("text must be a string");
    request->media = j["text"].get<std::string>();
    return OkStatus();
  }
  const Json& ref = j["object"];
  if (!ref.is_object() || !ref.contains("bucket") || !ref["bucket"].is_string() ||
      !ref.contains("key") || !ref["key"].is_string() || ref.size() != 2) {
    return InvalidArgumentError("object must be {\"bucket\": name, \"key\": key}");
  }
  if (ctx.namespace_id.empty()) {
    return InvalidArgumentError("an object is read in a namespace: send 'X-Namespace: <name>'");
  }
  if (env.deps->buckets == nullptr) return UnavailableError("no bucket store");
  std::string key;  // checked and NFC-normalised as every object route does
  ARGUS_RETURN_IF_ERROR(domain::CheckObjectKey(ref["key"].get<std::string>(), &key));
  ARGUS_ASSIGN_OR_RETURN(auto bucket, env.deps->buckets->GetBucket(
                                          ctx.namespace_id, ref["bucket"].get<std::string>()));
  ARGUS_ASSIGN_OR_RETURN(auto object, env.deps->buckets->GetObject(bucket.id, key));
  // Refused from the record before anything is queued: the media type was sniffed at upload.
  // An extractor lists the media types it reads; a model of the manifest reads images or text.
  std::vector<std::string> reads = {"image/*"};
  if (target != nullptr && target->details.contains("media_types")) {
    reads = target->details["media_types"].get<std::vector<std::string>>();
  } else if (target != nullptr && target->details.value("input", "image") == "text") {
    reads = {"text/*"};
  }
  if (!std::any_of(reads.begin(), reads.end(), [&](const std::string& pattern) {
        return MediaTypeMatches(pattern, object.media_type);
      })) {
    std::string list;
    for (const auto& r : reads) list += (list.empty() ? "" : ", ") + r;
    return UnsupportedMediaTypeError("object '" + key + "' is " + object.media_type + "; '" +
                                     request->name + "' reads " + list);
  }
  if (object.size > env.deps->thumbnail_max_source_bytes) {
    return PayloadTooLargeError("object '" + key + "' has " + std::to_string(object.size) +
                                " bytes: inference reads stored objects up to " +
                                std::to_string(env.deps->thumbnail_max_source_bytes) +
                                " (images.max_bytes)");
  }
  request->blob_sha256 = object.sha256;
  request->media_type = object.media_type;
  return OkStatus();
}

Json TargetJson(const store::InferenceTarget& t) {
  Json j = {{"name", t.name},
            {"version", t.version},
            {"id", t.name + "@" + t.version},
            {"kind", t.kind},
            {"task", t.task},
            {"state", t.state},
            {"error", t.error.empty() ? Json(nullptr) : Json(t.error)},
            {"params_schema", t.params_schema},
            {"output_schema", t.output_schema}};
  for (const auto& [k, v] : t.details.items()) j[k] = v;
  return j;
}

Json Targets(const HandlerEnv& env, std::string_view kind) {
  Json items = Json::array();
  for (const auto& t : env.deps->inference->Targets()) {
    if (t.kind == kind) items.push_back(TargetJson(t));
  }
  return Json{{"items", std::move(items)}};
}

}  // namespace

void AddInferenceRoutes(Router& router, HandlerEnv env) {
  router.Add(
      {.method = "GET",
       .pattern = "/v1/models",
       .operation_id = "listModels",
       .summary = "Models of the manifest: state (ready, loading, failed), batching, load time",
       .tag = "inference",
       .access = Access::kAnyKey,
       .response_schema = {{"type", "object"}},
       .handler = [env](RequestContext&) -> Result<ApiResponse> {
         return ApiResponse::Of(200, Targets(env, "model"));
       }});
  router.Add({.method = "GET",
              .pattern = "/v1/extractors",
              .operation_id = "listExtractors",
              .summary = "Extractors with their parameter and output schemas",
              .tag = "inference",
              .access = Access::kAnyKey,
              .response_schema = {{"type", "object"}},
              .handler = [env](RequestContext&) -> Result<ApiResponse> {
                return ApiResponse::Of(200, Targets(env, "extractor"));
              }});
  router.Add(
      {.method = "POST",
       .pattern = "/v1/inference/{name}",
       .operation_id = "infer",
       .summary = "Run an extractor or a model on one image, synchronously",
       .tag = "inference",
       .access = Access::kAnyKey,
       .response_schema = {{"type", "object"}},
       .body_stream = ImageBodyStream(env.deps->inference_max_body_bytes),
       .handler = [env](RequestContext& ctx) -> Result<ApiResponse> {
         auto* body = ctx.StreamedBody<ImageBody>();
         if (body == nullptr) return InternalError("inference body missing");
         ARGUS_RETURN_IF_ERROR(body->error());
         if (!body->complete()) return InvalidArgumentError("the body ended early");
         store::InferenceRequest request;
         request.name = ctx.PathParam("name");
         // The target, looked up once: its input kind and parameter schema.
         const std::vector<store::InferenceTarget> targets = env.deps->inference->Targets();
         const store::InferenceTarget* target = nullptr;
         for (const auto& t : targets) {
           if (t.name == request.name) target = &t;
         }
         std::string_view type = ctx.http.Header("content-type");
         if (type.starts_with("multipart/form-data")) {
           ARGUS_RETURN_IF_ERROR(
               ReadImageForm(type, body->bytes(), "params", &request.media, &request.params));
         } else if (IsJsonType(type)) {
           ARGUS_RETURN_IF_ERROR(ReadJsonBody(env, ctx, target, body->bytes(), &request));
         } else {
           request.media = std::move(body->bytes());
         }
         // Query parameters, typed by the target's parameter schema.
         const Json schema =
             target == nullptr ? Json() : target->params_schema.value("properties", Json());
         std::string_view query = ctx.http.query;
         while (!query.empty()) {
           size_t amp = query.find('&');
           std::string name(query.substr(0, std::min(amp, query.find('='))));
           query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
           if (name.empty()) continue;
           auto value = ctx.Query(name);
           Json property = schema.is_object() && schema.contains(name) ? schema[name] : Json();
           ARGUS_ASSIGN_OR_RETURN(request.params[name], QueryValue(property, name, *value));
         }
         request.deadline = std::chrono::steady_clock::now() +
                            std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                std::chrono::duration<double>(env.deps->inference_timeout_s));
         ApiResponse deferred;
         deferred.deferred = [env, request = std::move(request)](
                                 std::function<void(Result<ApiResponse>)> complete) mutable {
           env.deps->inference->InferAsync(std::move(request), [complete](Result<Json> answer) {
             if (!answer.ok()) return complete(answer.status());
             complete(ApiResponse::Of(200, std::move(*answer)));
           });
         };
         return deferred;
       }});
}

}  // namespace argus::api
