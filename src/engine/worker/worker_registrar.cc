#include "engine/worker/worker_registrar.h"

#include <unistd.h>

#include <set>

#include "core/log.h"

namespace argus::engine {
namespace {

std::string HostName() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0') return "local";
  return name;
}

std::chrono::milliseconds Millis(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
}

// Whether the registrations report the same figures (the heartbeat times aside).
bool SameFigures(const std::vector<store::WorkerRecord>& a,
                 const std::vector<store::WorkerRecord>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].id != b[i].id || a[i].state != b[i].state || a[i].running != b[i].running ||
        a[i].completed != b[i].completed || a[i].slots != b[i].slots) {
      return false;
    }
  }
  return true;
}

}  // namespace

WorkerRegistrar::WorkerRegistrar(store::TaskCatalog* catalog, const TaskKindRegistry* kinds,
                                 const WorkerPool* pool, RegistrarOptions options,
                                 const Clock* clock)
    : catalog_(catalog), kinds_(kinds), pool_(pool), options_(std::move(options)), clock_(clock) {
  if (options_.host.empty()) options_.host = HostName();
}

WorkerRegistrar::~WorkerRegistrar() { Stop(); }

std::vector<store::WorkerRecord> WorkerRegistrar::Records() const {
  std::vector<store::WorkerRecord> records;
  for (const WorkerInfo& w : pool_->Workers()) {
    store::WorkerRecord r;
    r.id = w.id;
    r.host = options_.host;
    r.queues = {w.queue};
    r.state = w.state;
    r.slots = w.slots;
    r.running = w.running;
    r.completed = w.completed;
    records.push_back(std::move(r));
  }
  return records;
}

Status WorkerRegistrar::Start() {
  std::set<std::string> served;
  for (const WorkerInfo& w : pool_->Workers()) served.insert(w.queue);
  std::vector<store::TaskKindEntry> entries;
  for (const std::string& name : kinds_->Names()) {
    const TaskKind* kind = kinds_->Find(name);
    entries.push_back({.kind = kind->name,
                       .description = kind->description,
                       .input_schema_json = kind->input_schema.dump(),
                       .internal = kind->internal,
                       .queues = {served.begin(), served.end()}});
  }
  ARGUS_RETURN_IF_ERROR(catalog_->PublishKinds(entries));
  // The thread compares with what was written here, not with what it sees when it starts: a
  // task finished in between is a change to write.
  std::vector<store::WorkerRecord> written = Records();
  ARGUS_RETURN_IF_ERROR(catalog_->Heartbeat(written));
  thread_ =
      std::thread([this, written = std::move(written)]() mutable { Run(std::move(written)); });
  return OkStatus();
}

void WorkerRegistrar::Stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
  std::vector<std::string> ids;
  for (const auto& r : Records()) ids.push_back(r.id);
  if (Status s = catalog_->Deregister("", ids); !s.ok()) {
    log::Warn("the workers could not be deregistered", {{"error", s.ToString()}});
  }
}

void WorkerRegistrar::Run(std::vector<store::WorkerRecord> written) {
  bool failing = false;
  using Steady = std::chrono::steady_clock;
  auto next_forget = Steady::now() + std::chrono::minutes(1);
  auto written_at = Steady::now();
  std::unique_lock lock(mu_);
  while (!cv_.wait_for(lock, Millis(options_.heartbeat_s), [this] { return stop_; })) {
    lock.unlock();
    try {
      std::vector<store::WorkerRecord> now = Records();
      Status s;
      if (failing || !SameFigures(now, written) ||
          Steady::now() - written_at >= Millis(options_.idle_heartbeat_s)) {
        s = catalog_->Heartbeat(now);
        if (s.ok()) {
          written = std::move(now);
          written_at = Steady::now();
        }
      }
      if (s.ok() && Steady::now() >= next_forget) {
        next_forget = Steady::now() + std::chrono::minutes(1);
        auto forgotten = catalog_->ForgetWorkers(
            clock_->NowUs() - static_cast<int64_t>(options_.forget_after_s * 1e6));
        s = forgotten.status();
      }
      if (!s.ok() && !failing) {
        log::Warn("worker heartbeats cannot be recorded", {{"error", s.ToString()}});
      } else if (s.ok() && failing) {
        log::Info("worker heartbeats are recorded again");
      }
      failing = !s.ok();
    } catch (const std::exception& e) {
      log::Error("the worker registrar threw; it goes on", {{"error", e.what()}});
    }
    lock.lock();
  }
}

}  // namespace argus::engine
