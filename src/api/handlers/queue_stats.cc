#include "api/handlers/queue_stats.h"

#include <algorithm>
#include <map>
#include <string>

namespace argus::api {

namespace {

constexpr int kPageSize = 1000;  // the largest page List serves

}  // namespace

Result<std::vector<store::QueueStats>> NamespaceQueueStats(store::TaskQueue& tasks,
                                                           std::string_view namespace_id,
                                                           TimestampUs now) {
  std::map<std::string, store::QueueStats> by_queue;
  std::map<std::string, TimestampUs> oldest_pending;
  for (store::TaskStatus status :
       {store::TaskStatus::kPending, store::TaskStatus::kScheduled, store::TaskStatus::kRunning}) {
    store::TaskFilter filter;
    filter.namespace_id = std::string(namespace_id);
    filter.status = status;
    store::PageRequest page{.after_id = "", .limit = kPageSize};
    do {
      ARGUS_ASSIGN_OR_RETURN(auto got, tasks.List(filter, page));
      for (const store::Task& t : got.items) {
        store::QueueStats& q = by_queue[t.queue];
        if (status == store::TaskStatus::kPending) {
          ++q.pending;
          auto [it, first] = oldest_pending.emplace(t.queue, t.run_at);
          if (!first) it->second = std::min(it->second, t.run_at);
        } else if (status == store::TaskStatus::kScheduled) {
          ++q.scheduled;
        } else {
          ++q.running;
        }
      }
      page.after_id = std::move(got.next_after_id);
    } while (!page.after_id.empty());
  }
  if (by_queue.empty()) return std::vector<store::QueueStats>{};
  // Paused is a property of the queue, not of a tenant's tasks in it.
  ARGUS_ASSIGN_OR_RETURN(auto global, tasks.Stats());
  for (const store::QueueStats& g : global) {
    if (auto it = by_queue.find(g.queue); it != by_queue.end()) it->second.paused = g.paused;
  }
  std::vector<store::QueueStats> out;
  out.reserve(by_queue.size());
  for (auto& [queue, stats] : by_queue) {
    stats.queue = queue;
    if (auto it = oldest_pending.find(queue); it != oldest_pending.end()) {
      stats.oldest_pending_s = std::max<double>(0, static_cast<double>(now - it->second) / 1e6);
    }
    out.push_back(std::move(stats));
  }
  return out;
}

}  // namespace argus::api
