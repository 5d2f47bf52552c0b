#include "engine/runtime/model_pool.h"

#include "core/log.h"
#include "core/str_cat.h"
#include "core/thread_name.h"
#include "engine/runtime/onnx_session.h"

namespace argus::engine {

struct ModelPool::Loaded {
  ModelState state;
  std::atomic<int64_t> runs{0}, requests{0}, run_us{0};
  std::vector<std::unique_ptr<OnnxSession>> sessions;
  std::unique_ptr<Batcher> batcher;
};

namespace {
int DefaultThreads(int configured) {
  if (configured > 0) return configured;
  return std::max(1u, std::thread::hardware_concurrency());
}
}  // namespace

ModelPool::ModelPool(ModelManifest manifest, ModelPoolOptions options, MetricsRegistry* metrics)
    : manifest_(std::move(manifest)),
      options_(options),
      metrics_(metrics),
      budget_(DefaultThreads(options.threads)) {
  for (const auto& spec : manifest_.models) {
    auto slot = std::make_unique<Loaded>();
    slot->state.name = spec.name;
    slot->state.version = spec.version;
    slot->state.task = spec.task;
    slot->state.entry = spec.entry;
    models_.emplace(spec.name, std::move(slot));
  }
  for (const auto& [name, why] : manifest_.invalid) {
    auto slot = std::make_unique<Loaded>();
    slot->state.name = name;
    slot->state.state = "failed";
    slot->state.error = "invalid manifest entry: " + why;
    models_.emplace(name, std::move(slot));
  }
}

ModelPool::~ModelPool() {
  stop_ = true;
  if (loader_.joinable()) loader_.join();
}

void ModelPool::StartLoading() {
  std::call_once(started_, [this] {
    loader_ = std::thread([this] {
      SetThreadName("argus-loader");
      LoadAll();
    });
  });
}

void ModelPool::LoadAll() {
  for (const auto& spec : manifest_.models) {
    if (stop_) break;
    Loaded* slot;
    {
      std::lock_guard lock(mu_);
      slot = models_.at(spec.name).get();
    }
    auto start = std::chrono::steady_clock::now();
    Status s = Load(spec, *slot);
    std::lock_guard lock(mu_);
    slot->state.load_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (s.ok()) {
      slot->state.state = "ready";
      log::Info("model ready", {{"model", spec.name + "@" + spec.version},
                                {"batchable", slot->state.batchable},
                                {"load_ms", slot->state.load_ms}});
    } else {
      slot->state.state = "failed";
      slot->state.error = std::string(s.message());
      log::Warn("model failed to load", {{"model", spec.name}, {"error", s.ToString()}});
    }
  }
  loaded_ = true;
}

namespace {

// The manifest names tensors in the graph's order (answers and postprocessing go by those
// names), so a list that disagrees with the file is an error, not a silent mix-up.
Status CheckTensors(const ModelSpec& spec, const OnnxSession& session) {
  auto check = [&](const std::vector<ModelTensorSpec>& listed,
                   const std::vector<OnnxTensorInfo>& actual, const char* side) -> Status {
    if (listed.empty()) return OkStatus();
    std::string want, have;
    for (const auto& t : listed) want += (want.empty() ? "" : ", ") + t.name;
    for (const auto& t : actual) have += (have.empty() ? "" : ", ") + t.name;
    if (want != have) {
      return FailedPreconditionError(
          StrCat({"the manifest lists ", side, " [", want, "], the model file has [", have, "]"}));
    }
    return OkStatus();
  };
  ARGUS_RETURN_IF_ERROR(check(spec.inputs, session.inputs(), "inputs"));
  return check(spec.outputs, session.outputs(), "outputs");
}

}  // namespace

Status ModelPool::Load(const ModelSpec& spec, Loaded& slot) {
  ARGUS_RETURN_IF_ERROR(VerifyModelFile(spec));
  const int sessions = std::max(1, options_.sessions_per_model);
  std::vector<std::unique_ptr<OnnxSession>> loaded;
  for (int i = 0; i < sessions; ++i) {
    ARGUS_ASSIGN_OR_RETURN(auto session, OnnxSession::Load(spec.path, {.intra_op_threads = 1}));
    if (i == 0) ARGUS_RETURN_IF_ERROR(CheckTensors(spec, *session));
    // Warm-up: one run on zeros (symbolic dimensions as 1) per session.
    std::vector<Tensor> zeros;
    for (const auto& in : session->inputs()) {
      Tensor t;
      for (int64_t d : in.shape) t.shape.push_back(d < 0 ? 1 : d);
      t.data.assign(static_cast<size_t>(t.elements()), 0.0f);
      zeros.push_back(std::move(t));
    }
    ARGUS_RETURN_IF_ERROR(session->Run(zeros).status());
    loaded.push_back(std::move(session));
  }
  const bool batchable = loaded.front()->batchable();
  std::vector<BatchFn> fns;
  for (auto& s : loaded) {
    OnnxSession* raw = s.get();
    Loaded* stats = &slot;
    fns.push_back([raw, stats](const std::vector<Tensor>& in) {
      auto start = std::chrono::steady_clock::now();
      auto out = raw->Run(in);
      stats->run_us += std::chrono::duration_cast<std::chrono::microseconds>(
                           std::chrono::steady_clock::now() - start)
                           .count();
      stats->runs += 1;
      stats->requests += in.empty() || in[0].shape.empty() ? 1 : in[0].shape[0];
      return out;
    });
  }
  BatcherMetrics m;
  if (metrics_ != nullptr) {
    m.run_seconds = &metrics_
                         ->AddHistogram("argus_inference_seconds",
                                        "Model runs (one batch each), by model.", {"model"})
                         .WithLabels({spec.name});
    m.batch_size =
        &metrics_
             ->AddHistogram("argus_inference_batch_size", "Requests per model run, by model.",
                            {"model"}, {1, 2, 3, 4, 6, 8, 12, 16, 24, 32})
             .WithLabels({spec.name});
    m.queue_seconds =
        &metrics_
             ->AddHistogram("argus_inference_queue_seconds",
                            "Time requests waited for a model run, by model.", {"model"})
             .WithLabels({spec.name});
  }
  auto batcher =
      std::make_unique<Batcher>(spec.name, std::move(fns),
                                BatcherOptions{.max_batch = batchable ? options_.max_batch : 1,
                                               .max_wait_us = options_.max_wait_us,
                                               .max_queue = options_.max_queue,
                                               .threads_per_run = 1},
                                &budget_, m);
  std::lock_guard lock(mu_);
  slot.sessions = std::move(loaded);
  slot.batcher = std::move(batcher);
  slot.state.batchable = batchable;
  return OkStatus();
}

std::vector<ModelState> ModelPool::States() const {
  std::lock_guard lock(mu_);
  std::vector<ModelState> out;
  for (const auto& [name, slot] : models_) {
    ModelState st = slot->state;
    st.runs = slot->runs.load();
    st.requests = slot->requests.load();
    st.mean_run_ms = st.runs > 0 ? slot->run_us.load() / 1000.0 / st.runs : 0;
    out.push_back(std::move(st));
  }
  return out;
}

Status ModelPool::Ready(std::string_view name) {
  StartLoading();
  std::lock_guard lock(mu_);
  auto it = models_.find(name);
  if (it == models_.end()) return NotFoundError("no model '" + std::string(name) + "'");
  const auto& st = it->second->state;
  if (st.state == "loading") return UnavailableError("model '" + st.name + "' is still loading");
  if (st.state == "failed") {
    return UnavailableError("model '" + st.name + "' failed to load: " + st.error);
  }
  return OkStatus();
}

Result<std::vector<std::vector<int64_t>>> ModelPool::GraphInputShapes(std::string_view name) {
  ARGUS_RETURN_IF_ERROR(Ready(name));
  std::lock_guard lock(mu_);
  auto it = models_.find(name);
  if (it == models_.end() || it->second->sessions.empty()) {
    return UnavailableError("model '" + std::string(name) + "' has no session");
  }
  std::vector<std::vector<int64_t>> shapes;
  for (const auto& in : it->second->sessions.front()->inputs()) shapes.push_back(in.shape);
  return shapes;
}

Result<std::vector<Tensor>> ModelPool::Run(std::string_view name, std::vector<Tensor> inputs,
                                           std::chrono::steady_clock::time_point deadline) {
  ARGUS_RETURN_IF_ERROR(Ready(name));
  Batcher* batcher = nullptr;
  {
    std::lock_guard lock(mu_);
    batcher = models_.find(name)->second->batcher.get();
  }
  return batcher->Run(std::move(inputs), deadline);
}

}  // namespace argus::engine
