#include "store/s3/s3_client.h"

#include <curl/curl.h>
#include <expat.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <random>
#include <thread>

#include "core/crypto.h"
#include "core/ip_address.h"
#include "core/log.h"
#include "core/str_cat.h"

namespace argus::store::s3 {
namespace {

constexpr long kConnectTimeoutMs = 10'000;
// A transfer slower than 1 byte/s for this long is cut (a hung server), and reported Unavailable.
constexpr long kLowSpeedTimeS = 60;
constexpr size_t kMaxIdleHandles = 16;

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text;
}

void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// "20130524T000000Z" for now (UTC).
std::string AmzDateNow() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char out[32];
  std::strftime(out, sizeof(out), "%Y%m%dT%H%M%SZ", &tm);
  return out;
}

size_t WriteBody(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

size_t WriteHeader(char* data, size_t size, size_t count, void* user) {
  std::string_view line(data, size * count);
  size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    static_cast<S3Response*>(user)->headers.emplace_back(Lower(Trim(line.substr(0, colon))),
                                                         std::string(Trim(line.substr(colon + 1))));
  }
  return size * count;
}

// The addresses a public-addresses-only request refused, for its error message.
struct RefusedAddresses {
  std::string text;
};

// Runs for every connection curl opens, with the address it resolved: the one place where the
// target can be checked without a DNS rebinding window (as webhooks do).
curl_socket_t OpenPublicSocket(void* user, curlsocktype purpose, curl_sockaddr* address) {
  auto* refused = static_cast<RefusedAddresses*>(user);
  IpBytes ip;
  bool is_ip =
      purpose == CURLSOCKTYPE_IPCXN && IpFromSockaddr(&address->addr, address->addrlen, &ip);
  if (!is_ip || !IsPublicAddress(ip)) {
    if (!refused->text.empty()) refused->text.append(", ");
    refused->text.append(is_ip ? FormatIp(ip) : std::string("a non-IP address"));
    return CURL_SOCKET_BAD;
  }
  return ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

// Builds the tree of XmlElements from expat's callbacks.
struct XmlBuilder {
  XmlElement root;
  bool has_root = false;
  std::vector<XmlElement*> open;  // innermost last; only its children vector ever grows
  XML_Parser parser = nullptr;
};

void XMLCALL OnStart(void* user, const XML_Char* name, const XML_Char** /*attributes*/) {
  auto* builder = static_cast<XmlBuilder*>(user);
  XmlElement* element;
  if (builder->open.empty()) {
    builder->root.name = name;
    builder->has_root = true;
    element = &builder->root;
  } else {
    builder->open.back()->children.push_back(XmlElement{.name = name, .text = {}, .children = {}});
    element = &builder->open.back()->children.back();
  }
  builder->open.push_back(element);
}

void XMLCALL OnEnd(void* user, const XML_Char* /*name*/) {
  static_cast<XmlBuilder*>(user)->open.pop_back();
}

void XMLCALL OnText(void* user, const XML_Char* text, int length) {
  auto* builder = static_cast<XmlBuilder*>(user);
  if (!builder->open.empty()) builder->open.back()->text.append(text, static_cast<size_t>(length));
}

// Refuses any DOCTYPE: S3 never sends one, and it is where entity expansion attacks start.
void XMLCALL OnDoctype(void* user, const XML_Char*, const XML_Char*, const XML_Char*, int) {
  XML_StopParser(static_cast<XmlBuilder*>(user)->parser, XML_FALSE);
}

}  // namespace

const XmlElement* XmlElement::Child(std::string_view child_name) const {
  for (const XmlElement& child : children) {
    if (child.name == child_name) return &child;
  }
  return nullptr;
}

std::string XmlElement::ChildText(std::string_view child_name) const {
  const XmlElement* child = Child(child_name);
  return child == nullptr ? std::string() : child->text;
}

Result<XmlElement> ParseXml(std::string_view text) {
  XML_Parser parser = XML_ParserCreate(nullptr);
  if (parser == nullptr) return InternalError("cannot create an XML parser");
  XmlBuilder builder;
  builder.parser = parser;
  XML_SetUserData(parser, &builder);
  XML_SetElementHandler(parser, OnStart, OnEnd);
  XML_SetCharacterDataHandler(parser, OnText);
  XML_SetStartDoctypeDeclHandler(parser, OnDoctype);
  XML_SetParamEntityParsing(parser, XML_PARAM_ENTITY_PARSING_NEVER);
  bool ok =
      XML_Parse(parser, text.data(), static_cast<int>(text.size()), XML_TRUE) == XML_STATUS_OK;
  std::string error = ok ? "" : XML_ErrorString(XML_GetErrorCode(parser));
  XML_ParserFree(parser);
  if (!ok || !builder.has_root) {
    std::string message = "malformed XML in an S3 response: ";
    message.append(error.empty() ? "no root element" : error);
    return InvalidArgumentError(std::move(message));
  }
  return std::move(builder.root);
}

Result<TimestampUs> ParseIso8601(std::string_view text) {
  std::string copy(text);
  int year, month, day, hour, minute;
  double second;
  char zone = 0;
  if (std::sscanf(copy.c_str(), "%4d-%2d-%2dT%2d:%2d:%lf%c", &year, &month, &day, &hour, &minute,
                  &second, &zone) != 7 ||
      zone != 'Z' || second < 0 || second >= 61) {
    std::string message = "not an ISO 8601 UTC time: '";
    message.append(text.substr(0, 40));
    message.push_back('\'');
    return InvalidArgumentError(std::move(message));
  }
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = 0;
  int64_t seconds = static_cast<int64_t>(timegm(&tm));
  return seconds * 1'000'000 + static_cast<int64_t>(second * 1'000'000 + 0.5);
}

std::string S3Response::Header(std::string_view name) const {
  for (const auto& [header, value] : headers) {
    if (header == name) return value;
  }
  return {};
}

S3Client::S3Client(S3Options options) : options_(std::move(options)) {}

S3Client::~S3Client() {
  for (void* handle : idle_) curl_easy_cleanup(static_cast<CURL*>(handle));
  for (auto [easy, multi] : idle_streams_) {
    curl_easy_cleanup(static_cast<CURL*>(easy));
    curl_multi_cleanup(static_cast<CURLM*>(multi));
  }
}

Result<std::shared_ptr<S3Client>> S3Client::Create(S3Options options) {
  InitCurlOnce();
  std::shared_ptr<S3Client> client(new S3Client(std::move(options)));
  std::string_view endpoint = client->options_.endpoint;
  size_t scheme_end = endpoint.find("://");
  std::string_view scheme =
      scheme_end == std::string_view::npos ? std::string_view() : endpoint.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") {
    std::string message = "blobs.s3.endpoint must start with http:// or https://, not '";
    message.append(endpoint.substr(0, 80));
    message.push_back('\'');
    return InvalidArgumentError(std::move(message));
  }
  std::string_view rest = endpoint.substr(scheme_end + 3);
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  if (authority.empty()) return InvalidArgumentError("blobs.s3.endpoint has no host");
  if (client->options_.bucket.empty()) return InvalidArgumentError("blobs.s3.bucket is empty");
  client->scheme_ = std::string(scheme);
  client->base_path_ = std::string(path);
  if (client->options_.path_style) {
    client->authority_ = std::string(authority);
  } else {
    client->authority_ = client->options_.bucket;
    client->authority_.push_back('.');
    client->authority_.append(authority);
  }
  return client;
}

void* S3Client::AcquireHandle() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_.empty()) {
      void* handle = idle_.back();
      idle_.pop_back();
      return handle;
    }
  }
  return curl_easy_init();
}

void S3Client::ReleaseHandle(void* handle) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (idle_.size() < kMaxIdleHandles) {
      idle_.push_back(handle);
      return;
    }
  }
  curl_easy_cleanup(static_cast<CURL*>(handle));
}

bool S3Client::Transient(const Result<S3Response>& outcome) {
  if (!outcome.ok()) return outcome.status().code() == StatusCode::kUnavailable;
  long status = outcome->status;
  return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

void S3Client::Backoff(const S3Request& request, int attempt, const std::string& outcome) const {
  double backoff_ms = options_.base_backoff_ms * std::pow(2.0, attempt - 1);
  thread_local std::mt19937 rng{std::random_device{}()};
  backoff_ms *= std::uniform_real_distribution<double>(0.75, 1.25)(rng);
  log::Debug("retrying an S3 request", {{"method", request.method},
                                        {"key", request.key},
                                        {"attempt", attempt},
                                        {"outcome", outcome}});
  std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(backoff_ms));
}

Result<S3Response> S3Client::Send(const S3Request& request) {
  const int attempts = std::max(1, options_.max_attempts);
  for (int attempt = 1;; ++attempt) {
    Result<S3Response> outcome = SendOnce(request);
    if (attempt >= attempts || !Transient(outcome)) return outcome;
    // A POST (create / complete a multipart upload) that got no answer may have happened: only
    // an answer saying "try again" makes it safe to send again.
    if (request.method == "POST" && !outcome.ok()) return outcome;
    Backoff(request, attempt,
            outcome.ok() ? std::to_string(outcome->status) : outcome.status().ToString());
  }
}

Result<std::unique_ptr<S3BodyStream>> S3Client::Open(const S3Request& request) {
  const int attempts = std::max(1, options_.max_attempts);
  for (int attempt = 1;; ++attempt) {
    auto outcome = OpenOnce(request);
    Result<S3Response> head = outcome.ok() ? Result<S3Response>((*outcome)->head())
                                           : Result<S3Response>(outcome.status());
    if (attempt >= attempts || !Transient(head)) return outcome;
    Backoff(request, attempt, head.ok() ? std::to_string(head->status) : head.status().ToString());
  }
}

// One signed request, ready for curl: its URL and header lines.
struct S3Client::Prepared {
  std::string url;
  curl_slist* headers = nullptr;
  ~Prepared() { curl_slist_free_all(headers); }
};

std::unique_ptr<S3Client::Prepared> S3Client::Prepare(const S3Request& request) const {
  std::string path = base_path_;
  if (options_.path_style) {
    path.push_back('/');
    path.append(UriEncode(options_.bucket, false));
    if (!request.key.empty()) path.push_back('/');
  } else {
    path.push_back('/');
  }
  path.append(UriEncode(request.key, true));

  std::string payload_sha256 =
      request.body_sha256.empty() ? HexEncode(Sha256(request.body)) : request.body_sha256;
  std::string amz_date = AmzDateNow();
  SigV4Request signed_request{.method = request.method,
                              .host = authority_,
                              .canonical_uri = path,
                              .query = request.query,
                              .headers = request.headers,
                              .payload_sha256 = payload_sha256};
  signed_request.headers.emplace_back("x-amz-content-sha256", payload_sha256);
  signed_request.headers.emplace_back("x-amz-date", amz_date);
  SigV4Credentials credentials{.access_key_id = options_.access_key_id,
                               .secret_access_key = options_.secret_access_key,
                               .region = options_.region,
                               .service = "s3"};

  auto prepared = std::make_unique<Prepared>();
  std::string& url = prepared->url;
  url = scheme_;
  url.append("://");
  url.append(authority_);
  url.append(path);
  // The URL carries the canonical (sorted, encoded) query, with "name" rather than "name=" for
  // empty values ("?uploads"), as the AWS SDKs send it.
  std::string query = CanonicalQueryString(request.query);
  if (!query.empty()) {
    url.push_back('?');
    size_t start = 0;
    while (start <= query.size()) {
      size_t end = query.find('&', start);
      if (end == std::string::npos) end = query.size();
      std::string_view pair(query.data() + start, end - start);
      if (start > 0) url.push_back('&');
      url.append(pair.ends_with('=') ? pair.substr(0, pair.size() - 1) : pair);
      start = end + 1;
    }
  }

  curl_slist*& headers = prepared->headers;
  auto add_header = [&headers](std::string_view name, std::string_view value) {
    std::string line(name);
    line.append(": ");
    line.append(value);
    headers = curl_slist_append(headers, line.c_str());
  };
  add_header("Host", authority_);
  add_header("Authorization", AuthorizationHeader(signed_request, credentials, amz_date));
  for (const auto& [name, value] : signed_request.headers) add_header(name, value);
  headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip
  if (request.method == "PUT" || request.method == "POST") {
    add_header("Content-Type",
               request.method == "POST" ? "application/xml" : "application/octet-stream");
  }
  return prepared;
}

void S3Client::Configure(void* handle, const Prepared& prepared, void* refused) const {
  auto* curl = static_cast<CURL*>(handle);
  curl_easy_reset(curl);
  curl_easy_setopt(curl, CURLOPT_URL, prepared.url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, kConnectTimeoutMs);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, kLowSpeedTimeS);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, prepared.headers);
  if (options_.public_addresses_only) {
    curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION, &OpenPublicSocket);
    curl_easy_setopt(curl, CURLOPT_OPENSOCKETDATA, refused);
    curl_easy_setopt(curl, CURLOPT_PROXY, "");  // not http_proxy & co. from the environment
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  }
}

Status S3Client::TransportError(int code, const std::string& refused, std::string_view method,
                                const std::string& url) const {
  if (!refused.empty()) {
    std::string message = "S3 endpoint ";
    message.append(options_.endpoint);
    message.append(" refused: ");
    message.append(refused);
    message.append(
        " is not a public address (loopback, private and link-local addresses are "
        "not allowed for this endpoint)");
    return PermissionDeniedError(std::move(message));
  }
  std::string message = "S3 ";
  message.append(method);
  message.push_back(' ');
  message.append(url);
  message.append(" failed: ");
  message.append(curl_easy_strerror(static_cast<CURLcode>(code)));
  return UnavailableError(std::move(message));
}

Result<S3Response> S3Client::SendOnce(const S3Request& request) {
  std::unique_ptr<Prepared> prepared = Prepare(request);
  auto* curl = static_cast<CURL*>(AcquireHandle());
  if (curl == nullptr) return InternalError("cannot create a curl handle");
  S3Response response;
  RefusedAddresses refused;
  Configure(curl, *prepared, &refused);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &WriteBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &WriteHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response);
  if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (request.method == "PUT" || request.method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.empty() ? "" : request.body.data());
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  } else if (request.method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  CURLcode rc = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  ReleaseHandle(curl);
  if (rc != CURLE_OK) return TransportError(rc, refused.text, request.method, prepared->url);
  return response;
}

Status S3Client::ErrorStatus(const S3Response& response, std::string_view what) {
  std::string message(what);
  message.append(": HTTP ");
  message.append(std::to_string(response.status));
  std::string code;
  if (!response.body.empty()) {
    auto xml = ParseXml(response.body);
    if (xml.ok() && xml->name == "Error") {
      code = xml->ChildText("Code");
      message.append(" ");
      message.append(code);
      std::string text = xml->ChildText("Message");
      if (!text.empty()) {
        message.append(": ");
        message.append(text);
      }
    }
  }
  if (response.status == 404) return NotFoundError(std::move(message));
  // A 200 that carries an error document: InternalError and SlowDown are S3's "try again".
  if (response.status >= 500 || code == "InternalError" || code == "SlowDown" ||
      code == "ServiceUnavailable") {
    return UnavailableError(std::move(message));
  }
  return InternalError(std::move(message));
}

Status S3Client::CheckSuccess(const S3Response& response, std::string_view what) {
  if (response.status < 200 || response.status > 299) return ErrorStatus(response, what);
  if (response.status == 200 && Trim(response.body).size() > 0) {
    auto xml = ParseXml(response.body);
    if (xml.ok() && xml->name == "Error") return ErrorStatus(response, what);
  }
  return OkStatus();
}

// The state of one streamed response; curl calls OnHeader and OnBody with it.
struct S3BodyStream::Impl {
  // A body piece beyond what a reader asked for waits in curl (the transfer is paused), not here.
  static constexpr size_t kMaxErrorBody = 64 * 1024;

  ~Impl() {
    if (easy == nullptr) return;
    curl_multi_remove_handle(static_cast<CURLM*>(multi), static_cast<CURL*>(easy));
    // A transfer stopped mid-body leaves its connection in an unknown state: not reused.
    client->ReleaseStreamHandles({easy, multi}, done && result == CURLE_OK);
  }

  static size_t OnHeader(char* data, size_t size, size_t count, void* user) {
    auto* s = static_cast<Impl*>(user);
    std::string_view line(data, size * count);
    if (line.starts_with("HTTP/")) {
      // Each header block (an interim 1xx, then the final answer) starts with a status line.
      size_t space = line.find(' ');
      s->head.status =
          space == std::string_view::npos
              ? 0
              : std::strtol(std::string(line.substr(space + 1, 3)).c_str(), nullptr, 10);
      s->head.headers.clear();
    } else if (Trim(line).empty()) {
      if (s->head.status >= 200) s->head_done = true;
    } else if (size_t colon = line.find(':'); colon != std::string_view::npos) {
      s->head.headers.emplace_back(Lower(Trim(line.substr(0, colon))),
                                   std::string(Trim(line.substr(colon + 1))));
    }
    return size * count;
  }

  static size_t OnBody(char* data, size_t size, size_t count, void* user) {
    auto* s = static_cast<Impl*>(user);
    size_t n = size * count;
    if (s->head.status < 200 || s->head.status > 299) {
      size_t room = kMaxErrorBody - std::min(kMaxErrorBody, s->head.body.size());
      s->head.body.append(data, std::min(n, room));
      return n;
    }
    if (s->buffer.size() - s->pos >= s->want) {
      s->paused = true;
      return CURL_WRITEFUNC_PAUSE;  // curl keeps these bytes and hands them again on resume
    }
    s->buffer.append(data, n);
    return n;
  }

  // Drives the transfer until `enough()`, or it ends.
  Status Pump(const std::function<bool()>& enough) {
    auto* m = static_cast<CURLM*>(multi);
    while (!done && !enough()) {
      if (paused) {
        paused = false;
        curl_easy_pause(static_cast<CURL*>(easy), CURLPAUSE_CONT);  // may deliver at once
        continue;
      }
      int running = 0;
      if (CURLMcode mc = curl_multi_perform(m, &running); mc != CURLM_OK) {
        return InternalError(StrCat({"curl: ", curl_multi_strerror(mc)}));
      }
      int left = 0;
      while (CURLMsg* msg = curl_multi_info_read(m, &left)) {
        if (msg->msg != CURLMSG_DONE) continue;
        done = true;
        result = msg->data.result;
      }
      if (done || enough() || paused) continue;
      if (CURLMcode mc = curl_multi_poll(m, nullptr, 0, 1000, nullptr); mc != CURLM_OK) {
        return InternalError(StrCat({"curl: ", curl_multi_strerror(mc)}));
      }
    }
    return OkStatus();
  }

  S3Client* client = nullptr;
  void* easy = nullptr;   // CURL*
  void* multi = nullptr;  // CURLM*
  std::unique_ptr<S3Client::Prepared> prepared;
  std::string method;
  RefusedAddresses refused;
  S3Response head;
  bool head_done = false;
  bool done = false;
  CURLcode result = CURLE_OK;
  std::string buffer;  // body bytes received and not read yet, from `pos`
  size_t pos = 0;
  size_t want = 0;  // what the reader asked for: more is left in curl (paused)
  bool paused = false;
};

S3BodyStream::S3BodyStream(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
S3BodyStream::~S3BodyStream() = default;

const S3Response& S3BodyStream::head() const { return impl_->head; }

Result<size_t> S3BodyStream::Read(std::string* out, size_t max) {
  Impl& s = *impl_;
  if (max == 0) return size_t{0};
  s.want = max;
  Status pumped = s.Pump([&s, max] { return s.buffer.size() - s.pos >= max; });
  s.want = 0;
  ARGUS_RETURN_IF_ERROR(pumped);
  size_t take = std::min(max, s.buffer.size() - s.pos);
  out->append(s.buffer, s.pos, take);
  s.pos += take;
  if (s.pos == s.buffer.size()) {
    s.buffer.clear();
    s.pos = 0;
  } else if (s.pos >= (1u << 20)) {
    s.buffer.erase(0, s.pos);
    s.pos = 0;
  }
  if (take == 0 && s.done && s.result != CURLE_OK) {
    return s.client->TransportError(s.result, s.refused.text, s.method, s.prepared->url);
  }
  return take;
}

std::pair<void*, void*> S3Client::AcquireStreamHandles() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_streams_.empty()) {
      auto handles = idle_streams_.back();
      idle_streams_.pop_back();
      return handles;
    }
  }
  return {curl_easy_init(), curl_multi_init()};
}

void S3Client::ReleaseStreamHandles(std::pair<void*, void*> handles, bool reusable) {
  if (reusable) {
    std::lock_guard<std::mutex> lock(mu_);
    if (idle_streams_.size() < kMaxIdleHandles) {
      idle_streams_.push_back(handles);
      return;
    }
  }
  curl_easy_cleanup(static_cast<CURL*>(handles.first));
  curl_multi_cleanup(static_cast<CURLM*>(handles.second));
}

Result<std::unique_ptr<S3BodyStream>> S3Client::OpenOnce(const S3Request& request) {
  auto impl = std::make_unique<S3BodyStream::Impl>();
  impl->client = this;
  impl->method = request.method;
  impl->prepared = Prepare(request);
  auto [easy, multi] = AcquireStreamHandles();
  if (easy == nullptr || multi == nullptr) {
    if (easy != nullptr) curl_easy_cleanup(static_cast<CURL*>(easy));
    if (multi != nullptr) curl_multi_cleanup(static_cast<CURLM*>(multi));
    return InternalError("cannot create a curl handle");
  }
  auto* curl = static_cast<CURL*>(easy);
  Configure(curl, *impl->prepared, &impl->refused);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &S3BodyStream::Impl::OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, impl.get());
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &S3BodyStream::Impl::OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, impl.get());
  curl_easy_setopt(curl, CURLOPT_BUFFERSIZE, 256L * 1024);  // fewer, larger pieces
  if (request.method != "GET")
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  if (curl_multi_add_handle(static_cast<CURLM*>(multi), curl) != CURLM_OK) {
    ReleaseStreamHandles({easy, multi}, false);
    return InternalError("cannot start a curl transfer");
  }
  impl->easy = easy;
  impl->multi = multi;
  S3BodyStream::Impl& s = *impl;
  ARGUS_RETURN_IF_ERROR(s.Pump([&s] { return s.head_done; }));
  if (!s.head_done) {
    return TransportError(s.result == CURLE_OK ? CURLE_GOT_NOTHING : s.result, s.refused.text,
                          request.method, s.prepared->url);
  }
  // An error document is small: read it whole, for ErrorStatus.
  if (s.head.status < 200 || s.head.status > 299)
    ARGUS_RETURN_IF_ERROR(s.Pump([] { return false; }));
  return std::unique_ptr<S3BodyStream>(new S3BodyStream(std::move(impl)));
}

}  // namespace argus::store::s3
