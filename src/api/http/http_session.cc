// One HTTP/1.1 connection: reading requests, dispatching them inline or to the blocking pool,
// writing responses, deferred answers, streams and WebSockets.
#include "api/http/http_session.h"

#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <deque>
#include <mutex>

#include "api/http/request_parser.h"
#include "core/log.h"

namespace argus::api::internal {

namespace http = beast::http;

namespace {

// A blocking request's body goes to its consumer on the pool in chunks this large, at most this
// many queued or being consumed: the I/O thread reads the next chunk while the pool hashes and
// writes the previous one, and waits beyond that (back-pressure reaches the client through TCP).
constexpr size_t kFeedChunkBytes = 1 << 20;
constexpr size_t kFeedsInFlight = 2;
// Response bodies from a BodySource go out in pieces this large.
constexpr size_t kSourcePieceBytes = 256 * 1024;

// Splits the request-target into path and query (views into req.target).
void SplitTarget(HttpRequest& req) {
  std::string_view target = req.target;
  size_t q = target.find('?');
  req.path = target.substr(0, q);
  req.query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
}

}  // namespace

// A streamed body on its way to its consumer on the pool: whether the consumer refused more, and
// spare chunk buffers (an upload reuses two or three instead of allocating one per chunk).
struct BodyFeed {
  explicit BodyFeed(std::shared_ptr<BodyConsumer> c) : consumer(std::move(c)) {}
  // On the pool, in order (the connection's strand).
  void Consume(std::string& chunk) {
    if (!chunk.empty() && !stopped.load() && !consumer->OnData(chunk)) stopped.store(true);
    chunk.clear();
    std::lock_guard lock(mu);
    if (spare.size() < kFeedsInFlight) spare.push_back(std::move(chunk));
  }
  // On the I/O thread: an empty buffer, with capacity when one came back.
  std::string Spare() {
    std::lock_guard lock(mu);
    if (spare.empty()) return {};
    std::string b = std::move(spare.back());
    spare.pop_back();
    return b;
  }

  std::shared_ptr<BodyConsumer> consumer;
  std::atomic<bool> stopped{false};
  std::mutex mu;
  std::vector<std::string> spare;  // GUARDED_BY(mu)
};

Session::Session(tcp::socket socket, IoThread* io, ServerShared* server)
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
        co_await RunHandler();
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

asio::awaitable<void> Session::RunHandler() {
  if (req_.dispatch == Dispatch::kInline) {
    CallHandler();
    if (!res_.run_blocking) co_return;
    res_.Clear();  // the handler asked to run again where it may block
    req_.dispatch = Dispatch::kBlocking;
  }
  // A request whose body went to the pool was admitted with its first step already.
  if (!PostBlocking([self = shared_from_this()] { self->CallHandler(); }, !admitted_)) {
    Overloaded(/*close=*/false);
    co_return;
  }
  admitted_ = true;
  co_await AwaitSteps(0);
}

void Session::CallHandler() {
  try {
    server_->handler()->Handle(req_, res_);
  } catch (const std::exception& e) {
    log::Error("handler threw", {{"error", e.what()}, {"path", std::string(req_.path)}});
    res_.Clear();
    server_->handler()->HandleTransportError(req_, 500, "internal", "internal error", res_);
  }
}

bool Session::PostBlocking(std::function<void()> step, bool admit) {
  if (!strand_) {
    wake_ = std::make_shared<asio::steady_timer>(socket_.get_executor(),
                                                 asio::steady_timer::time_point::max());
    strand_ = std::make_shared<BlockingStrand>(server_->pool(), [timer = wake_] {
      asio::post(timer->get_executor(), [timer] { timer->cancel(); });
    });
  }
  return strand_->Post(std::move(step), admit);
}

asio::awaitable<void> Session::AwaitSteps(size_t at_most) {
  if (!strand_ || strand_->pending() <= at_most) co_return;
  deadline_ = Clock::time_point::max();
  idle_ = false;
  // Each step posts a cancel of wake_ to this thread after it finished: the count is checked
  // again before every wait, so a wake-up that comes while we are not waiting is not lost.
  while (strand_->pending() > at_most) co_await wake_->async_wait(kUseTuple);
  deadline_ = Clock::now() + server_->options().read_timeout;
}

void Session::Overloaded(bool close) {
  res_.Clear();
  server_->handler()->HandleTransportError(req_, 503, "overloaded",
                                           "the server is busy: try again in a moment", res_);
  res_.AddHeader("Retry-After", "1");
  res_.close = close;
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
  std::function<void()> resume = [timer, resumed, keep_alive] {
    if (resumed->exchange(true)) return;
    asio::post(timer->get_executor(), [timer] { timer->cancel(); });
  };
  if (req_.dispatch == Dispatch::kInline) {
    start(resume);
  } else {
    // The start may look at the store (is the task done already?): on the pool.
    PostBlocking(
        [self = shared_from_this(), start = std::move(start), resume] {
          try {
            start(resume);
          } catch (const std::exception& e) {
            log::Error("deferred answer threw", {{"error", e.what()}});
            self->res_.Clear();
            self->server_->handler()->HandleTransportError(self->req_, 500, "internal",
                                                           "internal error", self->res_);
            resume();
          }
        },
        /*admit=*/false);
  }
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
  if (req_.dispatch == Dispatch::kInline) {
    start(sink);
  } else {
    // The start may read a backlog from the store: on the pool; the sink is thread-safe.
    PostBlocking([self = shared_from_this(), start = std::move(start), sink] { start(sink); },
                 /*admit=*/false);
  }
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
  admitted_ = false;
  feed_.reset();
  staging_.clear();
  RequestParser parser(&req_, opt.max_body_bytes);
  parser.header_limit(opt.max_header_bytes);
  // A streamed body is ended by one of these paths; each tells the consumer how.
  struct EndGuard {
    Session* session;
    bool done = false;
    ~EndGuard() {
      if (!done) session->EndBody(false);
    }
  } end_guard{this};

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
        if (auto ended = co_await DecideHead(parser)) {
          end_guard.done = true;  // refused from the head: the consumer saw no body
          co_return *ended;
        }
        parser.eager(true);
        if (!parser.is_done() && req_.Header("expect") == "100-continue") {
          // RFC 9110 §10.1.1: the only defined expectation; curl sends it for larger bodies.
          static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
          auto [wec, n] = co_await asio::async_write(
              socket_, asio::buffer(kContinue.data(), kContinue.size()), kUseTuple);
          if (wec) co_return ReadOutcome::kClosed;
        }
        if (parser.is_done()) break;
        continue;  // on to the body bytes already buffered
      }
      if (feed_ && staging_.size() >= kFeedChunkBytes && !co_await Feed()) {
        // The consumer refused more: as above, answered from its state, the rest left unread.
        end_guard.done = true;
        EndBody(false);
        req_.keep_alive = false;
        unread_body_ = true;
        co_return ReadOutcome::kRequest;
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
  if (req_.body_consumer) {
    end_guard.done = true;
    EndBody(true);
  }
  co_return ReadOutcome::kRequest;
}

asio::awaitable<std::optional<Session::ReadOutcome>> Session::DecideHead(RequestParser& parser) {
  const auto& opt = server_->options();
  SplitTarget(req_);
  HeadDecision decision = server_->handler()->OnHead(req_);
  req_.dispatch = decision.dispatch;
  req_.handler_state = std::move(decision.state);
  if (decision.consumer) {
    req_.body_consumer = std::move(decision.consumer);
  } else if (decision.stream_body && req_.dispatch == Dispatch::kInline) {
    req_.body_consumer = server_->handler()->StreamBody(req_);
  } else if (decision.stream_body) {
    // Setting up the consumer may look at the store (authorization, the bucket): on the pool,
    // as the request's first blocking step, before any body byte is read.
    if (!PostBlocking(
            [self = shared_from_this()] {
              self->req_.body_consumer = self->server_->handler()->StreamBody(self->req_);
            },
            /*admit=*/true)) {
      Overloaded(/*close=*/true);
      unread_body_ = !parser.is_done();
      co_return ReadOutcome::kRefused;
    }
    admitted_ = true;
    co_await AwaitSteps(0);
  }
  if (req_.body_consumer && !req_.body_consumer->Wanted()) {
    // Refused from the head alone (auth, size, bucket): answer without reading the body.
    req_.keep_alive = false;
    unread_body_ = !parser.is_done();
    co_return ReadOutcome::kRequest;
  }
  if (req_.body_consumer && req_.dispatch == Dispatch::kBlocking) {
    feed_ = std::make_shared<BodyFeed>(req_.body_consumer);
    parser.set_staging(&staging_);
  }
  // A declared length over the limit is refused now, before any body byte is read.
  if (auto length = parser.content_length();
      !req_.body_consumer && length && *length > opt.max_body_bytes) {
    unread_body_ = true;
    Refuse(413, "payload_too_large",
           "request body exceeds " + std::to_string(opt.max_body_bytes) + " bytes");
    co_return ReadOutcome::kRefused;
  }
  co_return std::nullopt;
}

asio::awaitable<bool> Session::Feed() {
  co_await AwaitSteps(kFeedsInFlight - 1);
  if (feed_->stopped.load()) co_return false;
  std::string chunk = feed_->Spare();
  chunk.swap(staging_);
  if (staging_.capacity() < kFeedChunkBytes + 64 * 1024)
    staging_.reserve(kFeedChunkBytes + 64 * 1024);
  PostBlocking([feed = feed_, chunk = std::move(chunk)]() mutable { feed->Consume(chunk); },
               /*admit=*/false);
  co_return true;
}

void Session::EndBody(bool complete) {
  if (!req_.body_consumer) return;
  if (!feed_) {
    req_.body_consumer->OnEnd(complete);
    return;
  }
  // After the chunks before it, on the pool: the consumer is never called concurrently.
  std::string rest = complete ? std::move(staging_) : std::string();
  staging_.clear();
  PostBlocking(
      [feed = feed_, rest = std::move(rest), complete]() mutable {
        if (complete) feed->Consume(rest);
        feed->consumer->OnEnd(complete);
      },
      /*admit=*/false);
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
    if (req_.dispatch == Dispatch::kBlocking) co_return co_await SendSourceFromPool();
    // Large bodies go out a piece at a time: memory stays flat whatever the size.
    constexpr size_t kPiece = kSourcePieceBytes;
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

asio::awaitable<bool> Session::SendSourceFromPool() {
  struct Piece {
    std::string bytes;
    bool ok = false;
  };
  auto source = res_.body_source;
  auto next = std::make_shared<Piece>();
  const int64_t size = source->size();
  auto read = [&](int64_t want) {
    PostBlocking(
        [source, next, want] {
          next->bytes.clear();
          next->ok = source->Read(&next->bytes, static_cast<size_t>(want)) && !next->bytes.empty();
        },
        /*admit=*/false);
  };
  int64_t received = 0;
  std::string current;
  if (size > 0) read(std::min<int64_t>(size, kSourcePieceBytes));
  while (received < size) {
    co_await AwaitSteps(0);
    if (!next->ok) co_return false;  // a short body: the client must not reuse the connection
    current.swap(next->bytes);
    received += static_cast<int64_t>(current.size());
    if (received > size) co_return false;
    if (received < size) read(std::min<int64_t>(size - received, kSourcePieceBytes));
    deadline_ = Clock::now() + server_->options().read_timeout;
    auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(current), kUseTuple);
    if (ec) co_return false;
  }
  co_return true;
}

}  // namespace argus::api::internal
