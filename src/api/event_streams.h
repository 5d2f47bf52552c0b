#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "api/http/http_types.h"
#include "store/event_bus.h"
#include "store/event_log.h"

namespace argus::api {

/// Live event streams (`GET /v1/events` as Server-Sent Events, `/v1/ws` frames). Each
/// subscriber follows the durable event log from its own cursor, so a client that reconnects
/// with `Last-Event-ID` resumes without loss for as long as the events are retained.
///
/// Live events come from the EventBus into a ring of the most recent ones; subscribers are
/// served from it, so an idle server with any number of streams reads nothing from the database,
/// and a busy one reads each event once. A subscriber whose cursor is older than the ring (a
/// resume, or one that fell behind) catches up from the EventLog page by page first. A client
/// that stops reading fills its connection's bounded send queue (the HTTP server's
/// stream_max_queued_bytes) and is disconnected; it resumes with its Last-Event-ID.
/// One thread serves all subscribers. Thread-safe.
class EventStreams {
 public:
  /// SSE text (`id:/event:/data:` blocks, keep-alive comments), or one JSON document per
  /// Write (WebSocket frames).
  enum class Format { kSse, kJsonFrames };

  struct Filter {
    std::string namespace_id;        ///< empty: every namespace (global admins)
    std::set<std::string> types;     ///< empty: every type
    std::set<std::string> task_ids;  ///< empty: every subject
  };

  /// The most recent events kept in memory for live subscribers.
  static constexpr size_t kRingEvents = 8192;

  /// `log` and `bus` are borrowed and outlive this.
  EventStreams(store::EventLog* log, store::EventBus* bus);
  ~EventStreams();

  /// The newest event's seq: where a subscriber without a resume point starts.
  int64_t Head();
  /// Streams events with seq > after_seq that match `filter` into `sink`, until the client
  /// goes away or Shutdown(). Each event is `id: <seq>\nevent: <type>\ndata: <json>\n\n` with
  /// data {"id", "type", "data": <subject>, "created_at"}; a comment line every 15 s keeps
  /// proxies from closing an idle stream and tells us when the client is gone.
  void Subscribe(Filter filter, int64_t after_seq, std::shared_ptr<StreamSink> sink,
                 Format format = Format::kSse);
  /// Closes every stream and refuses new ones (they close at once). Call before the HTTP
  /// server drains.
  void Shutdown();

  /// Event pages read from the log so far (catch-ups).
  int64_t LogReadsForTest() const;

 private:
  struct Subscriber {
    Filter filter;
    int64_t cursor;
    std::shared_ptr<StreamSink> sink;
    std::chrono::steady_clock::time_point last_write;
    Format format;
  };
  void Run();
  /// Moves published batches into the ring. REQUIRES: mu_ held.
  void TakePublished();
  /// Sends what `s` has not seen yet; false when its client is gone (or too slow).
  bool Serve(Subscriber& s, const std::deque<store::Event>& ring, int64_t ring_floor);
  bool Send(Subscriber& s, const std::vector<const store::Event*>& events);

  store::EventLog* log_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<store::EventBatch> published_;              // GUARDED_BY(mu_): from the bus
  std::vector<std::shared_ptr<Subscriber>> subscribers_;  // GUARDED_BY(mu_)
  bool stopping_ = false;                                 // GUARDED_BY(mu_)
  bool joined_ = false;    // GUARDED_BY(mu_): a subscriber joined since the last round
  int64_t log_reads_ = 0;  // GUARDED_BY(mu_)
  // The ring (run thread only): every event with seq > ring_floor_ that was published, oldest
  // first. Events up to ring_floor_ are read from the log.
  std::deque<store::Event> ring_;
  int64_t ring_floor_ = 0;
  std::unique_ptr<store::EventBus::Subscription> subscription_;
  std::thread thread_;
};

/// One event in the wire form SSE and WebSocket share: {"id", "type", "data", "created_at"}.
std::string EventJsonText(const store::Event& e);

}  // namespace argus::api
