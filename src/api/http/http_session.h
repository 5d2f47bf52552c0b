// Internal to api/http: one HTTP/1.1 connection (http_session.cc) and what it shares with its
// server (http_server.cc). Included by those two files only: it brings Asio and Beast in.
#pragma once

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <chrono>
#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>  // Boost 1.81's asio/awaitable.hpp needs std::exchange before Asio headers.

#include "api/http/blocking_pool.h"
#include "api/http/http_server.h"
#include "api/http/http_types.h"

namespace argus::api::internal {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
inline constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

class RequestParser;
class Session;
struct BodyFeed;

/// What the sessions of one server share: its options, handler and blocking pool, and counters.
/// Owned by the server, which stops the pool before it destroys the I/O contexts.
struct ServerShared {
  HttpServerOptions options_;
  HttpHandler* handler_ = nullptr;
  std::unique_ptr<BlockingPool> pool_;
  std::atomic<bool> draining_{false};
  std::atomic<size_t> active_{0};

  const HttpServerOptions& options() const { return options_; }
  HttpHandler* handler() const { return handler_; }
  BlockingPool* pool() const { return pool_.get(); }
  bool draining() const { return draining_.load(std::memory_order_relaxed); }
  void SessionStarted() { active_.fetch_add(1); }
  void SessionEnded() { active_.fetch_sub(1); }
};

// One I/O thread: its own io_context (no locking inside Asio), the sessions it owns, and a
// sweeper that enforces their deadlines.
struct IoThread {
  asio::io_context ctx{1};
  std::list<Session*> sessions;  // touched only on this thread
  asio::steady_timer sweeper{ctx};
  std::thread thread;
  std::string date;  // cached "Date:" value, refreshed by the sweeper
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, IoThread* io, ServerShared* server);
  ~Session();
  asio::awaitable<void> Run();

  // Called by the sweeper and by shutdown, on this session's thread.
  bool idle() const { return idle_; }
  Clock::time_point deadline() const { return deadline_; }
  void Cancel(bool timed_out) {
    timed_out_ = timed_out_ || timed_out;
    beast::error_code ec;
    socket_.cancel(ec);
  }

 private:
  enum class ReadOutcome { kRequest, kClosed, kRefused };
  asio::awaitable<void> Serve();
  asio::awaitable<ReadOutcome> ReadRequest();
  /// Once the head is parsed: where the rest runs and where the body goes; an outcome when the
  /// request ends here (refused, or answered from its head).
  asio::awaitable<std::optional<ReadOutcome>> DecideHead(RequestParser& parser);
  /// Hands the staged body bytes to the consumer on the pool; false once it refused more.
  asio::awaitable<bool> Feed();
  /// Tells a streamed body's consumer that the body ended (on the pool after the last chunk for
  /// a blocking request).
  void EndBody(bool complete);
  /// Calls the handler where the dispatch says; a full pool answers 503.
  asio::awaitable<void> RunHandler();
  void CallHandler();
  asio::awaitable<bool> WriteResponse(bool head_only);
  /// A BodySource read on the pool a piece ahead of the one being sent.
  asio::awaitable<bool> SendSourceFromPool();
  /// Fills head_ from res_; returns whether the status has no body.
  bool BuildHead(bool with_length);
  asio::awaitable<void> AwaitDeferred();
  asio::awaitable<void> Stream();
  asio::awaitable<void> WebSocket();
  void Refuse(int status, std::string_view code, std::string_view message);
  /// 503 with Retry-After: the blocking pool refused the request.
  void Overloaded(bool close);
  /// Queues a blocking step after this connection's earlier ones (BlockingStrand::Post).
  bool PostBlocking(std::function<void()> step, bool admit);
  /// Waits until at most `at_most` of this connection's blocking steps are unfinished. The read
  /// deadline is suspended meanwhile: that time is the server's, not the client's.
  asio::awaitable<void> AwaitSteps(size_t at_most);

  tcp::socket socket_;
  IoThread* io_;
  ServerShared* server_;
  std::list<Session*>::iterator self_;
  beast::flat_buffer buffer_;
  HttpRequest req_;
  HttpResponse res_;
  std::string head_;
  Clock::time_point deadline_;
  bool idle_ = true;
  bool timed_out_ = false;
  /// The client may still be sending a body we refused: close gracefully (see Linger).
  bool unread_body_ = false;
  asio::awaitable<void> Linger();

  bool admitted_ = false;  // the pool accepted the current request's first blocking step
  /// Cancelled (posted to this thread) after each blocking step: AwaitSteps waits on it.
  std::shared_ptr<asio::steady_timer> wake_;
  std::shared_ptr<BlockingStrand> strand_;  // made on the first blocking request
  std::shared_ptr<BodyFeed> feed_;          // the current request's body, when it goes to the pool
  std::string staging_;                     // body bytes not handed to the pool yet
};

}  // namespace argus::api::internal
