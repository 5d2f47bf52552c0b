#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "api/http/http_types.h"
#include "core/result.h"

namespace argus::api {

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 7070;               ///< 0 picks a free port; port() tells which
  int io_threads = 2;                 ///< one io_context per thread; connections spread round-robin
  uint64_t max_body_bytes = 1 << 20;  ///< larger bodies → 413 (Content-Length or streamed)
  uint32_t max_header_bytes = 16 * 1024;  ///< larger request line + headers → 431
  /// Once a request's first byte arrived, the whole request must arrive within this.
  std::chrono::milliseconds read_timeout{15000};
  /// A keep-alive connection with no request in progress is closed after this.
  std::chrono::milliseconds idle_timeout{60000};
  /// Threads for handler work that may block (HttpHandler::OnHead says which requests).
  int blocking_threads = 16;
  /// Requests that may wait for one of those threads; beyond that, 503 with Retry-After.
  int blocking_queue = 256;
  /// Bytes a streaming response (SSE) or WebSocket may have queued and unsent. A client that
  /// stops reading reaches it: its stream refuses more (StreamSink::Write returns false) and the
  /// connection is cut once a write has waited read_timeout (SSE) or Beast's ping timeout (WS).
  size_t stream_max_queued_bytes = size_t{4} << 20;
  /// Connections open at once; one more is answered 503 (Retry-After: 1) and closed, so a flood
  /// of clients (each able to park a request: Prefer: wait, a long poll, an inference body)
  /// cannot grow memory without bound.
  size_t max_connections = 10000;
};

/// HTTP/1.1 server on Boost.Beast/Asio with C++20 coroutines: keep-alive, pipelining,
/// `Expect: 100-continue`, strict framing (ambiguous Content-Length/Transfer-Encoding → 400 and
/// close), limits (413/431), and per-connection deadlines checked by a per-thread sweeper so
/// slow clients are cut off without a timer per request.
/// The I/O threads parse, route (HttpHandler::OnHead) and stream only: a request's work that may
/// block runs on a bounded BlockingPool, one step at a time per connection, with a streamed body
/// fed to its consumer in chunks while the next one is read; a full pool answers 503 with
/// `Retry-After: 1` (never an unbounded queue). Beast stays in http_server.cc and
/// http_session.cc. Thread-safe: Shutdown() may be called from any
/// thread (e.g. a signal handler thread), once.
class HttpServer {
 public:
  /// Binds and listens (errors: Unavailable when the address is in use or not bindable).
  /// `handler` is borrowed and must outlive the server.
  static Result<std::unique_ptr<HttpServer>> Create(const HttpServerOptions& options,
                                                    HttpHandler* handler);
  virtual ~HttpServer() = default;

  /// The bound port (useful with port 0).
  virtual uint16_t port() const = 0;
  /// Starts the I/O threads and returns.
  virtual void Start() = 0;
  /// Stops accepting; idle connections close at once, in-flight requests finish (their
  /// responses say `Connection: close`) for up to `drain_timeout`; then everything still open
  /// is closed and the I/O threads are joined. Returns the number of connections cut off.
  virtual size_t Shutdown(std::chrono::milliseconds drain_timeout) = 0;
  /// Open connections right now.
  virtual size_t ActiveConnections() const = 0;
};

}  // namespace argus::api
