#include "server/engine_wiring.h"

#include <cstdlib>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "core/build_info.h"
#include "core/log.h"
#ifdef ARGUS_WITH_ORT
#include "engine/collections/extract_task.h"
#include "engine/extractors/extractors.h"
#include "engine/runtime/inference_runtime.h"
#endif
#include "engine/deletes/delete_tasks.h"
#include "server/options.h"

namespace argus::server {
namespace {

#ifdef ARGUS_WITH_ORT
// The model runtime with every extractor; without a readable manifest the extractors report
// themselves failed and everything else runs.
std::unique_ptr<engine::InferenceRuntime> StartInference(const Config& config,
                                                         store::BlobStore* blobs,
                                                         MetricsRegistry* metrics) {
  std::string dir = config.GetString("models.dir");
  if (const char* env = std::getenv("ARGUS_MODEL_DIR"); dir.empty() && env != nullptr) dir = env;
  if (dir.empty()) dir = ARGUS_DEFAULT_MODEL_DIR;
  std::unique_ptr<engine::ModelPool> pool;
  if (auto manifest = engine::LoadManifest(dir); manifest.ok()) {
    engine::ModelPoolOptions options;
    options.threads = static_cast<int>(config.GetInt("inference.threads"));
    options.sessions_per_model = static_cast<int>(config.GetInt("inference.sessions_per_model"));
    options.max_batch = static_cast<int>(config.GetInt("inference.max_batch"));
    options.max_wait_us = config.GetInt("inference.max_wait_us");
    options.max_queue = static_cast<int>(config.GetInt("inference.max_queue"));
    pool = std::make_unique<engine::ModelPool>(std::move(manifest).value(), options, metrics);
  } else {
    log::Warn("no models: inference is unavailable", {{"error", manifest.status().ToString()}});
  }
  engine::InferenceRuntimeOptions options;
  options.decode.max_pixels = config.GetInt("images.max_pixels");
  // Few: a request decoded early only waits in its model's queue holding a large tensor, and
  // 32 such threads cost CenterNet a quarter of its throughput on 2 cores (bench/inference).
  options.request_threads = static_cast<int>(config.GetInt("inference.request_threads"));
  if (options.request_threads <= 0) {
    options.request_threads =
        2 * static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  }
  options.blobs = blobs;
  options.max_blob_bytes = config.GetInt("images.max_bytes");
  options.max_waiting =
      static_cast<int>(std::max<int64_t>(1, config.GetInt("inference.max_waiting")));
  options.max_waiting_per_target =
      static_cast<int>(std::max<int64_t>(1, config.GetInt("inference.max_waiting_per_model")));
  auto runtime = std::make_unique<engine::InferenceRuntime>(std::move(pool), options);
  for (engine::ExtractorFactory make : engine::BuiltinExtractors()) {
    if (Status s = runtime->Register(make()); !s.ok()) {
      log::Error("an extractor failed to register", {{"error", s.ToString()}});
    }
  }
  runtime->Start(config.GetBool("inference.preload"));
  return runtime;
}
#endif

// Queue depth and age, read at scrape time: what an autoscaler (KEDA, HPA) scales workers on.
// Queues this process serves always appear (at zero), so dashboards and autoscalers see them
// before the first task.
void AddQueueMetrics(MetricsRegistry& metrics, store::TaskQueue* tasks,
                     std::vector<std::string> known_queues) {
  metrics.AddCollector([tasks, known_queues](std::string& out) {
    auto stats = tasks->Stats("");
    if (!stats.ok()) return;
    for (const auto& name : known_queues) {
      bool seen = false;
      for (const auto& q : *stats) seen = seen || q.queue == name;
      if (!seen) stats->push_back(store::QueueStats{.queue = name});
    }
    out += "# HELP argus_queue_depth Tasks in a queue by status.\n";
    out += "# TYPE argus_queue_depth gauge\n";
    for (const auto& q : *stats) {
      AppendSample(out, "argus_queue_depth", {"queue", "status"}, {q.queue, "pending"},
                   static_cast<double>(q.pending));
      AppendSample(out, "argus_queue_depth", {"queue", "status"}, {q.queue, "scheduled"},
                   static_cast<double>(q.scheduled));
      AppendSample(out, "argus_queue_depth", {"queue", "status"}, {q.queue, "running"},
                   static_cast<double>(q.running));
    }
    out += "# HELP argus_queue_oldest_pending_seconds Age of the oldest runnable task.\n";
    out += "# TYPE argus_queue_oldest_pending_seconds gauge\n";
    for (const auto& q : *stats) {
      AppendSample(out, "argus_queue_oldest_pending_seconds", {"queue"}, {q.queue},
                   q.oldest_pending_s);
    }
  });
}

void AddWorkerMetrics(MetricsRegistry& metrics, engine::WorkerPool* workers) {
  metrics.AddCollector([workers](std::string& out) {
    std::map<std::pair<std::string, std::string>, int> counts;
    for (const auto& w : workers->Workers()) ++counts[{w.queue, w.state}];
    out += "# HELP argus_workers Workers of this process by queue and state.\n";
    out += "# TYPE argus_workers gauge\n";
    for (const auto& [key, n] : counts) {
      AppendSample(out, "argus_workers", {"queue", "state"}, {key.first, key.second}, n);
    }
  });
}

}  // namespace

Result<std::unique_ptr<Engine>> Engine::Start(const Config& config, Stores& stores,
                                              store::StoreRegistry& registry,
                                              MetricsRegistry& metrics) {
  std::unique_ptr<Engine> e(new Engine());
  const Clock* clock = &SystemClock::Get();
  ARGUS_ASSIGN_OR_RETURN(e->dispatcher_options_, engine::DispatcherOptionsFromConfig(config));
  e->dispatcher_options_.sender.user_agent = "Argus-Webhooks/";
  e->dispatcher_options_.sender.user_agent.append(GetBuildInfo().version);
  ARGUS_ASSIGN_OR_RETURN(auto sender, engine::WebhookSender::Create(e->dispatcher_options_.sender));
  e->dispatcher_ = std::make_unique<engine::WebhookDispatcher>(
      stores.events.get(), stores.bus.get(), stores.webhooks.get(), std::move(sender),
      e->dispatcher_options_, clock, &metrics);
  if (config.GetBool("webhooks.dispatch")) {
    e->dispatcher_->Start();
  } else {
    log::Warn("webhooks.dispatch is false: no webhook is delivered; events wait in the outbox");
  }

  e->collector_ = std::make_unique<engine::BlobCollector>(
      stores.blobs.get(), stores.metadata.get(), stores.metadata.get(),
      engine::BlobCollectorOptions{.grace_s = config.GetDouble("blobs.gc_grace_s"),
                                   .interval_s = config.GetDouble("blobs.gc_interval_s")},
      clock, &metrics);
  e->collector_->Start();

  domain::IngestContext& ingest = e->ingest_;
  ingest.buckets = stores.metadata.get();
  ingest.references = stores.metadata.get();
  ingest.blobs = stores.blobs.get();
  ingest.max_object_bytes = MaxObjectBytes(config, registry);
  ingest.max_metadata_bytes = static_cast<size_t>(config.GetInt("objects.max_metadata_bytes"));
  ingest.sniff.libmagic_for_unknown_binary = config.GetBool("objects.sniff_unknown_binary");
  e->sync_options_ = SyncOptionsFromConfig(config);
  e->sync_runner_ = std::make_unique<engine::SyncRunner>(stores.metadata.get(), ingest,
                                                         &registry.sources, e->sync_options_);

#ifdef ARGUS_WITH_ORT
  // Before the workers: collection.extract runs the extractors.
  e->inference_ = StartInference(config, stores.blobs.get(), &metrics);
#endif
  engine::RegisterBuiltinKinds(e->kinds_);
  ARGUS_RETURN_IF_ERROR(e->sync_runner_->Register(e->kinds_));
  e->upload_completer_ = std::make_unique<engine::UploadCompleter>(ingest);
  ARGUS_RETURN_IF_ERROR(e->upload_completer_->Register(e->kinds_));
  ARGUS_RETURN_IF_ERROR(
      engine::RegisterDeleteKinds(e->kinds_, {.namespaces = stores.metadata.get(),
                                              .buckets = stores.metadata.get(),
                                              .webhooks = stores.webhooks.get()}));
  ARGUS_RETURN_IF_ERROR(engine::RegisterExtractKind(
      e->kinds_, {.collections = stores.metadata.get(),
                  .documents = stores.metadata.get(),
                  .buckets = stores.metadata.get(),
                  .inference = [engine = e.get()] { return engine->inference(); },
                  .tasks = stores.tasks.get()}));
  ARGUS_ASSIGN_OR_RETURN(auto worker_options, WorkerOptionsFromConfig(config));
  e->workers_ =
      std::make_unique<engine::WorkerPool>(stores.tasks.get(), &e->kinds_, worker_options, clock,
                                           &metrics, stores.bus.get(), stores.events.get());
  std::vector<std::string> queue_names;
  for (const auto& [queue, n] : worker_options.concurrency) queue_names.push_back(queue);
  AddQueueMetrics(metrics, stores.tasks.get(), queue_names);
  AddWorkerMetrics(metrics, e->workers_.get());
  ARGUS_RETURN_IF_ERROR(e->workers_->Start());
  // The API reads kinds and workers from the catalog, never from the engine.
  e->registrar_ = std::make_unique<engine::WorkerRegistrar>(
      stores.catalog.get(), &e->kinds_, e->workers_.get(), engine::RegistrarOptions{}, clock);
  ARGUS_RETURN_IF_ERROR(e->registrar_->Start());
  e->sync_scheduler_ = std::make_unique<engine::SyncScheduler>(
      stores.metadata.get(), stores.tasks.get(), e->sync_runner_.get(),
      engine::SyncSchedulerOptions{}, clock, stores.bus.get());
  e->sync_scheduler_->Start();
#ifdef ARGUS_WITH_ORT
  // New objects of auto_process collections' buckets become collection.extract tasks.
  e->auto_processor_ = std::make_unique<engine::AutoProcessor>(
      stores.events.get(), stores.bus.get(), stores.metadata.get(), stores.metadata.get(),
      stores.metadata.get(), stores.tasks.get());
  e->auto_processor_->Start();
#endif
  // Batches' progress, kept from their tasks' events.
  e->batch_tracker_ = std::make_unique<engine::BatchTracker>(
      engine::BatchTracker::Deps{.events = stores.events.get(),
                                 .bus = stores.bus.get(),
                                 .batches = stores.metadata.get(),
                                 .collections = stores.metadata.get(),
                                 .values = stores.metadata.get(),
                                 .tasks = stores.tasks.get(),
                                 .clock = clock});
  e->batch_tracker_->Start();
  return e;
}

Engine::~Engine() { Stop(std::chrono::milliseconds(0)); }

void Engine::Stop(std::chrono::milliseconds drain) {
  if (stopped_) return;
  stopped_ = true;
  if (sync_scheduler_) sync_scheduler_->Stop();
  if (auto_processor_) auto_processor_->Stop();
  if (batch_tracker_) batch_tracker_->Stop();
  // The workers first: a collection.extract task may be inside the runtime.
  if (workers_) workers_->Stop(drain);
  // Answers every inference request still queued or running while the API it answers through
  // is alive (its callbacks end in ApiService and the HTTP server).
  inference_.reset();
  if (registrar_) registrar_->Stop();
  if (dispatcher_) dispatcher_->Stop(std::min(drain, std::chrono::milliseconds(2000)));
  if (collector_) collector_->Stop();
}

}  // namespace argus::server
