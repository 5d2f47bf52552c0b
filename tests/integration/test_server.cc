#include "tests/integration/test_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "core/id.h"

extern char** environ;

namespace argus::testing {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

namespace {

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::string ArgusBinary() {
  const char* b = std::getenv("ARGUS_BINARY");
  return b ? b : ARGUS_DEFAULT_BINARY;
}

std::string SourceDir() {
  const char* s = std::getenv("ARGUS_SOURCE_DIR");
  return s ? s : ARGUS_DEFAULT_SOURCE_DIR;
}

std::string NewTempDir(const std::string& tag) {
  std::string dir =
      std::filesystem::temp_directory_path().string() + "/argus-" + tag + "-" + NewId();
  std::filesystem::create_directories(dir);
  return dir;
}

const Json& HttpResult::json() const {
  if (!parsed_) {
    Json j = Json::parse(body, nullptr, false);
    parsed_ = j.is_discarded() ? Json(nullptr) : std::move(j);
  }
  return *parsed_;
}

Connection::Connection(int port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd_);
    fd_ = -1;
    return;
  }
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

Connection::~Connection() {
  if (fd_ >= 0) ::close(fd_);
}

bool Connection::Send(const std::string& bytes) {
  size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

HttpResult Connection::Read(int timeout_ms, bool head_request) {
  HttpResult r;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  auto fill = [&]() -> bool {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) return false;
    char buf[65536];
    ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n <= 0) return false;
    buffer_.append(buf, static_cast<size_t>(n));
    return true;
  };
  size_t end;
  while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    if (!fill()) return r;
  }
  std::istringstream head(buffer_.substr(0, end));
  std::string line;
  std::getline(head, line);
  if (line.size() < 12) return r;
  r.status = std::atoi(line.substr(9, 3).c_str());
  while (std::getline(head, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    r.headers[Lower(line.substr(0, colon))] = value;
  }
  size_t length = std::strtoull(r.Header("content-length").c_str(), nullptr, 10);
  if (r.status == 204 || r.status == 304 || head_request) length = 0;
  buffer_.erase(0, end + 4);
  while (buffer_.size() < length) {
    if (!fill()) {
      r.status = 0;
      return r;
    }
  }
  r.body = buffer_.substr(0, length);
  buffer_.erase(0, length);
  return r;
}

std::string Connection::ReadUntil(const std::string& needle, int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (buffer_.find(needle) == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0) break;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) break;
    char buf[65536];
    ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n <= 0) break;
    buffer_.append(buf, static_cast<size_t>(n));
  }
  return buffer_;
}

bool Connection::ClosedByPeer(int timeout_ms) {
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, timeout_ms) <= 0) return false;
  char c;
  return ::recv(fd_, &c, 1, MSG_PEEK) == 0;
}

bool Connection::DrainUntilClosed(int timeout_ms) {
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  char buf[65536];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    until - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) return false;
    ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n == 0) return true;
    if (n < 0) return errno == ECONNRESET;
  }
}

HttpResult Request(int port, const std::string& method, const std::string& path,
                   const std::map<std::string, std::string>& headers, const std::string& body) {
  Connection c(port);
  if (!c.connected()) return {};
  std::string req = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  for (const auto& [k, v] : headers) req += k + ": " + v + "\r\n";
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
    req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  req += "\r\n" + body;
  c.Send(req);
  return c.Read(10000, method == "HEAD");
}

std::unique_ptr<TestServer> TestServer::Start(Options options) {
  std::unique_ptr<TestServer> s(new TestServer());
  s->own_dir_ = options.data_dir.empty();
  s->data_dir_ = s->own_dir_ ? NewTempDir("data") : options.data_dir;
  s->log_path_ = s->data_dir_ + "/../" + std::filesystem::path(s->data_dir_).filename().string() +
                 "-" + NewId().substr(24) + ".log";
  std::filesystem::remove(s->data_dir_ + "/listen.addr");
  std::vector<std::string> argv = {ArgusBinary(), "serve",      "--listen",
                                   "127.0.0.1:0", "--data-dir", s->data_dir_};
  argv.insert(argv.end(), options.args.begin(), options.args.end());
  // Models load on first use unless a test asks for preloading (most tests never touch them).
  // The test's own entries come last: the configuration takes the last of a name.
  std::vector<std::string> env = {"ARGUS_SERVER_IO_THREADS=2", "ARGUS_LOG_LEVEL=info",
                                  "ARGUS_INFERENCE_PRELOAD=false"};
  for (char** e = environ; *e; ++e) {
    if (!std::string_view(*e).starts_with("ARGUS_")) env.emplace_back(*e);
  }
  env.insert(env.end(), options.env.begin(), options.env.end());
  pid_t pid = ::fork();
  if (pid == 0) {
    int fd = ::open(s->log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    std::vector<char*> a, e;
    for (auto& x : argv) a.push_back(x.data());
    a.push_back(nullptr);
    for (auto& x : env) e.push_back(x.data());
    e.push_back(nullptr);
    ::execve(a[0], a.data(), e.data());
    ::_exit(127);
  }
  s->pid_ = pid;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  std::string addr_file = s->data_dir_ + "/listen.addr";
  while (std::chrono::steady_clock::now() < deadline) {
    std::string addr = ReadFile(addr_file);
    if (!addr.empty()) {
      s->port_ = std::atoi(addr.substr(addr.rfind(':') + 1).c_str());
      break;
    }
    int status;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      s->pid_ = -1;
      return s;  // exited: port stays 0, the caller checks and reads Log()
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::string key = ReadFile(s->data_dir_ + "/admin.key");
  while (!key.empty() && (key.back() == '\n' || key.back() == '\r')) key.pop_back();
  s->admin_key_ = key;
  return s;
}

TestServer::~TestServer() {
  if (pid_ > 0) Stop(SIGKILL);
  if (own_dir_) std::filesystem::remove_all(data_dir_);
  std::filesystem::remove(log_path_);
}

int TestServer::Stop(int signal) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, signal);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + WTERMSIG(status);
}

std::string TestServer::Log() const { return ReadFile(log_path_); }

HttpResult TestServer::Call(const std::string& method, const std::string& path,
                            const std::string& key, const Json& body,
                            std::map<std::string, std::string> headers) {
  if (!key.empty()) headers["Authorization"] = "Bearer " + key;
  std::string payload;
  if (!body.is_null()) {
    payload = body.dump();
    headers["Content-Type"] = "application/json";
  }
  return Request(port_, method, path, headers, payload);
}

ProcessResult RunProcess(const std::vector<std::string>& argv,
                         const std::vector<std::string>& env) {
  ProcessResult r;
  std::string out_path = std::filesystem::temp_directory_path().string() + "/argus-proc-" + NewId();
  pid_t pid = ::fork();
  if (pid == 0) {
    int fd = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    for (const auto& e : env) ::putenv(const_cast<char*>(e.c_str()));
    std::vector<char*> a;
    for (auto& x : argv) a.push_back(const_cast<char*>(x.c_str()));
    a.push_back(nullptr);
    ::execvp(a[0], a.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.output = ReadFile(out_path);
  std::filesystem::remove(out_path);
  return r;
}

std::set<std::string> StoredBlobs(const std::string& data_dir) {
  std::set<std::string> out;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(data_dir + "/blobs", ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); ++it) {
    std::string name = it->path().filename().string();
    if (it->is_regular_file() && name.size() == 64 &&
        it->path().parent_path().filename() != "tmp") {
      out.insert(name);
    }
  }
  const std::string small = data_dir + "/blobs/small.db";
  if (std::filesystem::exists(small)) {
    ProcessResult rows = RunProcess({"sqlite3", small, "SELECT sha256 FROM blobs"});
    std::istringstream lines(rows.output);
    for (std::string sha; std::getline(lines, sha);) {
      if (!sha.empty()) out.insert(sha);
    }
  }
  return out;
}

bool BlobStored(const std::string& data_dir, const std::string& sha256) {
  return StoredBlobs(data_dir).count(sha256) > 0;
}

}  // namespace argus::testing
