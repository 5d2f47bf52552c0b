#include "engine/runtime/inference_runtime.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <exception>

#include "core/log.h"
#include "core/media_type.h"
#include "core/thread_name.h"

namespace argus::engine {

InferenceRuntime::InferenceRuntime(std::unique_ptr<ModelPool> pool, InferenceRuntimeOptions options)
    : pool_(std::move(pool)), options_(options) {}

InferenceRuntime::~InferenceRuntime() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
  for (auto& [request, done] : waiting_) done(UnavailableError("the server is shutting down"));
}

Status InferenceRuntime::Register(std::unique_ptr<Extractor> extractor) {
  const std::string name = extractor->info().name;
  if (extractors_.count(name)) return AlreadyExistsError("extractor '" + name + "' twice");
  ARGUS_RETURN_IF_ERROR(CheckExtractorInfo(extractor->info()));
  ARGUS_ASSIGN_OR_RETURN(auto schema, JsonSchema::Compile(extractor->info().params_schema));
  extractors_.emplace(name, Registered{std::move(extractor), std::move(schema)});
  return OkStatus();
}

void InferenceRuntime::Start(bool preload) {
  if (pool_ != nullptr && preload) pool_->StartLoading();
  for (int i = 0; i < std::max(1, options_.request_threads); ++i) {
    threads_.emplace_back([this] {
      SetThreadName("argus-infer");
      std::unique_lock lock(mu_);
      while (true) {
        cv_.wait(lock, [this] { return stop_ || !waiting_.empty(); });
        if (stop_) return;
        auto [request, done] = std::move(waiting_.front());
        waiting_.pop_front();
        if (auto it = waiting_per_target_.find(request.name);
            it != waiting_per_target_.end() && --it->second <= 0) {
          waiting_per_target_.erase(it);
        }
        lock.unlock();
        try {
          done(InferNoThrow(request));
        } catch (const std::exception& e) {  // the answer's own path: log, keep serving
          log::Error("answering an inference request threw", {{"error", e.what()}});
        }
        lock.lock();
      }
    });
  }
}

void InferenceRuntime::InferAsync(store::InferenceRequest request,
                                  std::function<void(Result<Json>)> done) {
  Status refused;
  {
    std::lock_guard lock(mu_);
    if (stop_ || threads_.empty()) {
      refused = UnavailableError("inference is not running");
    } else if (static_cast<int>(waiting_.size()) >= options_.max_waiting) {
      refused =
          ResourceExhaustedError("too many inference requests are waiting: try again shortly");
    } else if (int& of_target = waiting_per_target_[request.name];
               of_target >= options_.max_waiting_per_target) {
      refused = ResourceExhaustedError("too many requests are waiting for '" + request.name +
                                       "' (inference.max_waiting_per_model): try again shortly");
    } else {
      ++of_target;
      waiting_.emplace_back(std::move(request), std::move(done));
    }
  }
  if (!refused.ok()) return done(refused);  // outside the lock: it answers the HTTP request
  cv_.notify_one();
}

Result<Json> InferenceRuntime::InferNoThrow(const store::InferenceRequest& request) {
  try {
    return Infer(request);
  } catch (const std::exception& e) {  // OpenCV, JSON, allocation: never out of this thread
    return InternalError(std::string("inference failed: ") + e.what());
  }
}

std::string InferenceRuntime::ModelsState(const ExtractorInfo& info, std::string* error) const {
  if (info.models.empty()) return "ready";
  if (pool_ == nullptr) {
    *error = "no model directory";
    return "failed";
  }
  std::string state = "ready";
  for (const auto& m : pool_->States()) {
    for (const auto& needed : info.models) {
      if (m.name != needed) continue;
      if (m.state == "failed") {
        *error = "model '" + m.name + "': " + m.error;
        return "failed";
      }
      if (m.state == "loading") state = "loading";
    }
  }
  for (const auto& needed : info.models) {
    if (pool_->Spec(needed) == nullptr) {
      *error = "model '" + needed + "' is not in the manifest";
      return "missing";
    }
  }
  return state;
}

std::vector<store::InferenceTarget> InferenceRuntime::Targets() const {
  std::vector<store::InferenceTarget> out;
  for (const auto& [name, r] : extractors_) {
    const ExtractorInfo& info = r.extractor->info();
    store::InferenceTarget t;
    t.name = info.name;
    t.version = info.version;
    t.kind = "extractor";
    t.task = info.name;
    t.state = ModelsState(info, &t.error);
    t.params_schema = info.params_schema;
    t.output_schema = info.output_schema;
    t.details = {{"description", info.description},
                 {"models", info.models},
                 {"granularity", GranularityName(info.granularity)},
                 {"media_types", info.media_types},
                 {"text_fields", info.text_fields}};
    if (!info.regions_field.empty()) t.details["regions_field"] = info.regions_field;
    Json vectors = Json::array();
    for (const auto& v : info.vectors) {
      vectors.push_back({{"output", v.output}, {"dimension", v.dimension}, {"metric", v.metric}});
    }
    t.details["vectors"] = std::move(vectors);
    out.push_back(std::move(t));
  }
  if (pool_ != nullptr) {
    for (const auto& m : pool_->States()) {
      store::InferenceTarget t;
      t.name = m.name;
      t.version = m.version;
      t.kind = "model";
      t.task = m.task;
      t.state = m.state;
      t.error = m.error;
      if (const ModelSpec* spec = pool_->Spec(m.name);
          spec != nullptr && m.state == "ready" && IsTextTask(spec->task)) {
        if (auto input = TextInputFor(*spec); !input.ok()) {  // e.g. its vocabulary is missing
          t.state = "failed";
          t.error = std::string(input.status().message());
        }
      }
      if (const ModelSpec* spec = pool_->Spec(m.name); spec != nullptr) {
        t.params_schema = TaskParamsSchema(*spec);
        t.output_schema = TaskOutputSchema(*spec);
        t.details["input"] = IsTextTask(spec->task) ? "text" : "image";
      }
      t.details.update(
          Json{{"batchable", m.batchable},
               {"load_ms", m.load_ms},
               {"runs", m.runs},
               {"requests", m.requests},
               {"mean_run_ms", m.mean_run_ms},
               {"mean_batch", m.runs > 0 ? static_cast<double>(m.requests) / m.runs : 0.0},
               {"manifest", m.entry}});
      out.push_back(std::move(t));
    }
  }
  return out;
}

Status InferenceRuntime::ValidateParams(std::string_view name, const Json& params) const {
  auto it = extractors_.find(std::string(name));
  if (it == extractors_.end()) {
    return NotFoundError("no extractor named '" + std::string(name) + "'");
  }
  if (Status valid = it->second.params.Validate(params); !valid.ok()) {
    return InvalidArgumentError("parameters: " + std::string(valid.message()));
  }
  return it->second.extractor->ValidateParams(params);
}

Result<Json> InferenceRuntime::Infer(const store::InferenceRequest& request) {
  if (std::chrono::steady_clock::now() > request.deadline) {
    return DeadlineExceededError("the deadline passed before the request started");
  }
  auto it = extractors_.find(request.name);
  if (it != extractors_.end()) {
    const ExtractorInfo& info = it->second.extractor->info();
    std::string error;
    std::string state = ModelsState(info, &error);
    if (state == "loading" && pool_ != nullptr) pool_->StartLoading();  // first use
    if (state != "ready") {
      return UnavailableError("extractor '" + info.name + "' is " + state +
                              (error.empty() ? "" : ": " + error));
    }
    ARGUS_RETURN_IF_ERROR(ValidateParams(request.name, request.params));
    const bool by_reference = request.media.empty() && !request.blob_sha256.empty();
    std::string media_type = request.media_type;
    if (media_type.empty() && !by_reference) {
      media_type = SniffMediaType(std::string_view(request.media).substr(0, kSniffBytes));
    }
    if (!AcceptsMediaType(info.media_types, media_type)) {
      return InvalidArgumentError(fmt::format("extractor '{}' reads {}; this media is {}",
                                              info.name, fmt::join(info.media_types, ", "),
                                              media_type));
    }
    // By reference: the blob is read when the extractor first needs it.
    MediaRef media = by_reference ? MediaRef(
                                        request.blob_sha256, media_type, -1,
                                        [this, sha = request.blob_sha256] { return ReadBlob(sha); },
                                        options_.decode)
                                  : MediaRef::FromBytes(request.media, options_.decode, media_type);
    ExtractContext ctx{.models = pool_.get(), .deadline = request.deadline};
    if (!request.crops.empty()) return ExtractCrops(*it->second.extractor, media, request, ctx);
    ARGUS_ASSIGN_OR_RETURN(Json out, it->second.extractor->Extract(media, request.params, ctx));
    out["extractor"] = info.name + "@" + info.version;
    return out;
  }
  if (!request.crops.empty()) {
    return InvalidArgumentError("crops: only extractors run on regions; '" + request.name +
                                "' is a model");
  }
  std::string loaded;
  std::string_view media = request.media;
  if (media.empty() && !request.blob_sha256.empty()) {
    ARGUS_ASSIGN_OR_RETURN(loaded, ReadBlob(request.blob_sha256));
    media = loaded;
  }
  const ModelSpec* spec = pool_ == nullptr ? nullptr : pool_->Spec(request.name);
  if (spec == nullptr) {
    return NotFoundError("no extractor or model named '" + request.name + "'");
  }
  return RunModel(*spec, request, media);
}

Result<Json> InferenceRuntime::ExtractCrops(const Extractor& extractor, const MediaRef& media,
                                            const store::InferenceRequest& request,
                                            ExtractContext& ctx) const {
  if (request.crops.size() > kMaxCrops) {
    return InvalidArgumentError(fmt::format("crops: {} regions, at most {} in one request",
                                            request.crops.size(), kMaxCrops));
  }
  ARGUS_ASSIGN_OR_RETURN(auto whole, media.Image());
  Json answers = Json::array();
  for (size_t i = 0; i < request.crops.size(); ++i) {
    const auto& [x1, y1, x2, y2] = request.crops[i];
    auto crop = CropImage(*whole, x1, y1, x2, y2);
    if (!crop.ok()) {
      return InvalidArgumentError(fmt::format("crops[{}]: {}", i, crop.status().message()));
    }
    MediaRef part = MediaRef::FromImage(std::make_shared<const DecodedImage>(*std::move(crop)));
    ARGUS_ASSIGN_OR_RETURN(Json out, extractor.Extract(part, request.params, ctx));
    answers.push_back(std::move(out));
  }
  const ExtractorInfo& info = extractor.info();
  return Json{{"crops", std::move(answers)}, {"extractor", info.name + "@" + info.version}};
}

Result<std::string> InferenceRuntime::ReadBlob(std::string_view sha256) const {
  if (options_.blobs == nullptr) return UnavailableError("inference has no blob store");
  return store::ReadWholeBlob(*options_.blobs, sha256, options_.max_blob_bytes);
}

Result<Json> InferenceRuntime::RunModel(const ModelSpec& spec,
                                        const store::InferenceRequest& request,
                                        std::string_view media) {
  ARGUS_ASSIGN_OR_RETURN(auto schema, JsonSchema::Compile(TaskParamsSchema(spec)));
  if (!request.params.is_object()) return InvalidArgumentError("parameters must be an object");
  if (Status valid = schema.Validate(request.params); !valid.ok()) {
    return InvalidArgumentError("parameters: " + std::string(valid.message()));
  }
  ARGUS_RETURN_IF_ERROR(pool_->Ready(spec.name));
  if (IsTextTask(spec.task)) {
    ARGUS_ASSIGN_OR_RETURN(auto input, TextInputFor(spec));
    return RunTextModel(*pool_, spec, *input, media, request.deadline);
  }
  ARGUS_ASSIGN_OR_RETURN(auto image, DecodeImage(media, options_.decode));
  return RunImageModel(*pool_, spec, image, request.params, request.deadline);
}

Result<std::shared_ptr<const TextInput>> InferenceRuntime::TextInputFor(
    const ModelSpec& spec) const {
  {
    std::lock_guard lock(text_mu_);
    auto it = text_inputs_.find(spec.name);
    if (it != text_inputs_.end()) return it->second;
  }
  // Only once the graph is loaded (its shapes decide the sequence length); not cached before.
  // Built outside the lock (it reads and hashes the vocabulary): two first callers may both build
  // it, and the first to finish is kept.
  ARGUS_ASSIGN_OR_RETURN(auto shapes, pool_->GraphInputShapes(spec.name));
  Result<std::shared_ptr<const TextInput>> made =
      [&]() -> Result<std::shared_ptr<const TextInput>> {
    auto input = TextInputOf(spec, shapes);
    if (!input.ok()) {  // the model's set-up, not the request: 503 naming the cause
      return UnavailableError("model '" + spec.name +
                              "' cannot run: " + std::string(input.status().message()));
    }
    return std::make_shared<const TextInput>(std::move(input).value());
  }();
  std::lock_guard lock(text_mu_);
  return text_inputs_.emplace(spec.name, std::move(made)).first->second;
}

}  // namespace argus::engine
