#pragma once

#include "core/result.h"
#include "domain/cascading_delete.h"
#include "engine/worker/task_kinds.h"

namespace argus::engine {

/// Registers the internal kinds namespace.delete and bucket.delete, which run the domain's
/// cascading deletes on `ctx` (borrowed; outlives the registry's use).
Status RegisterDeleteKinds(TaskKindRegistry& kinds, domain::CascadeContext ctx);

}  // namespace argus::engine
