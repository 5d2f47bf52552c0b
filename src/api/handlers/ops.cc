#include <fstream>
#include <mutex>
#include <sstream>

#include "api/handlers/handlers.h"
#include "core/build_info.h"

namespace argus::api {

namespace {

// The docs page: swagger-ui from the installed npm package, served by us (no CDN).
constexpr std::string_view kDocsPage = R"(<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Argus API</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true});
  </script>
</body>
</html>
)";

struct Asset {
  std::string_view name;
  std::string_view content_type;
};
constexpr Asset kAssets[] = {
    {"swagger-ui.css", "text/css; charset=utf-8"},
    {"swagger-ui-bundle.js", "text/javascript; charset=utf-8"},
    {"swagger-ui-standalone-preset.js", "text/javascript; charset=utf-8"},
    {"favicon-32x32.png", "image/png"},
};

// Docs assets are read on first use and kept: they never change while the server runs.
class AssetCache {
 public:
  explicit AssetCache(std::string dir) : dir_(std::move(dir)) {}
  Result<std::string> Get(std::string_view name) {
    std::lock_guard lock(mu_);
    auto it = cache_.find(std::string(name));
    if (it != cache_.end()) return it->second;
    std::ifstream in(dir_ + "/" + std::string(name), std::ios::binary);
    if (!in) {
      return NotFoundError("docs asset '" + std::string(name) + "' is not installed (run " +
                           "scripts/setup.sh, or set docs.assets_dir)");
    }
    std::ostringstream data;
    data << in.rdbuf();
    return cache_[std::string(name)] = data.str();
  }

 private:
  std::string dir_;
  std::mutex mu_;
  std::map<std::string, std::string> cache_;
};

const Json kStatusSchema = {
    {"type", "object"},
    {"required", {"status"}},
    {"properties", {{"status", {{"type", "string"}}}, {"checks", {{"type", "object"}}}}}};

}  // namespace

void AddOpsRoutes(Router& router, HandlerEnv env) {
  router.Add({.method = "GET",
              .pattern = "/healthz",
              .operation_id = "healthz",
              .summary = "Liveness: the process answers",
              .tag = "operations",
              .access = Access::kPublic,
              .response_schema = kStatusSchema,
              .never_blocks = true,
              .handler = [](RequestContext&) -> Result<ApiResponse> {
                return ApiResponse::Of(200, {{"status", "ok"}});
              }});
  router.Add({.method = "GET",
              .pattern = "/readyz",
              .operation_id = "readyz",
              .summary = "Readiness: stores reachable and start-up work done (503 otherwise)",
              .tag = "operations",
              .access = Access::kPublic,
              .response_schema = kStatusSchema,
              .handler = [env](RequestContext&) -> Result<ApiResponse> {
                Json checks = Json::object();
                bool ready = true;
                if (env.deps->readiness) {
                  for (const auto& [name, state] : env.deps->readiness()) {
                    checks[name] = state;
                    ready = ready && state == "ok";
                  }
                }
                return ApiResponse::Of(
                    ready ? 200 : 503,
                    {{"status", ready ? "ready" : "not_ready"}, {"checks", checks}});
              }});
  router.Add({.method = "GET",
              .pattern = "/metrics",
              .operation_id = "metrics",
              .summary = "Prometheus metrics (text exposition format)",
              .tag = "operations",
              .access = Access::kPublic,
              .response_content_type = "text/plain; version=0.0.4; charset=utf-8",
              .handler = [env](RequestContext&) -> Result<ApiResponse> {
                ApiResponse r;
                r.raw = env.deps->metrics->Render();
                return r;
              }});
  router.Add({.method = "GET",
              .pattern = "/openapi.json",
              .operation_id = "openapi",
              .summary = "This API's OpenAPI 3.1 description, generated from the route table",
              .tag = "operations",
              .access = Access::kPublic,
              .response_schema = {{"type", "object"}},
              .never_blocks = true,  // built in memory, once
              .handler = [env](RequestContext&) -> Result<ApiResponse> {
                // The route table is fixed once the server runs: build the document once.
                static const std::string doc = BuildOpenApi(*env.router).dump(2);
                ApiResponse r;
                r.raw = doc;
                r.content_type = "application/json";
                return r;
              }});
  router.Add({.method = "GET",
              .pattern = "/docs",
              .operation_id = "docs",
              .summary = "Interactive API documentation",
              .tag = "operations",
              .access = Access::kPublic,
              .response_content_type = "text/html; charset=utf-8",
              .never_blocks = true,
              .handler = [](RequestContext&) -> Result<ApiResponse> {
                ApiResponse r;
                r.raw = std::string(kDocsPage);
                return r;
              }});
  auto cache = std::make_shared<AssetCache>(env.deps->docs_dir);
  router.Add({.method = "GET",
              .pattern = "/docs/{asset}",
              .operation_id = "docsAsset",
              .summary = "Static files of the documentation viewer",
              .tag = "operations",
              .access = Access::kPublic,
              .response_content_type = "application/octet-stream",
              .handler = [cache](RequestContext& ctx) -> Result<ApiResponse> {
                std::string_view name = ctx.PathParam("asset");
                for (const auto& a : kAssets) {
                  if (a.name != name) continue;
                  ARGUS_ASSIGN_OR_RETURN(std::string data, cache->Get(name));
                  ApiResponse r;
                  r.raw = std::move(data);
                  r.content_type = std::string(a.content_type);
                  r.headers.emplace_back("Cache-Control", "public, max-age=3600");
                  return r;
                }
                return NotFoundError("no docs asset '" + std::string(name) + "'");
              }});
}

}  // namespace argus::api
