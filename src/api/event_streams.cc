#include "api/event_streams.h"

#include <algorithm>
#include <exception>

#include "core/log.h"
#include "core/thread_name.h"

namespace argus::api {

namespace {

constexpr auto kKeepAlive = std::chrono::seconds(15);
constexpr int kPage = 500;

bool Matches(const EventStreams::Filter& f, const store::Event& e) {
  if (!f.namespace_id.empty() && e.namespace_id != f.namespace_id) return false;
  if (!f.types.empty() && !f.types.count(e.type)) return false;
  if (!f.task_ids.empty() && !f.task_ids.count(e.subject_id)) return false;
  return true;
}

}  // namespace

std::string EventJsonText(const store::Event& e) {
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

EventStreams::EventStreams(store::EventLog* log, store::EventBus* bus) : log_(log) {
  // Subscribe first, then read the head: every event after the head is then sure to reach the
  // ring (some at or below it may too; subscribers skip what they have seen).
  subscription_ = bus->Subscribe([this](const store::EventBatch& batch) {
    {
      std::lock_guard lock(mu_);
      published_.push_back(batch);
    }
    cv_.notify_one();
  });
  auto head = log_->LastSeq();
  ring_floor_ = head.ok() ? *head : 0;
  thread_ = std::thread([this] {
    SetThreadName("argus-streams");
    Run();
  });
}

EventStreams::~EventStreams() {
  Shutdown();
  subscription_.reset();
  if (thread_.joinable()) thread_.join();
}

int64_t EventStreams::Head() {
  auto head = log_->LastSeq();
  return head.ok() ? *head : 0;
}

int64_t EventStreams::LogReadsForTest() const {
  std::lock_guard lock(mu_);
  return log_reads_;
}

void EventStreams::Subscribe(Filter filter, int64_t after_seq, std::shared_ptr<StreamSink> sink,
                             Format format) {
  // An opening comment makes clients (and proxies) see the stream start at once.
  if (format == Format::kSse) sink->Write(": argus event stream\n\n");
  {
    std::lock_guard lock(mu_);
    if (!stopping_) {
      subscribers_.push_back(std::make_shared<Subscriber>(Subscriber{
          std::move(filter), after_seq, sink, std::chrono::steady_clock::now(), format}));
      joined_ = true;
      sink = nullptr;
    }
  }
  if (sink) {
    sink->Close();
    return;
  }
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

void EventStreams::TakePublished() {
  for (const store::EventBatch& batch : published_) {
    for (const store::Event& e : *batch) {
      if (!ring_.empty() && e.seq <= ring_.back().seq) continue;
      if (e.seq <= ring_floor_) continue;
      ring_.push_back(e);
    }
  }
  published_.clear();
  while (ring_.size() > kRingEvents) {
    ring_floor_ = ring_.front().seq;
    ring_.pop_front();
  }
}

bool EventStreams::Send(Subscriber& s, const std::vector<const store::Event*>& events) {
  std::string out;
  for (const store::Event* e : events) {
    if (s.format == Format::kJsonFrames) {
      if (!s.sink->Write(EventJsonText(*e))) return false;
      continue;
    }
    out += "id: ";
    out += std::to_string(e->seq);
    out += "\nevent: ";
    out += e->type;
    out += "\ndata: ";
    out += EventJsonText(*e);
    out += "\n\n";
  }
  auto now = std::chrono::steady_clock::now();
  if (s.format == Format::kSse && out.empty() && events.empty() &&
      now - s.last_write >= kKeepAlive) {
    out = ": keep-alive\n\n";
  }
  if (!out.empty()) {
    if (!s.sink->Write(std::move(out))) return false;
    s.last_write = now;
  }
  return true;
}

bool EventStreams::Serve(Subscriber& s, const std::deque<store::Event>& ring, int64_t ring_floor) {
  std::vector<const store::Event*> matched;
  // Catch up from the log while the cursor is older than the ring.
  while (s.cursor < ring_floor) {
    auto page = log_->Read(s.cursor, kPage);
    {
      std::lock_guard lock(mu_);
      ++log_reads_;
    }
    if (!page.ok()) {
      log::Warn("event stream cannot read events", {{"error", page.status().ToString()}});
      return true;  // try again on the next wake-up
    }
    matched.clear();
    bool reached_ring = static_cast<int>(page->size()) < kPage;
    for (const store::Event& e : *page) {
      if (e.seq > ring_floor) {
        reached_ring = true;
        break;
      }
      s.cursor = e.seq;
      if (Matches(s.filter, e)) matched.push_back(&e);
    }
    if (!Send(s, matched)) return false;
    // Every event up to ring_floor is committed: what the log did not return is purged.
    if (reached_ring) s.cursor = std::max(s.cursor, ring_floor);
  }
  matched.clear();
  // The ring is in seq order: skip what the subscriber has seen.
  auto it = std::upper_bound(ring.begin(), ring.end(), s.cursor,
                             [](int64_t seq, const store::Event& e) { return seq < e.seq; });
  for (; it != ring.end(); ++it) {
    s.cursor = it->seq;
    if (Matches(s.filter, *it)) matched.push_back(&*it);
  }
  return Send(s, matched);
}

void EventStreams::Run() {
  for (;;) {
    std::vector<std::shared_ptr<Subscriber>> subs;
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, kKeepAlive,
                   [this] { return stopping_ || joined_ || !published_.empty(); });
      if (stopping_) return;
      joined_ = false;
      TakePublished();
      subs = subscribers_;
    }
    std::vector<Subscriber*> gone;
    for (auto& s : subs) {
      try {
        if (!Serve(*s, ring_, ring_floor_)) gone.push_back(s.get());
      } catch (const std::exception& e) {
        log::Error("an event stream failed; it is closed", {{"error", e.what()}});
        gone.push_back(s.get());
      }
    }
    if (gone.empty()) continue;
    std::vector<std::shared_ptr<Subscriber>> closed;
    {
      std::lock_guard lock(mu_);
      std::erase_if(subscribers_, [&](const std::shared_ptr<Subscriber>& s) {
        for (auto* g : gone) {
          if (g == s.get()) {
            closed.push_back(s);
            return true;
          }
        }
        return false;
      });
    }
    for (auto& s : closed) s->sink->Close();
  }
}

}  // namespace argus::api
