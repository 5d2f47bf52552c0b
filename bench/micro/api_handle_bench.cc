// Userland cost of one API request without the network: ApiService::Handle on the two routes
// of bench/http. Shows where per-request time goes apart from sockets and the kernel.
#include <benchmark/benchmark.h>

#include <filesystem>

#include "api/api_service.h"
#include "api/auth/authenticator.h"
#include "core/id.h"
#include "core/json_schema.h"
#include "store/sqlite/register.h"

namespace argus {
namespace {

struct Fixture {
  Fixture() {
    dir = std::filesystem::temp_directory_path().string() + "/argus-bench-" + NewId();
    std::filesystem::create_directories(dir);
    (void)store::sqlite::RegisterSqliteStores(registry);
    config.Set("http.access_log", "false", "bench").IgnoreError();
    // One key at millions of calls/s: the default rate limit would measure the limiter.
    config.Set("rate_limit.per_key_rps", "0", "bench").IgnoreError();
    config.Set("rate_limit.per_ip_rps", "0", "bench").IgnoreError();
    store =
        std::move(registry.metadata.Create("sqlite", {&config, dir, &SystemClock::Get()})).value();
    api::NewKeySecret s = api::KeySecretFrom("bench-key-0123456789abcdefghijklmnopqrstuvwxyz");
    store::ApiKey k;
    k.id = NewId();
    k.name = "bench";
    k.role = store::Role::kAdmin;
    k.prefix = s.prefix;
    k.hash = s.hash;
    store->CreateApiKey(k).status().IgnoreError();
    api::ApiDeps deps;
    deps.namespaces = store.get();
    deps.keys = store.get();
    deps.buckets = store.get();
    deps.syncs = store.get();
    deps.references = store.get();
    deps.metrics = &metrics;
    deps.clock = &SystemClock::Get();
    service = std::move(api::ApiService::Create(config, deps)).value();
  }
  ~Fixture() { std::filesystem::remove_all(dir); }

  std::string dir;
  Config config;
  MetricsRegistry metrics;
  store::StoreRegistry registry;
  std::unique_ptr<store::MetadataStore> store;
  std::unique_ptr<api::ApiService> service;
};

Fixture& GetFixture() {
  static Fixture f;
  return f;
}

const char kEchoBody[] =
    R"({"name":"camera-entrance-01","values":[0.12,0.56,0.98,1.5,2.25,3.0],)"
    R"("tags":["lobby","north","hd"],"enabled":true,)"
    R"("attributes":{"site":"berlin-03","model":"x200","firmware":"4.2.1"},"count":42})";

void RunRoute(benchmark::State& state, const char* method, const char* target, const char* body) {
  auto& f = GetFixture();
  api::HttpRequest req;
  req.method = method;
  req.target = target;
  req.path = req.target;
  req.headers = {{"host", "127.0.0.1"},
                 {"authorization", "Bearer bench-key-0123456789abcdefghijklmnopqrstuvwxyz"},
                 {"content-type", "application/json"}};
  req.body = body;
  req.peer_ip = "127.0.0.1";
  api::HttpResponse res;
  for (auto _ : state) {
    res.Clear();
    f.service->Handle(req, res);
    benchmark::DoNotOptimize(res.body.data());
  }
  if (res.status != 200) state.SkipWithError("route did not answer 200");
}

void BM_Whoami(benchmark::State& state) { RunRoute(state, "GET", "/v1/whoami", ""); }
void BM_Echo(benchmark::State& state) {
  RunRoute(state, "POST", "/v1/diagnostics/echo", kEchoBody);
}
void BM_ParseEchoBody(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(ParseJson(kEchoBody));
}
void BM_DumpEchoBody(benchmark::State& state) {
  Json j = *ParseJson(kEchoBody);
  for (auto _ : state) benchmark::DoNotOptimize(j.dump());
}

BENCHMARK(BM_Whoami);
BENCHMARK(BM_Echo);
BENCHMARK(BM_ParseEchoBody);
BENCHMARK(BM_DumpEchoBody);

}  // namespace
}  // namespace argus

BENCHMARK_MAIN();
