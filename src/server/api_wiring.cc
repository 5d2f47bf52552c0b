#include "server/api_wiring.h"

namespace argus::server {

api::ApiDeps ApiDepsFor(const Config& config, Stores& stores, const Engine& engine,
                        const store::StoreRegistry& registry, MetricsRegistry* metrics,
                        const std::atomic<bool>* started) {
  api::ApiDeps deps;
  deps.namespaces = stores.metadata.get();
  deps.keys = stores.metadata.get();
  deps.buckets = stores.metadata.get();
  deps.syncs = stores.metadata.get();
  deps.collections = stores.metadata.get();
  deps.documents = stores.metadata.get();
  deps.text = stores.metadata.get();
  deps.batches = stores.metadata.get();
  deps.references = stores.metadata.get();
  deps.metrics = metrics;
  deps.clock = &SystemClock::Get();
  deps.docs_dir = config.GetString("docs.assets_dir");
  if (deps.docs_dir.empty()) deps.docs_dir = ARGUS_DEFAULT_DOCS_DIR;
  deps.tasks = stores.tasks.get();
  deps.events = stores.events.get();
  deps.bus = stores.bus.get();
  deps.max_pending_per_namespace = config.GetInt("tasks.max_pending_per_namespace");
  deps.catalog = stores.catalog.get();
  deps.webhooks = stores.webhooks.get();
  deps.webhooks_allow_private_targets = engine.dispatcher_options().sender.allow_private_targets;
  deps.webhook_max_attempts = engine.dispatcher_options().max_attempts;
  deps.blobs = stores.blobs.get();
  deps.max_object_bytes = engine.ingest().max_object_bytes;
  deps.max_metadata_bytes = static_cast<size_t>(config.GetInt("objects.max_metadata_bytes"));
  deps.sniff = engine.ingest().sniff;
  deps.upload_expire_s = config.GetDouble("uploads.expire_s");
  deps.sources = &registry.sources;
  deps.sync_allowed_roots = engine.sync_options().allowed_roots;
  deps.sync_allow_private_endpoints = engine.sync_options().allow_private_endpoints;
  deps.inference = engine.inference();
  deps.inference_max_body_bytes = config.GetInt("inference.max_body_bytes");
  deps.inference_timeout_s = config.GetDouble("inference.timeout_s");
  deps.thumbnail_max_source_bytes = config.GetInt("images.max_bytes");
  store::MetadataStore* md = stores.metadata.get();
  store::InferenceService* models =
      config.GetBool("inference.preload") ? deps.inference : nullptr;  // gate /readyz on warm-up
  deps.readiness = [md, models, started]() {
    std::vector<std::pair<std::string, std::string>> checks;
    Status ping = md->Ping();
    checks.emplace_back("metadata", ping.ok() ? "ok" : std::string(ping.message()));
    checks.emplace_back("startup", started->load() ? "ok" : "starting");
    if (models != nullptr) checks.emplace_back("models", models->Warm() ? "ok" : "warming up");
    return checks;
  };
  return deps;
}

}  // namespace argus::server
