#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "api/http/http_types.h"
#include "store/task_queue.h"

namespace argus::api {

/// Live event streams (`GET /v1/events` as Server-Sent Events): each subscriber follows the
/// durable event log from its own cursor, so a client that reconnects with `Last-Event-ID`
/// resumes without loss for as long as the events are retained. One thread serves all
/// subscribers. Thread-safe.
class EventStreams {
 public:
  /// SSE text (`id:/event:/data:` blocks, keep-alive comments), or one JSON document per
  /// Write (WebSocket frames).
  enum class Format { kSse, kJsonFrames };

  struct Filter {
    std::string namespace_id;        ///< empty: every namespace (global admin keys)
    std::set<std::string> types;     ///< empty: every type
    std::set<std::string> task_ids;  ///< empty: every task
  };

  explicit EventStreams(store::TaskQueue* tasks);
  ~EventStreams();

  /// The newest event's seq: where a subscriber without a resume point starts.
  int64_t Head();
  /// Streams events with seq > after_seq that match `filter` into `sink`, until the client
  /// goes away or Shutdown(). Each event is `id: <seq>\nevent: <type>\ndata: <json>\n\n` with
  /// data {"id", "type", "data": <task record>, "created_at"}; a comment line every 15 s keeps
  /// proxies from closing an idle stream and tells us when the client is gone.
  void Subscribe(Filter filter, int64_t after_seq, std::shared_ptr<StreamSink> sink,
                 Format format = Format::kSse);
  /// Closes every stream and refuses new ones (they close at once). Call before the HTTP
  /// server drains.
  void Shutdown();

 private:
  struct Subscriber {
    Filter filter;
    int64_t cursor;
    std::shared_ptr<StreamSink> sink;
    std::chrono::steady_clock::time_point last_write;
    Format format;
  };
  void Run();
  /// Sends what `s` has not seen yet; false when its client is gone.
  bool Serve(Subscriber& s);

  store::TaskQueue* tasks_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::shared_ptr<Subscriber>> subscribers_;  // GUARDED_BY(mu_)
  bool stopping_ = false;                                 // GUARDED_BY(mu_)
  std::thread thread_;
};

/// One event in the wire form SSE and WebSocket share: {"id", "type", "data", "created_at"}.
std::string EventJsonText(const store::TaskEvent& e);

}  // namespace argus::api
