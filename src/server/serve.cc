#include "server/serve.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <thread>

#include "api/api_service.h"
#include "api/auth/authenticator.h"
#include "api/http/http_server.h"
#include "core/build_info.h"
#include "core/id.h"
#include "core/json_schema.h"
#include "core/log.h"
#include "engine/blobs/blob_collector.h"
#include "engine/syncs/sync_runner.h"
#include "engine/syncs/sync_scheduler.h"
#include "engine/uploads/upload_completer.h"
#ifdef ARGUS_WITH_ORT
#include "engine/extractors/extractors.h"
#include "engine/runtime/inference_runtime.h"
#endif
#include "engine/webhooks/webhook_dispatcher.h"
#include "engine/worker/task_kinds.h"
#include "engine/worker/worker_pool.h"
#include "engine/worker/worker_registrar.h"
#include "server/data_dir.h"
#include "server/options.h"
#include "server/process_metrics.h"
#include "server/register_all.h"
#include "server/stores.h"

namespace argus::server {

namespace {

constexpr std::string_view kAdminKeyCreated = "admin_key_created";

// First start only: make (or adopt from ARGUS_ADMIN_KEY) the global admin key. The secret is
// written to <data>/admin.key before the database learns its hash, so the database never
// holds a key whose secret was lost.
Status BootstrapAdminKey(store::MetadataStore& store, const Config& config,
                         const std::string& data_dir) {
  ARGUS_ASSIGN_OR_RETURN(auto done, store.GetSystemValue(kAdminKeyCreated));
  if (done) return OkStatus();
  const std::string& given = config.GetString("admin_key");
  api::NewKeySecret secret;
  std::string key_file = data_dir + "/admin.key";
  if (!given.empty()) {
    if (given.size() < 32) {
      return InvalidArgumentError("admin_key (ARGUS_ADMIN_KEY) must be at least 32 characters");
    }
    for (char c : given) {
      if (c < 0x21 || c > 0x7e) {
        return InvalidArgumentError("admin_key (ARGUS_ADMIN_KEY) must be printable ASCII");
      }
    }
    secret = api::KeySecretFrom(given);
  } else {
    secret = api::MakeKeySecret();
    ARGUS_RETURN_IF_ERROR(WriteFileAtomic(key_file, secret.secret + "\n", 0600));
  }
  store::ApiKey key;
  key.id = NewId();
  key.name = "admin";
  key.role = store::Role::kAdmin;
  key.prefix = secret.prefix;
  key.hash = secret.hash;
  key.created_at = key.updated_at = SystemClock::Get().NowUs();
  ARGUS_RETURN_IF_ERROR(store.CreateApiKey(key).status());
  ARGUS_RETURN_IF_ERROR(store.PutSystemValue(kAdminKeyCreated, key.id));
  log::Info("created the global admin key",
            {{"key_id", key.id},
             {"secret", given.empty() ? "written to " + key_file : "taken from ARGUS_ADMIN_KEY"}});
  return OkStatus();
}

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

int Fail(const Status& s) {
  log::Error("argus serve cannot start", {{"error", std::string(s.message())}});
  log::Shutdown();
  return 1;
}

}  // namespace

int RunServe(const Config& config) {
  // Block the stop signals in every thread; the main thread waits for them with sigwait.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto level = log::ParseLevel(config.GetString("log.level"));
  if (!level.ok()) return Fail(level.status());
  log::Init({*level, config.GetString("log.format") != "text"});

  std::string data_dir = config.GetString("server.data_dir");
  auto lock = DataDirLock::Acquire(data_dir);
  if (!lock.ok()) return Fail(lock.status());

  store::StoreRegistry registry;
  if (Status s = RegisterAllStores(registry); !s.ok()) return Fail(s);
  for (const std::string& warning : HostWarnings(registry)) {
    log::Warn("this host weakens a backend", {{"warning", warning}});
  }
  MetricsRegistry metrics;
  AddProcessMetrics(metrics);
  auto opened = OpenStores(config, data_dir, registry, &metrics);
  if (!opened.ok()) return Fail(opened.status());
  Stores& stores = *opened;
  if (Status s = BootstrapAdminKey(*stores.metadata, config, data_dir); !s.ok()) return Fail(s);
  const int64_t max_object_bytes = MaxObjectBytes(config, registry);

  auto dispatcher_options = engine::DispatcherOptionsFromConfig(config);
  if (!dispatcher_options.ok()) return Fail(dispatcher_options.status());
  dispatcher_options->sender.user_agent = "Argus-Webhooks/";
  dispatcher_options->sender.user_agent.append(GetBuildInfo().version);
  auto sender = engine::WebhookSender::Create(dispatcher_options->sender);
  if (!sender.ok()) return Fail(sender.status());
  engine::WebhookDispatcher dispatcher(stores.events.get(), stores.bus.get(), stores.webhooks.get(),
                                       std::move(*sender), *dispatcher_options, &SystemClock::Get(),
                                       &metrics);
  if (config.GetBool("webhooks.dispatch")) {
    dispatcher.Start();
  } else {
    log::Warn("webhooks.dispatch is false: no webhook is delivered; events wait in the outbox");
  }

  engine::BlobCollector collector(stores.blobs.get(), stores.metadata.get(), stores.metadata.get(),
                                  {.grace_s = config.GetDouble("blobs.gc_grace_s"),
                                   .interval_s = config.GetDouble("blobs.gc_interval_s")},
                                  &SystemClock::Get(), &metrics);
  collector.Start();

  domain::IngestContext ingest;
  ingest.buckets = stores.metadata.get();
  ingest.references = stores.metadata.get();
  ingest.blobs = stores.blobs.get();
  ingest.max_object_bytes = max_object_bytes;
  ingest.max_metadata_bytes = static_cast<size_t>(config.GetInt("objects.max_metadata_bytes"));
  ingest.sniff.libmagic_for_unknown_binary = config.GetBool("objects.sniff_unknown_binary");
  const engine::SyncRunOptions sync_options = SyncOptionsFromConfig(config);
  engine::SyncRunner sync_runner(stores.metadata.get(), ingest, &registry.sources, sync_options);

  engine::TaskKindRegistry kinds;
  engine::RegisterBuiltinKinds(kinds);
  if (Status s = sync_runner.Register(kinds); !s.ok()) return Fail(s);
  engine::UploadCompleter upload_completer(ingest);
  if (Status s = upload_completer.Register(kinds); !s.ok()) return Fail(s);
  auto worker_options = WorkerOptionsFromConfig(config);
  if (!worker_options.ok()) return Fail(worker_options.status());
  engine::WorkerPool workers(stores.tasks.get(), &kinds, *worker_options, &SystemClock::Get(),
                             &metrics, stores.bus.get(), stores.events.get());
  std::vector<std::string> queue_names;
  for (const auto& [queue, n] : worker_options->concurrency) queue_names.push_back(queue);
  AddQueueMetrics(metrics, stores.tasks.get(), queue_names);
  AddWorkerMetrics(metrics, &workers);
  if (Status s = workers.Start(); !s.ok()) return Fail(s);
  // The API reads kinds and workers from the catalog, never from the engine.
  engine::WorkerRegistrar registrar(stores.catalog.get(), &kinds, &workers, {},
                                    &SystemClock::Get());
  if (Status s = registrar.Start(); !s.ok()) return Fail(s);
  engine::SyncScheduler sync_scheduler(stores.metadata.get(), stores.tasks.get(), &sync_runner, {},
                                       &SystemClock::Get(), stores.bus.get());
  sync_scheduler.Start();

  std::atomic<bool> started{false};
  api::ApiDeps deps;
  deps.metadata = stores.metadata.get();
  deps.metrics = &metrics;
  deps.clock = &SystemClock::Get();
  deps.docs_dir = config.GetString("docs.assets_dir");
  if (deps.docs_dir.empty()) deps.docs_dir = ARGUS_DEFAULT_DOCS_DIR;
  deps.tasks = stores.tasks.get();
  deps.events = stores.events.get();
  deps.bus = stores.bus.get();
  deps.max_pending_per_namespace = config.GetInt("tasks.max_pending_per_namespace");
  deps.catalog = stores.catalog.get();
  deps.webhooks = stores.webhooks.get();
  deps.webhooks_allow_private_targets = dispatcher_options->sender.allow_private_targets;
  deps.webhook_max_attempts = dispatcher_options->max_attempts;
  deps.blobs = stores.blobs.get();
  deps.max_object_bytes = max_object_bytes;
  deps.max_metadata_bytes = static_cast<size_t>(config.GetInt("objects.max_metadata_bytes"));
  deps.sniff = ingest.sniff;
  deps.upload_expire_s = config.GetDouble("uploads.expire_s");
  deps.sources = &registry.sources;
  deps.sync_allowed_roots = sync_options.allowed_roots;
  deps.sync_allow_private_endpoints = sync_options.allow_private_endpoints;
#ifdef ARGUS_WITH_ORT
  auto inference = StartInference(config, stores.blobs.get(), &metrics);
  deps.inference = inference.get();
#endif
  deps.inference_max_body_bytes = config.GetInt("inference.max_body_bytes");
  deps.inference_timeout_s = config.GetDouble("inference.timeout_s");
  deps.thumbnail_max_source_bytes = config.GetInt("images.max_bytes");
  store::MetadataStore* md = stores.metadata.get();
  store::InferenceService* models =
      config.GetBool("inference.preload") ? deps.inference : nullptr;  // gate /readyz on warm-up
  deps.readiness = [md, models, &started]() {
    std::vector<std::pair<std::string, std::string>> checks;
    Status ping = md->Ping();
    checks.emplace_back("metadata", ping.ok() ? "ok" : std::string(ping.message()));
    checks.emplace_back("startup", started.load() ? "ok" : "starting");
    if (models != nullptr) checks.emplace_back("models", models->Warm() ? "ok" : "warming up");
    return checks;
  };
  auto service = api::ApiService::Create(config, std::move(deps));
  if (!service.ok()) return Fail(service.status());

  auto http_options = HttpOptionsFromConfig(config);
  if (!http_options.ok()) return Fail(http_options.status());
  const api::HttpServerOptions& http = *http_options;
  auto server = api::HttpServer::Create(http, service->get());
  if (!server.ok()) return Fail(server.status());
  (*server)->Start();

  std::string url = "http://" +
                    (http.host.find(':') != std::string::npos ? "[" + http.host + "]" : http.host) +
                    ":" + std::to_string((*server)->port());
  // Tests and scripts read the bound address from here (useful with port 0).
  if (Status s = WriteFileAtomic(data_dir + "/listen.addr", url + "\n", 0644); !s.ok()) {
    return Fail(s);
  }
  started = true;
  log::Info("argus serve is listening", {{"url", url},
                                         {"data_dir", data_dir},
                                         {"io_threads", http.io_threads},
                                         {"blocking_threads", http.blocking_threads},
                                         {"version", GetBuildInfo().version},
                                         {"pid", static_cast<int>(getpid())}});

  int sig = 0;
  sigwait(&stop_signals, &sig);
  auto drain = std::chrono::milliseconds(
      static_cast<int64_t>(config.GetDouble("server.drain_timeout_s") * 1000));
  log::Info("stopping: draining in-flight requests",
            {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"},
             {"drain_timeout_ms", static_cast<int64_t>(drain.count())},
             {"connections", (*server)->ActiveConnections()}});
  (*service)->Shutdown();  // answer waiting calls before connections drain
  size_t cut = (*server)->Shutdown(drain);
#ifdef ARGUS_WITH_ORT
  // Answers every inference request still queued or running while the API it answers through
  // is alive (its callbacks end in ApiService and the HTTP server).
  inference.reset();
#endif
  sync_scheduler.Stop();
  workers.Stop(drain);
  registrar.Stop();
  dispatcher.Stop(std::min(drain, std::chrono::milliseconds(2000)));
  collector.Stop();
  server->reset();
  service->reset();
  stores.Close();
  std::filesystem::remove(data_dir + "/listen.addr");
  log::Info("stopped", {{"connections_cut", cut}});
  log::Shutdown();
  return 0;
}

}  // namespace argus::server
