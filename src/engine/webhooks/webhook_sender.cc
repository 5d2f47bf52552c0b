#include "engine/webhooks/webhook_sender.h"

#include <curl/curl.h>
#include <sys/socket.h>

#include <algorithm>
#include <mutex>
#include <unordered_map>

namespace argus::engine {

bool OutboundAddressAllowed(const IpBytes& addr, const SenderOptions& options) {
  return options.allow_private_targets || IsPublicAddress(addr);
}

namespace {

constexpr size_t kKeptResponseBytes = 200;  // of a failed answer, for the delivery log

// Handles kept for the next transfers; more than this many idle ones are freed.
constexpr size_t kIdleHandles = 256;

struct Transfer {
  uint64_t tag = 0;
  CURL* easy = nullptr;  // owned by WebhookSender::Impl (recycled)
  curl_slist* headers = nullptr;
  std::string body;
  std::string response;  // the first kKeptResponseBytes
  std::string refused;   // addresses the connect check refused
  const SenderOptions* options = nullptr;
  char errbuf[CURL_ERROR_SIZE] = {};

  ~Transfer() { curl_slist_free_all(headers); }
};

size_t KeepSome(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t bytes = size * n;
  if (t->response.size() < kKeptResponseBytes) {
    t->response.append(data, std::min(bytes, kKeptResponseBytes - t->response.size()));
  }
  return bytes;  // the rest is read and dropped
}

// Runs for every connection curl opens, with the address it resolved: the one place where the
// target can be checked without a DNS rebinding window.
curl_socket_t OpenSocket(void* user, curlsocktype purpose, curl_sockaddr* address) {
  auto* t = static_cast<Transfer*>(user);
  IpBytes ip;
  if (purpose != CURLSOCKTYPE_IPCXN || !IpFromSockaddr(&address->addr, address->addrlen, &ip) ||
      !OutboundAddressAllowed(ip, *t->options)) {
    if (!t->refused.empty()) t->refused += ", ";
    t->refused +=
        (purpose == CURLSOCKTYPE_IPCXN && IpFromSockaddr(&address->addr, address->addrlen, &ip))
            ? FormatIp(ip)
            : std::string("a non-IP address");
    return CURL_SOCKET_BAD;
  }
  return socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

std::string ResponseSnippet(const std::string& response) {
  std::string out;
  for (char c : response) out.push_back(c >= 0x20 && c < 0x7f ? c : ' ');
  return out;
}

}  // namespace

struct WebhookSender::Impl {
  SenderOptions options;
  CURLM* multi = nullptr;
  std::unordered_map<CURL*, std::unique_ptr<Transfer>> transfers;
  std::vector<OutboundResult> not_started;  // reported by the next Poll
  // Reset handles for the next transfers: curl_easy_init and its first setup cost more than a
  // reset, and a reset keeps nothing of the last request (the connection pool is the multi's).
  std::vector<CURL*> idle;

  ~Impl() {
    for (auto& [easy, t] : transfers) {
      curl_multi_remove_handle(multi, easy);
      curl_easy_cleanup(easy);
    }
    transfers.clear();
    for (CURL* easy : idle) curl_easy_cleanup(easy);
    if (multi != nullptr) curl_multi_cleanup(multi);
  }

  CURL* TakeHandle() {
    if (idle.empty()) return curl_easy_init();
    CURL* easy = idle.back();
    idle.pop_back();
    return easy;
  }

  void ReturnHandle(CURL* easy) {
    curl_easy_reset(easy);
    if (idle.size() < kIdleHandles) {
      idle.push_back(easy);
    } else {
      curl_easy_cleanup(easy);
    }
  }

  OutboundResult Finish(Transfer& t, CURLcode code) {
    OutboundResult r;
    r.tag = t.tag;
    curl_off_t total_us = 0;
    curl_easy_getinfo(t.easy, CURLINFO_TOTAL_TIME_T, &total_us);
    r.latency_ms = static_cast<double>(total_us) / 1000.0;
    long status = 0;
    curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &status);
    r.status_code = static_cast<int>(status);
    if (!t.refused.empty()) {
      r.status_code = 0;
      r.error = "refused to connect to " + t.refused +
                ": not a public address (webhooks.allow_private_targets is off)";
    } else if (code != CURLE_OK) {
      r.error = t.errbuf[0] != '\0' ? std::string(t.errbuf) : curl_easy_strerror(code);
    } else if (status >= 200 && status < 300) {
      r.success = true;
    } else if (status >= 300 && status < 400) {
      r.error = "HTTP " + std::to_string(status) + ": redirects are not followed";
    } else {
      r.error = "HTTP " + std::to_string(status);
      if (!t.response.empty()) r.error += ": " + ResponseSnippet(t.response);
    }
    return r;
  }
};

Result<std::unique_ptr<WebhookSender>> WebhookSender::Create(SenderOptions options) {
  static std::once_flag once;
  static CURLcode init = CURLE_OK;
  std::call_once(once, [] { init = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (init != CURLE_OK) {
    return InternalError(std::string("curl_global_init failed: ") + curl_easy_strerror(init));
  }
  if (!(options.timeout_s > 0)) return InvalidArgumentError("webhooks.timeout_s must be > 0");
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  impl->multi = curl_multi_init();
  if (impl->multi == nullptr) return InternalError("curl_multi_init failed");
  curl_multi_setopt(impl->multi, CURLMOPT_MAXCONNECTS,
                    static_cast<long>(std::max(1, impl->options.max_idle_connections)));
  return std::unique_ptr<WebhookSender>(new WebhookSender(std::move(impl)));
}

WebhookSender::WebhookSender(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
WebhookSender::~WebhookSender() = default;

void WebhookSender::Start(OutboundRequest request) {
  auto t = std::make_unique<Transfer>();
  t->tag = request.tag;
  t->body = std::move(request.body);
  t->options = &impl_->options;
  t->easy = impl_->TakeHandle();
  if (t->easy == nullptr) {
    impl_->not_started.push_back({.tag = request.tag, .error = "curl_easy_init failed"});
    return;
  }
  for (const auto& h : request.headers) t->headers = curl_slist_append(t->headers, h.c_str());
  t->headers = curl_slist_append(t->headers, "Content-Type: application/json");
  t->headers = curl_slist_append(t->headers, "Expect:");  // no 100-continue round trip
  CURL* e = t->easy;
  curl_easy_setopt(e, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(impl_->options.timeout_s * 1000));
  curl_easy_setopt(e, CURLOPT_USERAGENT, impl_->options.user_agent.c_str());
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
  curl_easy_setopt(e, CURLOPT_POST, 1L);
  curl_easy_setopt(e, CURLOPT_POSTFIELDS, t->body.data());
  curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(t->body.size()));
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &KeepSome);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, t.get());
  curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, &OpenSocket);
  curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, t.get());
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
  curl_multi_add_handle(impl_->multi, e);
  impl_->transfers.emplace(e, std::move(t));
}

std::vector<OutboundResult> WebhookSender::Poll(int timeout_ms) {
  std::vector<OutboundResult> done = std::move(impl_->not_started);
  impl_->not_started.clear();
  auto drain = [&] {
    int running = 0;
    curl_multi_perform(impl_->multi, &running);
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(impl_->multi, &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      auto it = impl_->transfers.find(msg->easy_handle);
      if (it == impl_->transfers.end()) continue;
      done.push_back(impl_->Finish(*it->second, msg->data.result));
      CURL* easy = msg->easy_handle;
      curl_multi_remove_handle(impl_->multi, easy);
      impl_->transfers.erase(it);
      impl_->ReturnHandle(easy);
    }
  };
  drain();
  if (done.empty() && timeout_ms > 0) {
    curl_multi_poll(impl_->multi, nullptr, 0, timeout_ms, nullptr);
    drain();
  }
  return done;
}

size_t WebhookSender::in_flight() const { return impl_->transfers.size(); }

void WebhookSender::Wakeup() { curl_multi_wakeup(impl_->multi); }

}  // namespace argus::engine
