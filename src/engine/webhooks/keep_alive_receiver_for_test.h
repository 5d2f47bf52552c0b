#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace argus::engine {

/// For tests: an HTTP/1.1 webhook receiver on 127.0.0.1 that keeps connections open and answers
/// every request on them, 500 for the first `fail_first` requests and 200 after that. Counts
/// connections and requests, and how often each `webhook-id` arrived. Thread-safe.
class KeepAliveReceiver {
 public:
  explicit KeepAliveReceiver(int fail_first = 0) : fail_first_(fail_first) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    socklen_t len = sizeof(addr);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    listen(fd_, 64);
    thread_ = std::thread([this] {
      for (;;) {
        int c = accept(fd_, nullptr, nullptr);
        if (c < 0) return;
        ++connections_;
        open_.push_back(c);
        connections_threads_.emplace_back([this, c] { Serve(c); });
      }
    });
  }
  ~KeepAliveReceiver() {
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
    for (int c : open_) shutdown(c, SHUT_RDWR);
    for (auto& t : connections_threads_) t.join();
    for (int c : open_) close(c);
  }
  KeepAliveReceiver(const KeepAliveReceiver&) = delete;
  KeepAliveReceiver& operator=(const KeepAliveReceiver&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hook"; }
  int connections() const { return connections_; }
  int requests() const { return requests_; }
  /// How many times each webhook-id arrived (failed answers included).
  std::map<std::string, int> ids() const {
    std::lock_guard lock(mu_);
    return ids_;
  }

 private:
  void Serve(int c) {
    std::string buffer;
    char buf[4096];
    for (;;) {
      size_t head_end = buffer.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        size_t want = 0;
        if (auto p = buffer.find("Content-Length: "); p != std::string::npos && p < head_end) {
          want = std::stoul(buffer.substr(p + 16));
        }
        if (buffer.size() >= head_end + 4 + want) {
          if (auto p = buffer.find("webhook-id: "); p != std::string::npos && p < head_end) {
            std::string id = buffer.substr(p + 12, buffer.find("\r\n", p) - p - 12);
            std::lock_guard lock(mu_);
            ++ids_[id];
          }
          buffer.erase(0, head_end + 4 + want);
          const bool fail = requests_++ < fail_first_;
          const std::string answer =
              fail ? "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n\r\nfail"
                   : "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
          (void)!write(c, answer.data(), answer.size());
          continue;
        }
      }
      ssize_t n = read(c, buf, sizeof(buf));
      if (n <= 0) break;
      buffer.append(buf, static_cast<size_t>(n));
    }
  }

  const int fail_first_;
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  // Touched by the accept thread only, until it is joined.
  std::vector<std::thread> connections_threads_;
  std::vector<int> open_;
  std::atomic<int> connections_{0};
  std::atomic<int> requests_{0};
  mutable std::mutex mu_;
  std::map<std::string, int> ids_;
};

}  // namespace argus::engine
