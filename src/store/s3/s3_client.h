#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "store/s3/sigv4.h"

namespace argus::store::s3 {

/// Where the bucket is and how to reach it (the `blobs.s3.*` settings).
struct S3Options {
  std::string endpoint;  ///< "http://127.0.0.1:9000", "https://s3.eu-west-1.amazonaws.com"
  std::string region = "us-east-1";
  std::string bucket;
  std::string prefix;  ///< prepended to every key; "" or ending in "/"
  std::string access_key_id;
  std::string secret_access_key;
  bool path_style = true;  ///< http://host/bucket/key; false: http://bucket.host/key
  /// For endpoints a user supplied (sync sources): connect only to globally routable addresses
  /// (core::IsPublicAddress), checked on every connection after DNS resolution so a name that
  /// resolves (or re-resolves) to a private address is refused; ignore proxy settings from the
  /// environment; speak http and https only. The operator's blob store leaves it off.
  bool public_addresses_only = false;
  /// Attempts per request: a connection failure, 429, 500, 502, 503 or 504 is retried after
  /// base_backoff_ms × 2^(attempt-1) (±25 % jitter). A POST that got no answer at all is not
  /// resent (it may have been carried out); every other call Argus makes is idempotent.
  int max_attempts = 4;
  int base_backoff_ms = 100;
};

/// One parsed XML element: its name (without namespace handling: S3 uses a default namespace),
/// the concatenated text directly inside it, and its child elements in document order.
struct XmlElement {
  std::string name;
  std::string text;
  std::vector<XmlElement> children;

  /// The first child named `name`, or nullptr.
  const XmlElement* Child(std::string_view child_name) const;
  /// The text of the first child named `name`; "" when there is none.
  std::string ChildText(std::string_view child_name) const;
};

/// Parses a whole document (expat; no DTD or external entities are loaded). InvalidArgument when
/// the text is not well-formed XML.
Result<XmlElement> ParseXml(std::string_view text);

/// "2026-11-24T02:35:53.000Z" (ISO 8601 UTC, as S3 lists LastModified) → microseconds since
/// the epoch; InvalidArgument otherwise.
Result<TimestampUs> ParseIso8601(std::string_view text);

struct S3Response {
  long status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  ///< names lowercased

  /// The value of header `name` (lowercase); "" when absent.
  std::string Header(std::string_view name) const;
};

/// One request: `key` empty addresses the bucket itself.
struct S3Request {
  std::string method = "GET";
  std::string key;
  std::vector<std::pair<std::string, std::string>> query;
  std::vector<std::pair<std::string, std::string>> headers;  ///< extra headers, all signed
  std::string_view body;
  /// Hex SHA-256 of `body` when the caller knows it already; computed otherwise.
  std::string body_sha256;
};

class S3Client;

/// A response whose body is read as it arrives (object downloads): memory stays at about the
/// piece asked for, whatever the object's size, and a transfer is paused between reads (the
/// connection is held while the reader is slow). Not thread-safe; borrows its S3Client, which
/// must outlive it. Destroying it before the end of the body drops the connection.
class S3BodyStream {
 public:
  ~S3BodyStream();
  S3BodyStream(const S3BodyStream&) = delete;
  S3BodyStream& operator=(const S3BodyStream&) = delete;

  /// The status and headers; for an answer that is not 2xx also its body (an error document,
  /// read whole, at most 64 KiB), for S3Client::ErrorStatus.
  const S3Response& head() const;
  /// Appends up to `max` bytes of the body to `out` and returns how many: fewer only at its end,
  /// 0 after it. Unavailable when the connection fails or stalls mid-body.
  Result<size_t> Read(std::string* out, size_t max);

 private:
  friend class S3Client;
  struct Impl;
  explicit S3BodyStream(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// A minimal S3 REST client over libcurl: SigV4-signed requests (the real payload hash, never
/// UNSIGNED-PAYLOAD), path-style or virtual-host addressing, kept-alive connections in a small
/// pool of curl handles. Thread-safe. Transient failures are retried (S3Options::max_attempts).
class S3Client {
 public:
  /// InvalidArgument when the endpoint is not "http[s]://host[:port][/path]" or the bucket is
  /// empty.
  static Result<std::shared_ptr<S3Client>> Create(S3Options options);
  ~S3Client();
  S3Client(const S3Client&) = delete;
  S3Client& operator=(const S3Client&) = delete;

  const S3Options& options() const { return options_; }

  /// Sends `request` and returns the response whatever its HTTP status, after retrying
  /// transient failures (each attempt signed afresh). Unavailable when no response arrives
  /// (connection refused, reset, timed out) on the last attempt; PermissionDenied when
  /// `public_addresses_only` refused every address of the endpoint (not retried).
  Result<S3Response> Send(const S3Request& request);
  /// Whether a request that ended so is worth another attempt.
  static bool Transient(const Result<S3Response>& outcome);
  /// Sends a GET whose response body may be large, and returns once the response head arrived,
  /// with the body left to read from the stream. Transient failures before the head are retried
  /// as Send retries them. The errors are Send's.
  Result<std::unique_ptr<S3BodyStream>> Open(const S3Request& request);

  /// The error for a response that is not a success: 404 → NotFound, 5xx → Unavailable, other →
  /// Internal; the message names `what` and the S3 error Code and Message of the XML body.
  static Status ErrorStatus(const S3Response& response, std::string_view what);
  /// An error when `response` is not 2xx, or is a 200 whose body is an <Error> document (which
  /// CompleteMultipartUpload and CopyObject may return); OK otherwise. Only for requests whose
  /// successful body is empty or XML (not GetObject: a blob may itself be XML).
  static Status CheckSuccess(const S3Response& response, std::string_view what);

 private:
  explicit S3Client(S3Options options);

  friend class S3BodyStream;
  struct Prepared;
  /// The signed URL and header lines of `request`.
  std::unique_ptr<Prepared> Prepare(const S3Request& request) const;
  /// Resets the curl handle and sets what every request has (URL, headers, timeouts, the address
  /// check writing refused addresses into `refused`, a RefusedAddresses).
  void Configure(void* curl, const Prepared& prepared, void* refused) const;
  /// The error for a transfer that ended with curl code `code`.
  Status TransportError(int code, const std::string& refused, std::string_view method,
                        const std::string& url) const;
  /// Waits before attempt `attempt` + 1 of a request (exponential backoff with jitter).
  void Backoff(const S3Request& request, int attempt, const std::string& outcome) const;
  Result<S3Response> SendOnce(const S3Request& request);
  Result<std::unique_ptr<S3BodyStream>> OpenOnce(const S3Request& request);
  void* AcquireHandle();
  void ReleaseHandle(void* handle);
  /// A curl easy handle with the multi handle it streams in (whose connection cache it keeps).
  std::pair<void*, void*> AcquireStreamHandles();
  void ReleaseStreamHandles(std::pair<void*, void*> handles, bool reusable);

  S3Options options_;
  std::string scheme_;     // "http" or "https"
  std::string authority_;  // host[:port] of the endpoint
  std::string base_path_;  // path of the endpoint without its trailing '/', usually ""

  std::mutex mu_;
  std::vector<void*> idle_;  // CURL* handles, each with its connection cache
  std::vector<std::pair<void*, void*>> idle_streams_;  // (CURL*, CURLM*) for Open
};

}  // namespace argus::store::s3
