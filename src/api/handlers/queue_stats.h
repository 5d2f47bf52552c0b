#pragma once

#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "store/task_queue.h"

namespace argus::api {

/// The queue figures of one namespace, as GET /v1/queues shows them to a namespace's key: only
/// its own pending, scheduled and running tasks, and only the queues it has such tasks in (a
/// queue name another tenant chose is not shown). `paused` is the queue's global state.
///
/// The TaskQueue contract has only the global `Stats()`, so the counts are read page by page
/// through `TaskQueue::List` (cost: one query per 1,000 unfinished tasks of the namespace).
/// TODO(#13): use a per-namespace `TaskQueue::Stats(namespace_id)` once the contract has it.
///
/// Thread-safe as `tasks` is. Errors: whatever `List` or `Stats` return.
Result<std::vector<store::QueueStats>> NamespaceQueueStats(store::TaskQueue& tasks,
                                                           std::string_view namespace_id,
                                                           TimestampUs now);

}  // namespace argus::api
