#include "api/task_catalog_view.h"

#include <algorithm>

namespace argus::api {

TaskKindCache::TaskKindCache(store::TaskCatalog* catalog, const Clock* clock, double refresh_s)
    : catalog_(catalog), clock_(clock), refresh_us_(static_cast<int64_t>(refresh_s * 1e6)) {}

Status TaskKindCache::Refresh(bool force) {
  const TimestampUs now = clock_->NowUs();
  {
    std::lock_guard lock(mu_);
    if (!force && !stale_ && kinds_ != nullptr && now - read_at_ < refresh_us_) return OkStatus();
    stale_ = false;
  }
  ARGUS_ASSIGN_OR_RETURN(auto entries, catalog_->ListKinds());
  auto kinds = std::make_shared<Kinds>();
  std::shared_ptr<const Kinds> old;
  {
    std::lock_guard lock(mu_);
    old = kinds_;
  }
  for (auto& entry : entries) {
    // Unchanged kinds keep their compiled schema.
    if (old != nullptr) {
      auto it = old->find(entry.kind);
      if (it != old->end() && it->second->entry.updated_at == entry.updated_at &&
          it->second->entry.input_schema_json == entry.input_schema_json) {
        kinds->emplace(entry.kind, it->second);
        continue;
      }
    }
    auto known = std::make_shared<KnownKind>();
    auto schema = Json::parse(entry.input_schema_json, nullptr, false);
    auto compiled = schema.is_discarded() ? Result<JsonSchema>(InvalidArgumentError("not JSON"))
                                          : JsonSchema::Compile(schema);
    if (compiled.ok()) {
      known->input_schema = std::make_shared<const JsonSchema>(std::move(compiled).value());
    } else {
      known->schema_error = std::string(compiled.status().message());
    }
    std::string name = entry.kind;
    known->entry = std::move(entry);
    kinds->emplace(std::move(name), std::move(known));
  }
  std::lock_guard lock(mu_);
  kinds_ = std::move(kinds);
  read_at_ = now;
  return OkStatus();
}

void TaskKindCache::Invalidate() {
  std::lock_guard lock(mu_);
  stale_ = true;
}

Result<std::shared_ptr<const KnownKind>> TaskKindCache::Find(std::string_view kind) {
  Status refreshed = Refresh(false);
  std::lock_guard lock(mu_);
  if (kinds_ == nullptr) return refreshed;  // never read: the error
  auto it = kinds_->find(kind);
  if (it == kinds_->end()) return std::shared_ptr<const KnownKind>();
  return it->second;
}

Result<std::vector<std::shared_ptr<const KnownKind>>> TaskKindCache::List() {
  ARGUS_RETURN_IF_ERROR(Refresh(true));
  std::lock_guard lock(mu_);
  std::vector<std::shared_ptr<const KnownKind>> out;
  for (const auto& [name, kind] : *kinds_) out.push_back(kind);
  return out;
}

WorkerDirectory::WorkerDirectory(store::TaskCatalog* catalog, const Clock* clock,
                                 double touch_every_s)
    : catalog_(catalog),
      clock_(clock),
      touch_every_us_(static_cast<int64_t>(touch_every_s * 1e6)) {}

Status WorkerDirectory::TouchExternal(const std::string& namespace_id,
                                      const std::string& namespace_name, const std::string& id,
                                      const std::string& host,
                                      const std::vector<std::string>& queues) {
  const TimestampUs now = clock_->NowUs();
  {
    std::lock_guard lock(mu_);
    auto it = written_.find({namespace_id, id});
    if (it != written_.end() && it->second.host == host &&
        (queues.empty() || it->second.queues == queues) && now - it->second.at < touch_every_us_) {
      return OkStatus();
    }
  }
  store::WorkerRecord w;
  w.id = id;
  w.namespace_id = namespace_id;
  w.namespace_name = namespace_name;
  w.host = host;
  w.external = true;
  w.queues = queues;
  w.state = "external";
  ARGUS_RETURN_IF_ERROR(catalog_->Heartbeat({w}));
  std::lock_guard lock(mu_);
  if (written_.size() > 10000)
    written_.clear();  // a bound, not a cache policy: rewrites cost little
  written_[{namespace_id, id}] = {host, queues, now};
  return OkStatus();
}

Result<Json> WorkerDirectory::ToJson(const std::optional<std::string>& namespace_id) {
  const TimestampUs since = clock_->NowUs() - static_cast<int64_t>(kListedForS * 1e6);
  std::optional<std::string_view> filter;
  if (namespace_id) filter = *namespace_id;
  ARGUS_ASSIGN_OR_RETURN(auto workers, catalog_->ListWorkers(filter, since));
  std::stable_sort(workers.begin(), workers.end(),
                   [](const auto& a, const auto& b) { return !a.external && b.external; });
  Json items = Json::array();
  for (const auto& w : workers) {
    Json item = {{"id", w.id},
                 {"host", w.host},
                 {"queues", w.queues},
                 {"state", w.state},
                 {"last_heartbeat", FormatRfc3339(w.last_heartbeat)}};
    if (w.external) {
      item["namespace"] = w.namespace_name.empty() ? Json(nullptr) : Json(w.namespace_name);
    } else {
      item["slots"] = w.slots;
      item["running_tasks"] = w.running;
      item["completed_tasks"] = w.completed;
      item["started_at"] = FormatRfc3339(w.started_at);
    }
    items.push_back(std::move(item));
  }
  return items;
}

}  // namespace argus::api
