// Tests only: a loopback HTTP server for scripted S3 answers (retries, servers that ignore Range).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <string>
#include <thread>

namespace argus::store::s3 {

/// Accepts connections on 127.0.0.1 (a free port) one at a time, reads each request's head and
/// hands it, with the connection, to `answer`, then closes the connection: one request per
/// connection, so answers say `Connection: close`. The server thread ends with the object.
class LoopbackServerForTest {
 public:
  using Answer = std::function<void(int fd, const std::string& head)>;
  explicit LoopbackServerForTest(Answer answer) : answer_(std::move(answer)) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    listen(fd_, 16);
    socklen_t len = sizeof addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~LoopbackServerForTest() {
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
  }
  int port() const { return port_; }

  /// Sends all of `bytes`; false once the client is gone.
  static bool SendAll(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

 private:
  void Serve() {
    for (;;) {
      int c = accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string head;
      char buf[4096];
      while (head.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = read(c, buf, sizeof buf);
        if (n <= 0) break;
        head.append(buf, static_cast<size_t>(n));
      }
      answer_(c, head);
      close(c);
    }
  }

  Answer answer_;
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
};

}  // namespace argus::store::s3
