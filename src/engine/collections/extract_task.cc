#include "engine/collections/extract_task.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/id.h"
#include "domain/document_builder.h"

namespace argus::engine {

namespace {

// A later tier runs on its parent's region grown by this share of its width and height on every
// side: detectors that need context around what they find (face_embedding finds the face again)
// see some.
constexpr double kCropMargin = 0.5;

Json Skipped(std::string why) { return {{"documents", 0}, {"skipped", std::move(why)}}; }

// One extractor's answer for each item: the object (tier 1), or each parent region.
struct ExtractorRun {
  const store::CollectionExtractor* extractor;
  store::InferenceTarget target;
  std::optional<Json> output;  // tier 1: the answer; a later tier: {"crops": [...]}
};

// A parent document's region as a crop: [x1, y1, x2, y2] grown by the margin, clamped at the
// top-left corner (the runtime clamps the rest as it crops).
std::optional<std::array<double, 4>> CropOf(const store::Document& parent) {
  if (!parent.region.is_object()) return std::nullopt;
  const Json& box = parent.region.value("box", Json());
  if (!box.is_array() || box.size() != 4) return std::nullopt;
  for (const auto& v : box) {
    if (!v.is_number()) return std::nullopt;
  }
  const double x1 = box[0], y1 = box[1], x2 = box[2], y2 = box[3];
  const double mx = (x2 - x1) * kCropMargin, my = (y2 - y1) * kCropMargin;
  return std::array<double, 4>{std::max(0.0, std::round(x1 - mx)),
                               std::max(0.0, std::round(y1 - my)), x2 + mx, y2 + my};
}

// Whether `name`'s models are still loading (a worker that just started, or the first use of a
// model that is not preloaded): its tasks wait for them instead of failing.
bool StillLoading(const store::InferenceService& inference, const std::string& name) {
  for (const auto& t : inference.Targets()) {
    if (t.kind == "extractor" && t.name == name) return t.state == "loading";
  }
  return false;
}

// Runs every extractor of the collection on the object, or on `crops` of it. An extractor that
// cannot read this media leaves its error in `errors` (the item's, not the worker's).
Result<std::vector<ExtractorRun>> RunExtractors(const ExtractDeps& deps, TaskContext& ctx,
                                                const store::Collection& collection,
                                                const store::StoredObject& object,
                                                const std::vector<std::array<double, 4>>& crops,
                                                Json& errors) {
  store::InferenceService* inference = deps.inference ? deps.inference() : nullptr;
  if (inference == nullptr) return UnavailableError("the models are not loaded yet");
  const std::vector<store::InferenceTarget> targets = inference->Targets();
  std::vector<ExtractorRun> runs;
  for (size_t i = 0; i < collection.extractors.size(); ++i) {
    const store::CollectionExtractor& e = collection.extractors[i];
    if (!ctx.Heartbeat(static_cast<double>(i) / collection.extractors.size(), e.name)) {
      return CancelledError("stopped");
    }
    const store::InferenceTarget* target = nullptr;
    for (const auto& t : targets) {
      if (t.kind == "extractor" && t.name == e.name) target = &t;
    }
    if (target == nullptr || target->version != e.version) {
      return FailedPreconditionError(
          "collection '" + collection.name + "' runs " + e.name + "@" + e.version +
          (target == nullptr ? ", which this worker does not have"
                             : "; this worker has version " + target->version));
    }
    store::InferenceRequest request{
        .name = e.name,
        .blob_sha256 = object.sha256,
        .media_type = object.media_type,
        .params = e.params,
        .crops = crops,
        .deadline = std::chrono::steady_clock::now() +
                    std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                        std::chrono::duration<double>(deps.extractor_timeout_s))};
    ExtractorRun run{.extractor = &e, .target = *target};
    auto answer = inference->Infer(request);
    while (answer.status().code() == StatusCode::kUnavailable &&
           std::chrono::steady_clock::now() < request.deadline &&
           StillLoading(*inference, e.name)) {
      if (!ctx.Heartbeat(std::nullopt, "waiting for " + e.name + " to load")) {
        return CancelledError("stopped");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      answer = inference->Infer(request);
    }
    if (answer.status().code() == StatusCode::kInvalidArgument) {
      errors[e.name] = std::string(answer.status().message());
    } else {
      ARGUS_RETURN_IF_ERROR(answer.status());
      run.output = std::move(answer).value();
    }
    runs.push_back(std::move(run));
  }
  return runs;
}

std::vector<domain::ExtractorAnswer> AnswersOf(const std::vector<ExtractorRun>& runs,
                                               std::optional<size_t> crop) {
  std::vector<domain::ExtractorAnswer> answers;
  for (const auto& run : runs) {
    if (!run.output) continue;
    const Json& output = crop ? run.output->at("crops").at(*crop) : *run.output;
    answers.push_back({.name = run.extractor->name,
                       .version = run.extractor->version,
                       .target = run.target,
                       .output = output});
  }
  return answers;
}

// Writes one source's documents; NotFound (the object or the collection went meanwhile) is
// reported as nothing written.
Result<size_t> Write(const ExtractDeps& deps, const store::Collection& collection,
                     const domain::DocumentSource& source, std::string_view source_id,
                     const std::vector<domain::ExtractorAnswer>& answers, const Json& errors) {
  ARGUS_ASSIGN_OR_RETURN(
      auto docs, domain::BuildDocuments(collection, source, answers, [] { return NewId(); }));
  if (!errors.empty()) docs.front().payload["errors"] = errors;
  auto written = deps.documents->ReplaceSourceDocuments(collection.id, source_id, docs,
                                                        SystemClock::Get().NowUs());
  if (written.status().code() == StatusCode::kNotFound) return NotFoundError("gone");
  ARGUS_RETURN_IF_ERROR(written.status());
  return written->size();
}

// The next tiers run once this one's documents exist: one task per collection sourced from it.
Status EnqueueNextTiers(const ExtractDeps& deps, const store::Collection& collection,
                        const store::StoredObject& object, const store::Task& task) {
  if (deps.tasks == nullptr) return OkStatus();
  ARGUS_ASSIGN_OR_RETURN(auto next, deps.collections->CollectionsOfSource(collection.id, true));
  std::vector<store::NewTask> tasks;
  for (const auto& c : next) {
    store::NewTask t;
    t.namespace_id = c.namespace_id;
    t.kind = std::string(domain::kExtractKind);
    t.queue = "cpu";
    t.input = domain::ExtractInput(c.id, object);
    t.parent_id = task.parent_id;  // the batch, when there is one, counts the next tiers too
    tasks.push_back(std::move(t));
  }
  if (tasks.empty()) return OkStatus();
  return deps.tasks->Enqueue(tasks, 0).status();
}

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

  Json errors = Json::object();
  size_t written = 0;
  if (collection->source_collection_id.empty()) {
    ARGUS_ASSIGN_OR_RETURN(auto runs, RunExtractors(deps, ctx, *collection, *object, {}, errors));
    auto n = Write(deps, *collection, {.object = *object}, object->id, AnswersOf(runs, {}), errors);
    if (n.status().code() == StatusCode::kNotFound) return Skipped("object or collection deleted");
    ARGUS_RETURN_IF_ERROR(n.status());
    written = *n;
  } else {
    // A later tier: the extractors run on the regions of the parent collection's documents of
    // this object, each region's answers becoming that parent's documents here.
    ARGUS_ASSIGN_OR_RETURN(auto parents, deps.documents->DocumentsOfObject(
                                             collection->source_collection_id, object->id, false));
    std::vector<const store::Document*> sources;
    std::vector<std::array<double, 4>> crops;
    for (const auto& p : parents) {
      if (auto crop = CropOf(p)) {
        sources.push_back(&p);
        crops.push_back(*crop);
      }
    }
    if (sources.empty()) return Json{{"documents", 0}, {"regions", 0}};
    ARGUS_ASSIGN_OR_RETURN(auto runs,
                           RunExtractors(deps, ctx, *collection, *object, crops, errors));
    for (size_t i = 0; i < sources.size(); ++i) {
      domain::DocumentSource source{
          .object = *object, .parent = sources[i], .crop_x = crops[i][0], .crop_y = crops[i][1]};
      auto n = Write(deps, *collection, source, sources[i]->id, AnswersOf(runs, i), errors);
      if (n.status().code() == StatusCode::kNotFound) continue;  // that parent went meanwhile
      ARGUS_RETURN_IF_ERROR(n.status());
      written += *n;
    }
  }
  ARGUS_RETURN_IF_ERROR(EnqueueNextTiers(deps, *collection, *object, ctx.task()));
  Json out = {{"documents", written}, {"object_key", object->key}};
  if (!errors.empty()) out["errors"] = errors;
  return out;
}

}  // namespace

Status RegisterExtractKind(TaskKindRegistry& kinds, ExtractDeps deps) {
  return kinds.Register(
      {.name = std::string(domain::kExtractKind),
       .description = "runs a collection's extractors on one object (a later tier: on its parent "
                      "documents' regions of the object) and writes the documents",
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
