// The options of `argus serve`'s parts, read from the configuration: each checked here, so a bad
// value stops start-up with InvalidArgument naming its key.
#pragma once

#include <cstdint>
#include <string>

#include "api/http/http_server.h"
#include "core/config.h"
#include "core/result.h"
#include "engine/syncs/sync_runner.h"
#include "engine/worker/worker_pool.h"
#include "store/store_registry.h"

namespace argus::server {

/// "HOST:PORT" (an IPv6 host in brackets: "[::1]:7070") into its parts; port 0 asks the kernel.
Status ParseListen(const std::string& listen, std::string* host, uint16_t* port);

/// server.listen, server.io_threads (0: one per core) and http.*.
Result<api::HttpServerOptions> HttpOptionsFromConfig(const Config& config);

/// workers.cpu and workers.io, tasks.lease_s, tasks.max_crash_attempts, tasks.max_prefetch,
/// tasks.retention_s.
Result<engine::WorkerPoolOptions> WorkerOptionsFromConfig(const Config& config);

/// syncs.*: syncs.allowed_roots is a colon-separated list of directories, each made canonical
/// (one that is not a directory is left out, with a warning).
engine::SyncRunOptions SyncOptionsFromConfig(const Config& config);

/// objects.max_object_bytes, lowered (with a warning) to what the configured blob backend can
/// store.
int64_t MaxObjectBytes(const Config& config, const store::StoreRegistry& registry);

}  // namespace argus::server
