#include "engine/collections/extract_task.h"

#include <chrono>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/id.h"
#include "domain/document_builder.h"

namespace argus::engine {

namespace {

Json Skipped(std::string why) { return {{"documents", 0}, {"skipped", std::move(why)}}; }

Result<Json> RunExtract(const ExtractDeps& deps, TaskContext& ctx) {
  const Json& in = ctx.task().input;
  const std::string collection_id = in.value("collection_id", "");
  auto collection = deps.collections->GetCollectionById(collection_id);
  if (collection.status().code() == StatusCode::kNotFound) return Skipped("collection deleted");
  ARGUS_RETURN_IF_ERROR(collection.status());
  auto object = deps.buckets->GetObject(in.value("bucket_id", ""), in.value("key", ""));
  if (object.status().code() == StatusCode::kNotFound ||
      (object.ok() && object->id != in.value("object_id", ""))) {
    return Skipped("object deleted or replaced");
  }
  ARGUS_RETURN_IF_ERROR(object.status());
  if (!collection->source_collection_id.empty()) {
    return FailedPreconditionError("collection '" + collection->name +
                                   "' runs on another collection's regions: its tier runs "
                                   "from its parent's documents, not from objects");
  }
  store::InferenceService* inference = deps.inference ? deps.inference() : nullptr;
  if (inference == nullptr) return UnavailableError("the models are not loaded yet");
  const std::vector<store::InferenceTarget> targets = inference->Targets();

  std::vector<domain::ExtractorAnswer> answers;
  Json errors = Json::object();
  for (size_t i = 0; i < collection->extractors.size(); ++i) {
    const store::CollectionExtractor& e = collection->extractors[i];
    if (!ctx.Heartbeat(static_cast<double>(i) / collection->extractors.size(), e.name)) {
      return CancelledError("stopped");
    }
    const store::InferenceTarget* target = nullptr;
    for (const auto& t : targets) {
      if (t.kind == "extractor" && t.name == e.name) target = &t;
    }
    if (target == nullptr || target->version != e.version) {
      return FailedPreconditionError(
          "collection '" + collection->name + "' runs " + e.name + "@" + e.version +
          (target == nullptr ? ", which this worker does not have"
                             : "; this worker has version " + target->version));
    }
    store::InferenceRequest request{
        .name = e.name,
        .blob_sha256 = object->sha256,
        .media_type = object->media_type,
        .params = e.params,
        .deadline = std::chrono::steady_clock::now() +
                    std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                        std::chrono::duration<double>(deps.extractor_timeout_s))};
    auto answer = inference->Infer(request);
    if (answer.status().code() == StatusCode::kInvalidArgument) {
      errors[e.name] = std::string(answer.status().message());  // this object, not the worker
      continue;
    }
    ARGUS_RETURN_IF_ERROR(answer.status());
    answers.push_back({.name = e.name, .version = e.version, .target = *target,
                       .output = std::move(answer).value()});
  }
  domain::DocumentSource source{.object = *object};
  ARGUS_ASSIGN_OR_RETURN(auto docs, domain::BuildDocuments(*collection, source, answers,
                                                           [] { return NewId(); }));
  if (!errors.empty()) docs.front().payload["errors"] = errors;
  auto written = deps.documents->ReplaceSourceDocuments(collection->id, object->id, docs,
                                                        SystemClock::Get().NowUs());
  if (written.status().code() == StatusCode::kNotFound) return Skipped("object or collection deleted");
  ARGUS_RETURN_IF_ERROR(written.status());
  Json out = {{"documents", written->size()}, {"object_key", object->key}};
  if (!errors.empty()) out["errors"] = errors;
  return out;
}

}  // namespace

Status RegisterExtractKind(TaskKindRegistry& kinds, ExtractDeps deps) {
  return kinds.Register(
      {.name = std::string(domain::kExtractKind),
       .description = "runs a collection's extractors on one object and writes its documents",
       .input_schema = {{"type", "object"},
                        {"required", {"collection_id", "bucket_id", "key", "object_id"}},
                        {"properties",
                         {{"collection_id", {{"type", "string"}}},
                          {"bucket_id", {{"type", "string"}}},
                          {"key", {{"type", "string"}}},
                          {"object_id", {{"type", "string"}}}}}},
       .handler = [deps](TaskContext& ctx) { return RunExtract(deps, ctx); },
       .internal = true});
}

}  // namespace argus::engine
