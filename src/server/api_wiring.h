// The API half of `argus serve`: what the HTTP API is given, from the stores and the engine's
// settings. The engine half is engine_wiring.h.
#pragma once

#include <atomic>

#include "api/api_service.h"
#include "core/config.h"
#include "core/metrics.h"
#include "server/engine_wiring.h"
#include "server/stores.h"
#include "store/store_registry.h"

namespace argus::server {

/// The API's dependencies: the stores, the settings it shares with the engine (webhook targets,
/// object limits, sync roots), the inference service, and /readyz's checks (`started` says when
/// start-up is done). Everything is borrowed and outlives the API.
api::ApiDeps ApiDepsFor(const Config& config, Stores& stores, const Engine& engine,
                        const store::StoreRegistry& registry, MetricsRegistry* metrics,
                        const std::atomic<bool>* started);

}  // namespace argus::server
