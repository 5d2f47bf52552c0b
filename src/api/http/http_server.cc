// The only translation unit that sees Boost.Beast/Asio: keep it that way (compile time).
#include "api/http/http_server.h"

#include <array>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <ctime>
#include <deque>
#include <list>
#include <mutex>
#include <thread>
#include <utility>  // Boost 1.81's asio/awaitable.hpp needs std::exchange before Asio headers.

#include "core/log.h"

namespace argus::api {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

// Fills a reused HttpRequest straight from Beast's parser callbacks: no header map, no body
// object, no per-request allocation once the connection's buffers have grown.
class RequestParser final : public http::basic_parser<true> {
 public:
  /// `on_head` runs once the head is complete (before any body byte) and may set
  /// req->body_consumer to take the body as a stream; otherwise the body is buffered, at most
  /// `max_body` bytes.
  RequestParser(HttpRequest* req, uint64_t max_body, std::function<void()> on_head)
      : req_(req), max_body_(max_body), on_head_(std::move(on_head)) {
    body_limit(boost::none);  // enforced here: a streamed body has no transport limit
  }

  /// The consumer refused more of the body (OnData returned false).
  bool consumer_stopped() const { return consumer_stopped_; }
  /// The buffered body went over max_body.
  bool too_large() const { return too_large_; }

 private:
  void on_request_impl(http::verb, beast::string_view method, beast::string_view target,
                       int version, beast::error_code&) override {
    req_->method.assign(method.data(), method.size());
    req_->target.assign(target.data(), target.size());
  }
  void on_response_impl(int, beast::string_view, int, beast::error_code&) override {}
  void on_field_impl(http::field, beast::string_view name, beast::string_view value,
                     beast::error_code&) override {
    auto& [n, v] = req_->headers.emplace_back();
    n.resize(name.size());
    for (size_t i = 0; i < name.size(); ++i) {
      char c = name[i];
      n[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
    }
    v.assign(value.data(), value.size());
  }
  void on_header_impl(beast::error_code& ec) override {
    on_head_();
    // A declared length over the limit is refused now, before any body byte arrives (Beast
    // calls on_body_init only once some do).
    auto length = content_length();
    if (!req_->body_consumer && length && *length > max_body_) {
      too_large_ = true;
      ec = http::error::body_limit;
    }
  }
  void on_body_init_impl(const boost::optional<std::uint64_t>& length,
                         beast::error_code& ec) override {
    if (req_->body_consumer) return;
    if (length && *length > max_body_) {
      too_large_ = true;
      ec = http::error::body_limit;
      return;
    }
    if (length) req_->body.reserve(static_cast<size_t>(*length));
  }
  std::size_t on_body_impl(beast::string_view body, beast::error_code& ec) override {
    return Take(body, ec);
  }
  void on_chunk_header_impl(std::uint64_t, beast::string_view, beast::error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, beast::string_view body,
                                 beast::error_code& ec) override {
    return Take(body, ec);
  }
  void on_finish_impl(beast::error_code&) override {}

  std::size_t Take(beast::string_view body, beast::error_code& ec) {
    if (req_->body_consumer) {
      if (!req_->body_consumer->OnData(std::string_view(body.data(), body.size()))) {
        consumer_stopped_ = true;
        ec = http::error::body_limit;  // any error: it stops the parser here
      }
      return body.size();
    }
    if (req_->body.size() + body.size() > max_body_) {
      too_large_ = true;
      ec = http::error::body_limit;
      return body.size();
    }
    req_->body.append(body.data(), body.size());
    return body.size();
  }

  HttpRequest* req_;
  uint64_t max_body_;
  std::function<void()> on_head_;
  bool consumer_stopped_ = false;
  bool too_large_ = false;
};

// Splits the request-target into path and query (views into req.target).
void SplitTarget(HttpRequest& req) {
  std::string_view target = req.target;
  size_t q = target.find('?');
  req.path = target.substr(0, q);
  req.query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
}

class ServerImpl;
class Session;

// One I/O thread: its own io_context (no locking inside Asio), the sessions it owns, and a
// sweeper that enforces their deadlines.
struct IoThread {
  asio::io_context ctx{1};
  std::list<Session*> sessions;  // touched only on this thread
  asio::steady_timer sweeper{ctx};
  std::thread thread;
  std::string date;  // cached "Date:" value, refreshed by the sweeper
};

std::string HttpDate() {
  char buf[64];
  time_t now = time(nullptr);
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, IoThread* io, ServerImpl* server);
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
  asio::awaitable<bool> WriteResponse(bool head_only);
  /// Fills head_ from res_; returns whether the status has no body.
  bool BuildHead(bool with_length);
  asio::awaitable<void> AwaitDeferred();
  asio::awaitable<void> Stream();
  asio::awaitable<void> WebSocket();
  void Refuse(int status, std::string_view code, std::string_view message);

  tcp::socket socket_;
  IoThread* io_;
  ServerImpl* server_;
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
};

class ServerImpl final : public HttpServer {
 public:
  ServerImpl(const HttpServerOptions& options, HttpHandler* handler)
      : options_(options), handler_(handler), threads_(std::max(1, options.io_threads)) {
    for (auto& t : threads_) t = std::make_unique<IoThread>();
  }

  Status Bind() {
    beast::error_code ec;
    auto address = asio::ip::make_address(options_.host, ec);
    if (ec)
      return InvalidArgumentError("cannot listen on '" + options_.host + "': not an IP address");
    tcp::endpoint endpoint(address, options_.port);
    acceptor_ = std::make_unique<tcp::acceptor>(threads_[0]->ctx);
    if (acceptor_->open(endpoint.protocol(), ec); ec) return BindError(endpoint, ec);
    if (acceptor_->set_option(asio::socket_base::reuse_address(true), ec); ec) {
      return BindError(endpoint, ec);
    }
    if (acceptor_->bind(endpoint, ec); ec) return BindError(endpoint, ec);
    if (acceptor_->listen(asio::socket_base::max_listen_connections, ec); ec) {
      return BindError(endpoint, ec);
    }
    port_ = acceptor_->local_endpoint(ec).port();
    return OkStatus();
  }

  uint16_t port() const override { return port_; }

  void Start() override {
    asio::co_spawn(threads_[0]->ctx, Accept(), asio::detached);
    for (auto& t : threads_) {
      t->date = HttpDate();
      ScheduleSweep(t.get());
      t->thread = std::thread([io = t.get()] {
        // Nothing may escape an I/O thread: log and keep serving.
        for (;;) {
          try {
            io->ctx.run();
            return;
          } catch (const std::exception& e) {
            log::Error("http I/O thread caught an exception", {{"error", e.what()}});
          }
        }
      });
    }
  }

  size_t Shutdown(std::chrono::milliseconds drain_timeout) override {
    draining_ = true;
    asio::post(threads_[0]->ctx, [this] {
      beast::error_code ec;
      acceptor_->close(ec);
    });
    for (auto& t : threads_) {
      asio::post(t->ctx, [io = t.get()] {
        for (Session* s : io->sessions) {
          if (s->idle()) s->Cancel(false);
        }
      });
    }
    auto until = Clock::now() + drain_timeout;
    while (active_.load() > 0 && Clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    size_t cut = active_.load();
    for (auto& t : threads_) {
      asio::post(t->ctx, [io = t.get()] {
        for (Session* s : io->sessions) s->Cancel(false);
        io->sweeper.cancel();
      });
    }
    // Sessions unwind on their own threads once cancelled; give them a moment, then stop.
    auto hard = Clock::now() + std::chrono::seconds(2);
    while (active_.load() > 0 && Clock::now() < hard) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    for (auto& t : threads_) t->ctx.stop();
    for (auto& t : threads_) {
      if (t->thread.joinable()) t->thread.join();
    }
    return cut;
  }

  size_t ActiveConnections() const override { return active_.load(); }

  const HttpServerOptions& options() const { return options_; }
  HttpHandler* handler() const { return handler_; }
  bool draining() const { return draining_.load(std::memory_order_relaxed); }
  void SessionStarted() { active_.fetch_add(1); }
  void SessionEnded() { active_.fetch_sub(1); }

 private:
  static Status BindError(const tcp::endpoint& ep, const beast::error_code& ec) {
    return UnavailableError("cannot listen on " + ep.address().to_string() + ":" +
                            std::to_string(ep.port()) + ": " + ec.message());
  }

  asio::awaitable<void> Accept() {
    size_t next = 0;
    while (!draining()) {
      IoThread* target = threads_[next++ % threads_.size()].get();
      auto [ec, socket] = co_await acceptor_->async_accept(target->ctx, kUseTuple);
      if (ec) {
        if (!acceptor_->is_open() || draining()) break;
        // EMFILE and friends: back off briefly instead of spinning.
        log::Warn("accept failed", {{"error", ec.message()}});
        asio::steady_timer pause(threads_[0]->ctx, std::chrono::milliseconds(50));
        co_await pause.async_wait(kUseTuple);
        continue;
      }
      beast::error_code ignored;
      if (active_.load() >= options_.max_connections) {
        // Over the cap: a short answer written at once (the new socket's buffer is empty).
        static constexpr std::string_view kFull =
            "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nConnection: close\r\n"
            "Content-Type: application/json\r\nContent-Length: 99\r\n\r\n"
            "{\"error\":{\"code\":\"unavailable\",\"message\":\"too many connections "
            "(http.max_connections): try again\"}}";
        socket.write_some(asio::buffer(kFull), ignored);
        socket.shutdown(tcp::socket::shutdown_both, ignored);
        socket.close(ignored);
        continue;
      }
      socket.set_option(tcp::no_delay(true), ignored);
      auto session = std::make_shared<Session>(std::move(socket), target, this);
      asio::co_spawn(
          target->ctx, [session]() { return session->Run(); },
          [](std::exception_ptr e) {
            if (!e) return;
            try {
              std::rethrow_exception(e);
            } catch (const std::exception& ex) {
              log::Error("http session failed", {{"error", ex.what()}});
            }
          });
    }
  }

  void ScheduleSweep(IoThread* io) {
    io->sweeper.expires_after(std::chrono::milliseconds(250));
    io->sweeper.async_wait([this, io](const beast::error_code& ec) {
      if (ec) return;
      io->date = HttpDate();
      auto now = Clock::now();
      for (Session* s : io->sessions) {
        if (s->deadline() <= now) s->Cancel(true);
      }
      ScheduleSweep(io);
    });
  }

  HttpServerOptions options_;
  HttpHandler* handler_;
  std::vector<std::unique_ptr<IoThread>> threads_;
  std::unique_ptr<tcp::acceptor> acceptor_;
  uint16_t port_ = 0;
  std::atomic<bool> draining_{false};
  std::atomic<size_t> active_{0};
};

Session::Session(tcp::socket socket, IoThread* io, ServerImpl* server)
    : socket_(std::move(socket)),
      io_(io),
      server_(server),
      buffer_(static_cast<size_t>(server->options().max_header_bytes) + 64 * 1024) {
  beast::error_code ec;
  auto ep = socket_.remote_endpoint(ec);
  if (!ec) req_.peer_ip = ep.address().to_string();
}

Session::~Session() = default;

asio::awaitable<void> Session::Run() {
  server_->SessionStarted();
  self_ = io_->sessions.insert(io_->sessions.end(), this);
  // Unregisters however the coroutine ends (normally, by exception, or destroyed at stop), so
  // the sweeper never sees a dead session.
  struct Registration {
    Session* s;
    ~Registration() {
      s->io_->sessions.erase(s->self_);
      s->server_->SessionEnded();
    }
  } registration{this};
  try {
    co_await Serve();
    if (unread_body_) co_await Linger();
  } catch (const std::exception& e) {
    log::Error("http connection failed", {{"error", e.what()}, {"peer", req_.peer_ip}});
  }
  beast::error_code ec;
  socket_.shutdown(tcp::socket::shutdown_both, ec);
  socket_.close(ec);
}

asio::awaitable<void> Session::Serve() {
  for (;;) {
    ReadOutcome outcome = co_await ReadRequest();
    if (outcome == ReadOutcome::kClosed) break;
    bool head_only = false;
    if (outcome == ReadOutcome::kRequest) {
      head_only = req_.method == "HEAD";
      try {
        server_->handler()->Handle(req_, res_);
        if (res_.deferred) co_await AwaitDeferred();
        if (res_.stream) {
          co_await Stream();
          break;
        }
        if (res_.websocket && res_.status == 101) {
          co_await WebSocket();
          co_return;
        }
      } catch (const std::exception& e) {
        log::Error("handler threw", {{"error", e.what()}, {"path", std::string(req_.path)}});
        res_.Clear();
        server_->handler()->HandleTransportError(req_, 500, "internal", "internal error", res_);
      }
      if (!req_.keep_alive || server_->draining()) res_.close = true;
    }
    if (!co_await WriteResponse(head_only) || res_.close) break;
  }
}

// Closing with unread input sends RST, which can destroy an answer the client has not read yet
// (a 413 for an upload still being sent): stop sending, then drop what comes for a while.
asio::awaitable<void> Session::Linger() {
  beast::error_code ec;
  socket_.shutdown(tcp::socket::shutdown_send, ec);
  if (ec) co_return;
  deadline_ = Clock::now() + std::chrono::seconds(2);
  idle_ = false;
  std::array<char, 16 * 1024> sink;
  size_t dropped = 0;
  while (dropped < (8u << 20)) {
    auto [rec, n] = co_await socket_.async_read_some(asio::buffer(sink), kUseTuple);
    if (rec) break;  // EOF, reset, or the deadline passed
    dropped += n;
  }
}

asio::awaitable<void> Session::AwaitDeferred() {
  auto start = std::move(res_.deferred);
  res_.deferred = nullptr;
  // The handler resumes us from any thread: it posts a cancel of this timer to our own
  // io_context, so the wake-up always runs after we are suspended on the timer.
  auto timer = std::make_shared<asio::steady_timer>(socket_.get_executor(),
                                                    asio::steady_timer::time_point::max());
  auto resumed = std::make_shared<std::atomic<bool>>(false);
  auto keep_alive = shared_from_this();
  deadline_ = Clock::time_point::max();  // the handler bounds the wait
  idle_ = false;
  start([timer, resumed, keep_alive] {
    if (resumed->exchange(true)) return;
    asio::post(timer->get_executor(), [timer] { timer->cancel(); });
  });
  while (!resumed->load()) {
    auto [ec] = co_await timer->async_wait(kUseTuple);
    if (!ec) break;  // never: the timer has no expiry
  }
}

// Outgoing data for a streaming response or a WebSocket: filled from any thread, drained by the
// session's coroutine, which a timer cancel posted to the session's own io_context wakes.
// At most `max_bytes` pushed and not yet sent: past that the client is not keeping up, and the
// queue refuses more (the producer stops and the client resumes later) instead of growing.
class OutboundQueue final : public StreamSink, public WebSocketPeer {
 public:
  OutboundQueue(std::shared_ptr<asio::steady_timer> timer, size_t max_bytes)
      : timer_(std::move(timer)), max_bytes_(max_bytes) {}
  bool Write(std::string bytes) override { return Push(std::move(bytes)); }
  bool Send(std::string text) override { return Push(std::move(text)); }
  void Close() override {
    {
      std::lock_guard lock(mu_);
      closed_ = true;
    }
    Wake();
  }
  // Session side. True when there is something to act on: data, a close, or a lost client.
  bool Take(std::vector<std::string>* out, bool* closed) {
    std::lock_guard lock(mu_);
    for (auto& b : queue_) out->push_back(std::move(b));
    queue_.clear();
    *closed = closed_;
    return !out->empty() || closed_ || gone_;
  }
  void Gone() {
    {
      std::lock_guard lock(mu_);
      gone_ = true;
    }
    Wake();
  }
  bool gone() {
    std::lock_guard lock(mu_);
    return gone_;
  }
  // Session side: `n` bytes of what Take returned are on the wire.
  void Sent(size_t n) {
    std::lock_guard lock(mu_);
    unsent_ -= std::min(unsent_, n);
  }

 private:
  bool Push(std::string bytes) {
    {
      std::lock_guard lock(mu_);
      if (gone_ || closed_) return false;
      if (unsent_ + bytes.size() > max_bytes_) {
        gone_ = true;  // too slow a reader: it resumes from its last event id
        return false;
      }
      unsent_ += bytes.size();
      queue_.push_back(std::move(bytes));
    }
    Wake();
    return true;
  }
  void Wake() {
    auto timer = timer_;
    asio::post(timer->get_executor(), [timer] { timer->cancel(); });
  }
  std::shared_ptr<asio::steady_timer> timer_;
  const size_t max_bytes_;
  std::mutex mu_;
  std::deque<std::string> queue_;
  size_t unsent_ = 0;  // pushed, not yet written
  bool closed_ = false;
  bool gone_ = false;
};

asio::awaitable<void> Session::Stream() {
  auto start = std::move(res_.stream);
  res_.stream = nullptr;
  res_.close = true;
  // Head only: the body is whatever the handler streams until it closes.
  res_.headers.emplace_back("Cache-Control", "no-cache");
  BuildHead(/*with_length=*/false);
  auto [hec, hn] = co_await asio::async_write(socket_, asio::buffer(head_), kUseTuple);
  if (hec) co_return;
  auto timer = std::make_shared<asio::steady_timer>(socket_.get_executor(),
                                                    asio::steady_timer::time_point::max());
  auto sink = std::make_shared<OutboundQueue>(timer, server_->options().stream_max_queued_bytes);
  deadline_ = Clock::time_point::max();  // the stream bounds itself (and heartbeats)
  idle_ = false;
  start(sink);
  std::vector<std::string> chunks;
  for (;;) {
    bool closed = false;
    chunks.clear();
    if (!sink->Take(&chunks, &closed)) {
      co_await timer->async_wait(kUseTuple);
      if (server_->draining() && !sink->Take(&chunks, &closed)) break;
      continue;
    }
    for (const auto& c : chunks) {
      // A client that stops reading stalls this write: the sweeper cuts it after read_timeout.
      deadline_ = Clock::now() + server_->options().read_timeout;
      auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(c), kUseTuple);
      deadline_ = Clock::time_point::max();
      if (ec) {
        sink->Gone();
        co_return;
      }
      sink->Sent(n);
    }
    if (closed || sink->gone()) break;
  }
  sink->Gone();
}

asio::awaitable<void> Session::WebSocket() {
  auto handler = std::move(res_.websocket);
  res_.websocket = nullptr;
  // Beast performs the handshake from the upgrade request we parsed ourselves.
  http::request<http::empty_body> upgrade;
  upgrade.method_string(req_.method);
  upgrade.target(req_.target);
  upgrade.version(11);
  for (const auto& [name, value] : req_.headers) upgrade.insert(name, value);
  beast::websocket::stream<tcp::socket> ws(std::move(socket_));
  // Ping an idle client every 30 s and drop it when it stops answering.
  beast::websocket::stream_base::timeout timeouts{std::chrono::seconds(30),
                                                  std::chrono::seconds(60), true};
  ws.set_option(timeouts);
  ws.read_message_max(64 * 1024);
  auto [aec] = co_await ws.async_accept(upgrade, kUseTuple);
  if (aec) co_return;
  deadline_ = Clock::time_point::max();  // Beast's own timeouts (pings) watch the connection
  idle_ = false;
  auto timer = std::make_shared<asio::steady_timer>(ws.get_executor(),
                                                    asio::steady_timer::time_point::max());
  auto peer = std::make_shared<OutboundQueue>(timer, server_->options().stream_max_queued_bytes);
  if (handler->on_open) handler->on_open(peer);
  // Reader: delivers client messages until the connection ends.
  auto reader_done = std::make_shared<bool>(false);
  auto reader = [&ws, handler, peer, reader_done]() -> asio::awaitable<void> {
    beast::flat_buffer buffer;
    for (;;) {
      auto [ec, n] = co_await ws.async_read(buffer, kUseTuple);
      if (ec) break;
      std::string text = beast::buffers_to_string(buffer.data());
      buffer.consume(buffer.size());
      if (handler->on_message) handler->on_message(peer, text);
    }
    peer->Gone();
    *reader_done = true;
  };
  asio::co_spawn(ws.get_executor(), reader(), asio::detached);
  // Writer: sends queued messages until closed or gone.
  std::vector<std::string> out;
  for (;;) {
    bool closing = false;
    out.clear();
    if (!peer->Take(&out, &closing)) {
      co_await timer->async_wait(kUseTuple);
      if (server_->draining()) closing = true;
      if (!closing) continue;
    }
    bool failed = false;
    for (const auto& m : out) {
      ws.text(true);
      auto [ec, n] = co_await ws.async_write(asio::buffer(m), kUseTuple);
      if (ec) {
        failed = true;
        break;
      }
      peer->Sent(m.size());
    }
    if (failed || peer->gone()) break;
    if (closing) {
      co_await ws.async_close(beast::websocket::close_code::normal, kUseTuple);
      break;
    }
  }
  peer->Gone();
  // The reader uses `ws`: close the socket and wait until it has seen the end (both run on
  // this thread, so this takes a loop iteration or two).
  beast::error_code ec;
  beast::get_lowest_layer(ws).close(ec);
  asio::steady_timer settle(ws.get_executor());
  for (int i = 0; i < 2000 && !*reader_done; ++i) {
    settle.expires_after(std::chrono::milliseconds(1));
    co_await settle.async_wait(kUseTuple);
  }
  if (handler->on_close) handler->on_close();
}

void Session::Refuse(int status, std::string_view code, std::string_view message) {
  res_.Clear();
  server_->handler()->HandleTransportError(req_, status, code, message, res_);
  res_.close = true;
}

asio::awaitable<Session::ReadOutcome> Session::ReadRequest() {
  const auto& opt = server_->options();
  std::string peer = std::move(req_.peer_ip);
  req_.Clear();
  req_.peer_ip = std::move(peer);
  res_.Clear();
  RequestParser parser(&req_, opt.max_body_bytes, [this] {
    SplitTarget(req_);
    req_.body_consumer = server_->handler()->StreamBody(req_);
  });
  parser.header_limit(opt.max_header_bytes);
  parser.eager(true);
  // A streamed body is ended by one of these paths; each tells the consumer how.
  struct EndGuard {
    HttpRequest* req;
    bool done = false;
    ~EndGuard() {
      if (!done && req->body_consumer) req->body_consumer->OnEnd(false);
    }
  } end_guard{&req_};

  bool started = buffer_.size() > 0;
  idle_ = !started;
  if (!started && server_->draining()) co_return ReadOutcome::kClosed;
  deadline_ = Clock::now() + (started ? opt.read_timeout : opt.idle_timeout);
  bool header_seen = false;
  for (;;) {
    if (buffer_.size() > 0) {
      beast::error_code ec;
      size_t used = parser.put(buffer_.data(), ec);
      buffer_.consume(used);
      if (ec && ec != http::error::need_more) {
        if (parser.consumer_stopped()) {
          // The consumer refused the rest of the body: the handler answers from its state, and
          // the unread remainder means the connection cannot be reused.
          end_guard.done = true;
          req_.keep_alive = false;
          unread_body_ = true;
          co_return ReadOutcome::kRequest;
        }
        if (ec == http::error::header_limit) {
          Refuse(431, "headers_too_large",
                 "request headers exceed " + std::to_string(opt.max_header_bytes) + " bytes");
        } else if (parser.too_large()) {
          unread_body_ = true;
          Refuse(413, "payload_too_large",
                 "request body exceeds " + std::to_string(opt.max_body_bytes) + " bytes");
        } else {
          Refuse(400, "invalid_argument", "malformed HTTP request: " + ec.message());
        }
        co_return ReadOutcome::kRefused;
      }
      if (!header_seen && parser.is_header_done()) {
        header_seen = true;
        if (req_.body_consumer && !req_.body_consumer->Wanted()) {
          // Refused from the head alone (auth, size, bucket): answer without reading the body.
          end_guard.done = true;
          req_.keep_alive = false;
          unread_body_ = !parser.is_done();
          co_return ReadOutcome::kRequest;
        }
        if (!parser.is_done()) {
          // RFC 9110 §10.1.1: the only defined expectation; curl sends it for larger bodies.
          if (req_.Header("expect") == "100-continue") {
            static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
            auto [wec, n] = co_await asio::async_write(
                socket_, asio::buffer(kContinue.data(), kContinue.size()), kUseTuple);
            if (wec) co_return ReadOutcome::kClosed;
          }
        }
      }
      if (parser.is_done()) break;
      if (!ec && used > 0 && buffer_.size() > 0) continue;
    }
    // Streamed bodies (uploads) are read in larger pieces: a quarter of the syscalls.
    size_t want = req_.body_consumer ? 64 * 1024 : 16 * 1024;
    want = std::min(want, buffer_.max_size() - buffer_.size());
    auto [ec, n] = co_await socket_.async_read_some(buffer_.prepare(want), kUseTuple);
    if (ec) {
      if (timed_out_ && started) {
        Refuse(408, "request_timeout", "the request was not received in time");
        co_return ReadOutcome::kRefused;
      }
      co_return ReadOutcome::kClosed;
    }
    buffer_.commit(n);
    if (!started) {
      started = true;
      idle_ = false;
      deadline_ = Clock::now() + opt.read_timeout;
    } else if (req_.body_consumer) {
      // A long upload is fine as long as it keeps moving: the read timeout applies to silence.
      deadline_ = Clock::now() + opt.read_timeout;
    }
  }
  idle_ = false;
  req_.keep_alive = parser.keep_alive();
  SplitTarget(req_);
  if (req_.body_consumer) {
    end_guard.done = true;
    req_.body_consumer->OnEnd(true);
  }
  co_return ReadOutcome::kRequest;
}

bool Session::BuildHead(bool with_length) {
  head_.clear();
  head_.append("HTTP/1.1 ");
  head_.append(std::to_string(res_.status));
  head_.push_back(' ');
  head_.append(ReasonPhrase(res_.status));
  head_.append("\r\nDate: ");
  head_.append(io_->date);
  bool bodyless = res_.status == 204 || res_.status == 304 || res_.status < 200;
  if (!bodyless) {
    if (!res_.content_type.empty()) {
      head_.append("\r\nContent-Type: ");
      head_.append(res_.content_type);
    }
    if (with_length) {
      head_.append("\r\nContent-Length: ");
      head_.append(std::to_string(res_.body_source ? res_.body_source->size()
                                                   : static_cast<int64_t>(res_.body.size())));
    }
  }
  for (const auto& [name, value] : res_.headers) {
    head_.append("\r\n");
    head_.append(name);
    head_.append(": ");
    head_.append(value);
  }
  if (res_.close) head_.append("\r\nConnection: close");
  head_.append("\r\n\r\n");
  return bodyless;
}

asio::awaitable<bool> Session::WriteResponse(bool head_only) {
  bool bodyless = BuildHead(/*with_length=*/true);
  std::array<asio::const_buffer, 2> buffers{
      asio::buffer(head_),
      asio::buffer(res_.body.data(), (bodyless || head_only) ? 0 : res_.body.size())};
  // A stalled reader must not hold the connection forever either.
  deadline_ = Clock::now() + server_->options().read_timeout;
  auto [ec, n] = co_await asio::async_write(socket_, buffers, kUseTuple);
  if (ec) co_return false;
  if (res_.body_source && !bodyless && !head_only) {
    // Large bodies go out a piece at a time: memory stays flat whatever the size.
    constexpr size_t kPiece = 256 * 1024;
    std::string piece;
    int64_t left = res_.body_source->size();
    while (left > 0) {
      piece.clear();
      if (!res_.body_source->Read(&piece, static_cast<size_t>(std::min<int64_t>(left, kPiece))) ||
          piece.empty()) {
        co_return false;  // a short body: the client must not reuse the connection
      }
      left -= static_cast<int64_t>(piece.size());
      deadline_ = Clock::now() + server_->options().read_timeout;
      auto [wec, wn] = co_await asio::async_write(socket_, asio::buffer(piece), kUseTuple);
      if (wec) co_return false;
    }
  }
  co_return true;
}

}  // namespace

Result<std::unique_ptr<HttpServer>> HttpServer::Create(const HttpServerOptions& options,
                                                       HttpHandler* handler) {
  auto server = std::make_unique<ServerImpl>(options, handler);
  ARGUS_RETURN_IF_ERROR(server->Bind());
  return std::unique_ptr<HttpServer>(std::move(server));
}

}  // namespace argus::api
