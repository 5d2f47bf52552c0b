#include "server/serve.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>

#include "api/api_service.h"
#include "api/auth/authenticator.h"
#include "api/http/http_server.h"
#include "core/build_info.h"
#include "core/file.h"
#include "core/id.h"
#include "core/log.h"
#include "domain/collection_spec.h"
#include "retrieval/vector_indexes.h"
#include "server/api_wiring.h"
#include "server/data_dir.h"
#include "server/engine_wiring.h"
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

// Every vector feature of every collection, for the vector indexes to keep built.
Result<std::vector<retrieval::IndexKey>> EveryFeature(store::MetadataStore& metadata,
                                                      store::InferenceService* inference) {
  std::vector<retrieval::IndexKey> out;
  if (inference == nullptr) return out;
  const auto targets = inference->Targets();
  store::PageRequest namespaces{.limit = 1000};
  for (;;) {
    ARGUS_ASSIGN_OR_RETURN(auto ns, metadata.ListNamespaces(namespaces));
    for (const auto& n : ns.items) {
      store::PageRequest collections{.limit = 1000};
      for (;;) {
        ARGUS_ASSIGN_OR_RETURN(auto page, metadata.ListCollections(n.id, collections));
        for (const auto& c : page.items) {
          for (const auto& f : domain::FeaturesOf(c, targets)) {
            auto metric = store::ParseVectorMetric(f.metric);
            auto storage = store::ParseVectorStorage(f.storage);
            if (!metric.ok() || !storage.ok()) continue;
            out.push_back({.collection_id = c.id,
                           .feature = f.address,
                           .dimension = f.dimension,
                           .metric = *metric,
                           .storage = *storage});
          }
        }
        if (page.next_after_id.empty()) break;
        collections.after_id = page.next_after_id;
      }
    }
    if (ns.next_after_id.empty()) break;
    namespaces.after_id = ns.next_after_id;
  }
  return out;
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

  auto engine = Engine::Start(config, stores, registry, metrics);
  if (!engine.ok()) return Fail(engine.status());
  std::atomic<bool> started{false};
  api::ApiDeps deps = ApiDepsFor(config, stores, **engine, registry, &metrics, &started);
  // The collections' vector indexes follow the documents' vector journal, saved under
  // <data_dir>/indexes so a restart reopens them instead of rebuilding them from the vectors.
  auto seconds = [&](const char* key) {
    return std::chrono::milliseconds(
        std::max<int64_t>(10, static_cast<int64_t>(config.GetDouble(key) * 1000)));
  };
  retrieval::VectorIndexes vector_indexes(
      stores.metadata.get(), &registry.vector_index,
      {.directory = data_dir + "/indexes",
       .catch_up_interval = seconds("indexes.catch_up_interval_s"),
       .save_interval = seconds("indexes.save_interval_s"),
       .list_features = [&stores, inference = deps.inference] {
         return EveryFeature(*stores.metadata, inference);
       }});
  vector_indexes.Start();
  metrics.AddCollector([&vector_indexes](std::string& out) {
    const auto states = vector_indexes.States();
    const std::vector<std::string> labels = {"collection_id", "feature"};
    out += "# HELP argus_vector_index_vectors Live vectors in a collection's feature index.\n";
    out += "# TYPE argus_vector_index_vectors gauge\n";
    for (const auto& s : states) {
      AppendSample(out, "argus_vector_index_vectors", labels, {s.key.collection_id, s.key.feature},
                   static_cast<double>(s.size));
    }
    out += "# HELP argus_vector_index_unsaved Whether an index holds changes its file does not.\n";
    out += "# TYPE argus_vector_index_unsaved gauge\n";
    for (const auto& s : states) {
      AppendSample(out, "argus_vector_index_unsaved", labels, {s.key.collection_id, s.key.feature},
                   s.seq != s.saved_seq ? 1 : 0);
    }
  });
  deps.vector_indexes = &vector_indexes;
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
  (*engine)->Stop(drain);
  server->reset();
  service->reset();
  if (Status s = vector_indexes.Stop(); !s.ok()) {
    log::Warn("a vector index could not be saved; it is rebuilt from the stored vectors",
              {{"error", std::string(s.message())}});
  }
  stores.Close();
  std::filesystem::remove(data_dir + "/listen.addr");
  log::Info("stopped", {{"connections_cut", cut}});
  log::Shutdown();
  return 0;
}

}  // namespace argus::server
