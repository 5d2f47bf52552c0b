#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/ip_address.h"
#include "core/result.h"

namespace argus::engine {

/// One webhook POST to make.
struct OutboundRequest {
  uint64_t tag = 0;  ///< the caller's handle, echoed in the result
  std::string url;
  std::vector<std::string> headers;  ///< "name: value"
  std::string body;
};

struct OutboundResult {
  uint64_t tag = 0;
  int status_code = 0;  ///< 0: no HTTP response
  double latency_ms = 0;
  bool success = false;  ///< a 2xx answer
  std::string error;     ///< why it failed; empty on success
};

struct SenderOptions {
  double timeout_s = 10;  ///< whole request: resolve, connect, TLS, send, answer
  /// Off: connections to loopback, private, link-local and other non-public addresses are
  /// refused, whatever name led there (the check runs on the address being connected to).
  bool allow_private_targets = false;
  std::string user_agent = "Argus-Webhooks";
  /// Idle keep-alive connections kept for reuse, all targets together (libcurl's default, four
  /// per transfer in progress, would close most of them whenever few attempts are in flight).
  int max_idle_connections = 256;
};

/// Whether an outbound connection to `addr` may be made under `options`. Exposed for tests.
bool OutboundAddressAllowed(const IpBytes& addr, const SenderOptions& options);

/// Concurrent HTTP POSTs over libcurl's multi interface, driven from one thread: Start() adds a
/// request, Poll() waits for progress and returns the finished ones. Connections are kept alive
/// and reused by later requests to the same target, and transfer handles are recycled. Redirects
/// are never followed (a 3xx is a failure), proxies from the environment are ignored (they would
/// hide the real target address), and only http and https are spoken.
///
/// Thread safety: one thread calls Start/Poll/in_flight; Wakeup may be called from any thread.
class WebhookSender {
 public:
  static Result<std::unique_ptr<WebhookSender>> Create(SenderOptions options);
  ~WebhookSender();

  void Start(OutboundRequest request);
  /// Waits up to `timeout_ms` (less when woken or a request finishes) and returns the
  /// requests that finished.
  std::vector<OutboundResult> Poll(int timeout_ms);
  size_t in_flight() const;
  /// Makes a blocked Poll return early.
  void Wakeup();

 private:
  struct Impl;
  explicit WebhookSender(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace argus::engine
