#include "server/options.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "core/log.h"

namespace argus::server {

Status ParseListen(const std::string& listen, std::string* host, uint16_t* port) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos) {
    return InvalidArgumentError("server.listen '" + listen + "' must be HOST:PORT");
  }
  *host = listen.substr(0, colon);
  if (host->size() >= 2 && host->front() == '[' && host->back() == ']') {
    *host = host->substr(1, host->size() - 2);
  }
  std::string port_text = listen.substr(colon + 1);
  char* end = nullptr;
  long p = std::strtol(port_text.c_str(), &end, 10);
  if (port_text.empty() || *end != '\0' || p < 0 || p > 65535) {
    return InvalidArgumentError("server.listen '" + listen + "' has a bad port");
  }
  *port = static_cast<uint16_t>(p);
  return OkStatus();
}

Result<api::HttpServerOptions> HttpOptionsFromConfig(const Config& config) {
  api::HttpServerOptions http;
  ARGUS_RETURN_IF_ERROR(ParseListen(config.GetString("server.listen"), &http.host, &http.port));
  int threads = static_cast<int>(config.GetInt("server.io_threads"));
  http.io_threads = threads > 0 ? threads : std::max(1u, std::thread::hardware_concurrency());
  http.max_body_bytes = static_cast<uint64_t>(config.GetInt("http.max_body_bytes"));
  http.max_header_bytes = static_cast<uint32_t>(config.GetInt("http.max_header_bytes"));
  http.read_timeout = std::chrono::milliseconds(
      static_cast<int64_t>(config.GetDouble("http.read_timeout_s") * 1000));
  http.max_connections =
      static_cast<size_t>(std::max<int64_t>(1, config.GetInt("http.max_connections")));
  http.stream_max_queued_bytes = static_cast<size_t>(
      std::max<int64_t>(64 * 1024, config.GetInt("http.stream_max_queued_bytes")));
  http.idle_timeout = std::chrono::milliseconds(
      static_cast<int64_t>(config.GetDouble("http.idle_timeout_s") * 1000));
  http.blocking_threads = static_cast<int>(config.GetInt("http.blocking_threads"));
  http.blocking_queue = static_cast<int>(config.GetInt("http.blocking_queue"));
  if (http.blocking_threads < 1 || http.blocking_threads > 1024) {
    return InvalidArgumentError("http.blocking_threads must be between 1 and 1024");
  }
  if (http.blocking_queue < 0 || http.blocking_queue > 100000) {
    return InvalidArgumentError("http.blocking_queue must be between 0 and 100000");
  }
  return http;
}

Result<engine::WorkerPoolOptions> WorkerOptionsFromConfig(const Config& config) {
  engine::WorkerPoolOptions options;
  options.concurrency = {{"cpu", static_cast<int>(config.GetInt("workers.cpu"))},
                         {"io", static_cast<int>(config.GetInt("workers.io"))}};
  options.retention_s = config.GetDouble("tasks.retention_s");
  options.max_crash_attempts = static_cast<int>(config.GetInt("tasks.max_crash_attempts"));
  options.lease_s = config.GetDouble("tasks.lease_s");
  options.prefetch.max_prefetch = static_cast<int>(config.GetInt("tasks.max_prefetch"));
  if (!(options.lease_s >= 0.1 && options.lease_s <= 86400)) {
    return InvalidArgumentError("tasks.lease_s must be between 0.1 and 86400 seconds");
  }
  if (options.max_crash_attempts < 0) {
    return InvalidArgumentError("tasks.max_crash_attempts must be 0 or more");
  }
  if (options.prefetch.max_prefetch < 0 || options.prefetch.max_prefetch > 1000) {
    return InvalidArgumentError("tasks.max_prefetch must be between 0 and 1000");
  }
  return options;
}

engine::SyncRunOptions SyncOptionsFromConfig(const Config& config) {
  engine::SyncRunOptions options;
  options.stable_s = config.GetDouble("syncs.stable_s");
  options.allow_private_endpoints = config.GetBool("syncs.allow_private_endpoints");
  std::string list = config.GetString("syncs.allowed_roots");
  size_t at = 0;
  while (at <= list.size()) {
    size_t colon = std::min(list.find(':', at), list.size());
    std::string root = list.substr(at, colon - at);
    at = colon + 1;
    if (root.empty()) continue;
    std::error_code ec;
    auto canonical = std::filesystem::canonical(root, ec);
    if (ec || !std::filesystem::is_directory(canonical, ec)) {
      log::Warn("a syncs.allowed_roots entry is not a directory; left out", {{"root", root}});
      continue;
    }
    options.allowed_roots.push_back(canonical.string());
  }
  return options;
}

int64_t MaxObjectBytes(const Config& config, const store::StoreRegistry& registry) {
  int64_t max_object_bytes = config.GetInt("objects.max_object_bytes");
  if (auto caps = registry.blobs.CapabilitiesOf(config.GetString("blobs.backend"));
      caps.ok() && caps->max_blob_bytes > 0 &&
      (max_object_bytes <= 0 || max_object_bytes > caps->max_blob_bytes)) {
    log::Warn("objects.max_object_bytes is above what the blob backend stores; lowered",
              {{"configured", max_object_bytes}, {"limit", caps->max_blob_bytes}});
    max_object_bytes = caps->max_blob_bytes;
  }
  return max_object_bytes;
}

}  // namespace argus::server
