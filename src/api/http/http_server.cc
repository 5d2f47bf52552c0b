// The listener and its I/O threads; connections are in http_session.cc.
#include "api/http/http_server.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <ctime>

#include "api/http/http_session.h"
#include "core/log.h"
#include "core/thread_name.h"

namespace argus::api {

namespace {

using namespace internal;  // NOLINT: the session's vocabulary (asio, tcp, Clock, ...)

std::string HttpDate() {
  char buf[64];
  time_t now = time(nullptr);
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

class ServerImpl final : public HttpServer {
 public:
  ServerImpl(const HttpServerOptions& options, HttpHandler* handler)
      : threads_(std::max(1, options.io_threads)) {
    shared_.options_ = options;
    shared_.handler_ = handler;
    shared_.pool_ = std::make_unique<BlockingPool>(BlockingPool::Options{
        .threads = options.blocking_threads, .max_queued = options.blocking_queue});
    for (auto& t : threads_) t = std::make_unique<IoThread>();
  }
  // Steps still on the pool hold sessions, whose sockets belong to the I/O contexts: the pool
  // is joined before those go.
  ~ServerImpl() override { shared_.pool()->Stop(); }

  Status Bind() {
    beast::error_code ec;
    auto address = asio::ip::make_address(shared_.options().host, ec);
    if (ec)
      return InvalidArgumentError("cannot listen on '" + shared_.options().host +
                                  "': not an IP address");
    tcp::endpoint endpoint(address, shared_.options().port);
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
        SetThreadName("argus-http");
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
    shared_.draining_ = true;
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
    while (shared_.active_.load() > 0 && Clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    size_t cut = shared_.active_.load();
    for (auto& t : threads_) {
      asio::post(t->ctx, [io = t.get()] {
        for (Session* s : io->sessions) s->Cancel(false);
        io->sweeper.cancel();
      });
    }
    // Sessions unwind on their own threads once cancelled; give them a moment, then stop.
    auto hard = Clock::now() + std::chrono::seconds(2);
    while (shared_.active_.load() > 0 && Clock::now() < hard) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    for (auto& t : threads_) t->ctx.stop();
    for (auto& t : threads_) {
      if (t->thread.joinable()) t->thread.join();
    }
    // Steps already on the pool finish (a blob write aborts its temporary); nothing new starts.
    shared_.pool()->Stop();
    return cut;
  }

  size_t ActiveConnections() const override { return shared_.active_.load(); }

 private:
  static Status BindError(const tcp::endpoint& ep, const beast::error_code& ec) {
    return UnavailableError("cannot listen on " + ep.address().to_string() + ":" +
                            std::to_string(ep.port()) + ": " + ec.message());
  }

  asio::awaitable<void> Accept() {
    size_t next = 0;
    while (!shared_.draining()) {
      IoThread* target = threads_[next++ % threads_.size()].get();
      auto [ec, socket] = co_await acceptor_->async_accept(target->ctx, kUseTuple);
      if (ec) {
        if (!acceptor_->is_open() || shared_.draining()) break;
        // EMFILE and friends: back off briefly instead of spinning.
        log::Warn("accept failed", {{"error", ec.message()}});
        asio::steady_timer pause(threads_[0]->ctx, std::chrono::milliseconds(50));
        co_await pause.async_wait(kUseTuple);
        continue;
      }
      beast::error_code ignored;
      if (shared_.active_.load() >= shared_.options().max_connections) {
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
      auto session = std::make_shared<Session>(std::move(socket), target, &shared_);
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

  ServerShared shared_;  // before threads_: outlives the sessions their contexts destroy
  std::vector<std::unique_ptr<IoThread>> threads_;
  std::unique_ptr<tcp::acceptor> acceptor_;
  uint16_t port_ = 0;
};

}  // namespace

Result<std::unique_ptr<HttpServer>> HttpServer::Create(const HttpServerOptions& options,
                                                       HttpHandler* handler) {
  auto server = std::make_unique<ServerImpl>(options, handler);
  ARGUS_RETURN_IF_ERROR(server->Bind());
  return std::unique_ptr<HttpServer>(std::move(server));
}

}  // namespace argus::api
