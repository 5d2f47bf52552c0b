#include "api/event_streams.h"

#include "core/log.h"

namespace argus::api {

namespace {

constexpr auto kTick = std::chrono::milliseconds(20);
constexpr auto kKeepAlive = std::chrono::seconds(15);
constexpr int kPage = 500;

}  // namespace

std::string EventJsonText(const store::TaskEvent& e) {
  // The stored data is already JSON text: splice it in rather than parse and dump it again.
  std::string out = "{\"id\":\"";
  out += std::to_string(e.seq);
  out += "\",\"type\":";
  out += Json(e.type).dump(-1, ' ', false, Json::error_handler_t::replace);
  out += ",\"data\":";
  out += e.data_json;
  out += ",\"created_at\":\"";
  out += FormatRfc3339(e.created_at);
  out += "\"}";
  return out;
}

EventStreams::EventStreams(store::TaskQueue* tasks) : tasks_(tasks) {
  thread_ = std::thread([this] { Run(); });
}

EventStreams::~EventStreams() {
  Shutdown();
  if (thread_.joinable()) thread_.join();
}

int64_t EventStreams::Head() {
  auto head = tasks_->LastEventSeq();
  return head.ok() ? *head : 0;
}

void EventStreams::Subscribe(Filter filter, int64_t after_seq, std::shared_ptr<StreamSink> sink,
                             Format format) {
  // An opening comment makes clients (and proxies) see the stream start at once.
  if (format == Format::kSse) sink->Write(": argus event stream\n\n");
  std::lock_guard lock(mu_);
  if (stopping_) {
    sink->Close();
    return;
  }
  subscribers_.push_back(std::make_shared<Subscriber>(Subscriber{
      std::move(filter), after_seq, std::move(sink), std::chrono::steady_clock::now(), format}));
  cv_.notify_all();
}

void EventStreams::Shutdown() {
  std::vector<std::shared_ptr<Subscriber>> subs;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    subs.swap(subscribers_);
  }
  cv_.notify_all();
  for (auto& s : subs) s->sink->Close();
}

bool EventStreams::Serve(Subscriber& s) {
  for (;;) {
    auto events = tasks_->ReadEvents(s.cursor, kPage);
    if (!events.ok()) {
      log::Warn("event stream cannot read events", {{"error", events.status().ToString()}});
      return true;  // try again next tick
    }
    std::string out;
    for (const auto& e : *events) {
      s.cursor = e.seq;
      const Filter& f = s.filter;
      if (!f.namespace_id.empty() && e.namespace_id != f.namespace_id) continue;
      if (!f.types.empty() && !f.types.count(e.type)) continue;
      if (!f.task_ids.empty() && !f.task_ids.count(e.task_id)) continue;
      if (s.format == Format::kJsonFrames) {
        if (!s.sink->Write(EventJsonText(e))) {
          return false;
        }
        continue;
      }
      out += "id: " + std::to_string(e.seq) + "\nevent: " + e.type + "\ndata: ";
      out += EventJsonText(e);
      out += "\n\n";
    }
    auto now = std::chrono::steady_clock::now();
    if (s.format == Format::kSse && out.empty() && now - s.last_write >= kKeepAlive) {
      out = ": keep-alive\n\n";
    }
    if (!out.empty()) {
      if (!s.sink->Write(std::move(out))) return false;
      s.last_write = now;
    }
    if (static_cast<int>(events->size()) < kPage) return true;
  }
}

void EventStreams::Run() {
  for (;;) {
    std::vector<std::shared_ptr<Subscriber>> subs;
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, subscribers_.empty() ? std::chrono::milliseconds(500) : kTick);
      if (stopping_) return;
      subs = subscribers_;
    }
    std::vector<Subscriber*> gone;
    for (auto& s : subs) {
      if (!Serve(*s)) gone.push_back(s.get());
    }
    if (gone.empty()) continue;
    std::lock_guard lock(mu_);
    std::erase_if(subscribers_, [&](const std::shared_ptr<Subscriber>& s) {
      for (auto* g : gone) {
        if (g == s.get()) return true;
      }
      return false;
    });
  }
}

}  // namespace argus::api
