#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace argus::api {

/// Where the handler's work for one request runs.
enum class Dispatch {
  /// On the connection's I/O thread, for work that never blocks: no store, disk or network call
  /// (health checks, answers from in-memory caches, a JSON echo). Every connection of that thread
  /// waits while it runs.
  kInline,
  /// On the server's bounded blocking pool: StreamBody, the body consumer, Handle, a deferred
  /// answer's or a stream's start and a BodySource's reads, one step at a time per connection.
  /// When the pool is full, the request is answered 503 with Retry-After before its handler
  /// runs.
  kBlocking,
};

/// Receives a request body piece by piece instead of the transport buffering it (uploads of any
/// size in flat memory). Called in order, never concurrently: on the blocking pool for a request
/// dispatched there (HeadDecision), else on the connection's I/O thread.
class BodyConsumer {
 public:
  virtual ~BodyConsumer() = default;
  /// False: the body is not wanted (refused before reading: no `100 Continue` is sent, the
  /// handler answers from its own state, and the connection closes after the answer).
  virtual bool Wanted() const { return true; }
  /// A piece of the body. False stops reading: the handler answers, then the connection closes.
  virtual bool OnData(std::string_view bytes) = 0;
  /// The whole body arrived (true, before the handler runs), or the client went away or was too
  /// slow (false: undo any work; no answer is sent).
  virtual void OnEnd(bool complete) = 0;
};

/// A response body produced piece by piece (file downloads) with a length known up front.
class BodySource {
 public:
  virtual ~BodySource() = default;
  /// Total bytes the body will have (sent as Content-Length).
  virtual int64_t size() const = 0;
  /// Appends the next bytes (at most `max`) to `out`; false on a read error (the connection is
  /// closed: the client sees a short body). Called on the blocking pool for a request dispatched
  /// there (the next piece is read while the previous one is sent), else on the I/O thread.
  virtual bool Read(std::string* out, size_t max) = 0;
};

/// One parsed HTTP/1.1 request, independent of the transport library. The transport reuses one
/// object per connection (clear() keeps capacity), so handlers must not keep references past
/// the call. Header names are stored lowercase.
struct HttpRequest {
  std::string method;      ///< "GET", "POST", ...
  std::string target;      ///< raw request-target, e.g. "/v1/keys?limit=5"
  std::string_view path;   ///< points into target: before '?'
  std::string_view query;  ///< points into target: after '?', without it
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string peer_ip;  ///< the socket's remote address
  bool keep_alive = true;
  /// Set when the handler's StreamBody took the body (then `body` stays empty).
  std::shared_ptr<BodyConsumer> body_consumer;
  /// Where the handler is being called now (set by the transport): with kInline it runs on an
  /// I/O thread and must not block (HttpResponse::run_blocking moves it to the pool).
  Dispatch dispatch = Dispatch::kBlocking;
  /// What the handler decided from the head (HeadDecision::state), kept for its StreamBody and
  /// Handle calls on this request, so a request is routed and authorized once. Opaque to the
  /// transport; null when OnHead set none.
  std::shared_ptr<void> handler_state;

  /// First header with that lowercase name, or "" when absent.
  std::string_view Header(std::string_view lower_name) const;
  /// True when the header is present (even if empty).
  bool HasHeader(std::string_view lower_name) const;
  /// Appends an empty header entry (for the transport's parser), reusing the strings of an
  /// earlier request's headers: no allocation per header once a connection has warmed up.
  std::pair<std::string, std::string>& NewHeader();
  void Clear();

 private:
  std::vector<std::pair<std::string, std::string>> spare_headers_;  // cleared, kept for reuse
};

/// Where a streaming response (Server-Sent Events) writes its body. Thread-safe: Write and
/// Close may be called from any thread.
class StreamSink {
 public:
  virtual ~StreamSink() = default;
  /// Queues bytes for the client. Returns false once the client is gone (stop producing).
  virtual bool Write(std::string bytes) = 0;
  /// Ends the response; the connection closes after the queued bytes are sent.
  virtual void Close() = 0;
};

/// The server's side of an accepted WebSocket. Thread-safe.
class WebSocketPeer {
 public:
  virtual ~WebSocketPeer() = default;
  /// Queues one text message. Returns false once the connection is gone.
  virtual bool Send(std::string text) = 0;
  /// Starts a clean close.
  virtual void Close() = 0;
};

/// What a WebSocket handler does with the connection once it is accepted.
struct WebSocketHandler {
  /// Called once after the handshake.
  std::function<void(std::shared_ptr<WebSocketPeer>)> on_open;
  /// Called for every text message from the client, on an I/O thread.
  std::function<void(std::shared_ptr<WebSocketPeer>, std::string_view)> on_message;
  /// Called once when the connection ends, however it ends.
  std::function<void()> on_close;
};

/// What a handler answers. The transport adds Content-Length, Connection and Date.
struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  bool close = false;  ///< close the connection after this response
  /// Set by a Handle that ran on the I/O thread (Dispatch::kInline) and found it must block after
  /// all (e.g. a key that is not in the cache): the transport clears the response and calls
  /// Handle again on the blocking pool. Set it before any side effect.
  bool run_blocking = false;
  /// Set by a handler that answers later (long polls, `Prefer: wait`): after Handle() returns,
  /// the transport calls it once with `resume`; the handler fills this response and then calls
  /// `resume()` exactly once, from any thread. The connection waits meanwhile (its read
  /// deadline is suspended: the handler bounds the wait).
  std::function<void(std::function<void()> resume)> deferred;
  /// Set by a handler that streams: the transport sends the status and headers (no
  /// Content-Length; the body ends when the connection closes), then calls this once with the
  /// sink to write the body through.
  std::function<void(std::shared_ptr<StreamSink> sink)> stream;
  /// Set to accept a WebSocket upgrade (the request must carry `Upgrade: websocket`).
  std::shared_ptr<WebSocketHandler> websocket;
  /// Set to send a large body from a source (Content-Length = its size; `body` is ignored).
  std::shared_ptr<BodySource> body_source;

  /// Copies into strings kept from an earlier response when there are some (no allocation per
  /// header on a warm connection).
  void AddHeader(std::string_view name, std::string_view value);
  void Clear();

 private:
  std::vector<std::pair<std::string, std::string>> spare_headers_;  // cleared, kept for reuse
};

/// Reason phrase for a status code ("Not Found").
std::string_view ReasonPhrase(int status);

/// Whether a Content-Type names JSON: "application/json" in any case, with or without
/// parameters ("; charset=utf-8").
bool IsJsonType(std::string_view content_type);

/// What a handler decides from a request's head (HttpHandler::OnHead).
struct HeadDecision {
  Dispatch dispatch = Dispatch::kBlocking;
  /// Call StreamBody (where `dispatch` says) for a consumer to stream the body into.
  bool stream_body = false;
  /// A consumer decided from the head alone, typically a refusal whose Wanted() is false (then
  /// StreamBody is not called).
  std::shared_ptr<BodyConsumer> consumer;
  /// The handler's own record of what it decided, handed back as HttpRequest::handler_state.
  std::shared_ptr<void> state;
};

/// What the transport calls. Implementations must be thread-safe: the transport calls them from
/// all I/O threads and pool threads at once. Only OnHead, and Handle for Dispatch::kInline, run
/// on an I/O thread, and they must never block.
class HttpHandler {
 public:
  virtual ~HttpHandler() = default;
  /// Answers one complete request (where OnHead's dispatch says).
  virtual void Handle(const HttpRequest& request, HttpResponse& response) = 0;
  /// Called on the I/O thread for every request once its head is parsed, before any body byte is
  /// read: where the rest runs, and whether the body streams. Must not block. The default runs
  /// everything on the blocking pool and buffers the body.
  virtual HeadDecision OnHead(const HttpRequest& head) { return {}; }
  /// Called when OnHead asked for it, before any body byte is read and before Handle: a consumer
  /// to stream the body into, or null to have it buffered into `request.body` (up to the server's
  /// max_body_bytes). A streamed body has no transport size limit; the consumer enforces its
  /// own. A consumer whose Wanted() is false refuses the request from its head (authorization,
  /// a missing bucket): the body is never read, the connection is not reused, and Handle is
  /// called to answer.
  virtual std::shared_ptr<BodyConsumer> StreamBody(const HttpRequest& head) { return nullptr; }
  /// Answers a request the transport refused before it was complete (413, 431, 400 framing,
  /// 408). `request` holds whatever was parsed (maybe only the peer address).
  virtual void HandleTransportError(const HttpRequest& request, int status, std::string_view code,
                                    std::string_view message, HttpResponse& response) = 0;
};

}  // namespace argus::api
