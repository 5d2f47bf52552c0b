#pragma once

#include <sys/types.h>

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/json.h"

namespace argus::testing {

/// One HTTP response as read off the wire.
struct HttpResult {
  int status = 0;                              ///< 0: no response (connection closed or timed out)
  std::map<std::string, std::string> headers;  ///< lowercase names
  std::string body;
  /// The body parsed (null when it is not JSON). Parsed once and kept, so references into it
  /// (e.g. `for (auto& t : r.json()["tasks"])`) live as long as this result.
  const Json& json() const;
  std::string Header(const std::string& lower) const {
    auto it = headers.find(lower);
    return it == headers.end() ? "" : it->second;
  }

 private:
  mutable std::optional<Json> parsed_;
};

/// A blocking client connection to 127.0.0.1:port, for tests that need control over the bytes.
class Connection {
 public:
  explicit Connection(int port);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  bool connected() const { return fd_ >= 0; }
  bool Send(const std::string& bytes);
  /// Reads one response (Content-Length framed). status 0 when the peer closed first or
  /// nothing came within `timeout_ms`.
  /// `head_request`: the answer to a HEAD has a Content-Length but no body.
  HttpResult Read(int timeout_ms = 10000, bool head_request = false);
  /// Reads raw bytes until `needle` appears (streams); returns everything read so far, which
  /// lacks `needle` when the time ran out or the peer closed.
  std::string ReadUntil(const std::string& needle, int timeout_ms = 10000);
  /// True when the server has closed the connection (read returns EOF) within `timeout_ms`.
  bool ClosedByPeer(int timeout_ms = 5000);
  /// Reads and drops whatever arrives until the server closes the connection (true) or
  /// `timeout_ms` passes without it (false).
  bool DrainUntilClosed(int timeout_ms);

 private:
  int fd_ = -1;
  std::string buffer_;
};

/// Sends one request on a fresh connection and reads the answer.
HttpResult Request(int port, const std::string& method, const std::string& path,
                   const std::map<std::string, std::string>& headers = {},
                   const std::string& body = "");

/// The real `build/argus serve` in a child process on 127.0.0.1 with a free port and a
/// temporary data directory (or a given one, to test restarts).
class TestServer {
 public:
  struct Options {
    std::vector<std::string> env;   ///< extra "NAME=value" entries
    std::vector<std::string> args;  ///< extra flags after `serve`
    std::string data_dir;           ///< empty: a new temporary directory
  };
  /// Starts and waits until <data_dir>/listen.addr appears (the server is listening).
  static std::unique_ptr<TestServer> Start(Options options);
  static std::unique_ptr<TestServer> Start() { return Start(Options{}); }
  ~TestServer();

  int port() const { return port_; }
  const std::string& admin_key() const { return admin_key_; }
  const std::string& data_dir() const { return data_dir_; }
  pid_t pid() const { return pid_; }
  /// Sends `signal` and waits for exit; returns the exit code (or 128 + signal).
  int Stop(int signal = 15);
  /// What the server wrote to stderr so far.
  std::string Log() const;

  /// Shorthand for an authenticated request.
  HttpResult Call(const std::string& method, const std::string& path, const std::string& key,
                  const Json& body = nullptr, std::map<std::string, std::string> headers = {});

 private:
  TestServer() = default;
  pid_t pid_ = -1;
  int port_ = 0;
  std::string admin_key_;
  std::string data_dir_;
  std::string log_path_;
  bool own_dir_ = false;
};

/// Runs a program with arguments and extra environment; returns exit code and stdout+stderr.
struct ProcessResult {
  int exit_code = -1;
  std::string output;
};
ProcessResult RunProcess(const std::vector<std::string>& argv,
                         const std::vector<std::string>& env = {});

std::string ArgusBinary();
std::string SourceDir();
std::string NewTempDir(const std::string& tag);
/// The whole file ("" when it cannot be read).
std::string ReadFile(const std::string& path);

/// The SHA-256s of the blobs the local blob store of `data_dir` holds: files under
/// blobs/<aa>/<bb>/ and rows of blobs/small.db (ADR 0010; read with the sqlite3 tool).
std::set<std::string> StoredBlobs(const std::string& data_dir);
/// Whether that store holds `sha256`.
bool BlobStored(const std::string& data_dir, const std::string& sha256);

}  // namespace argus::testing
