#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace argus::store::s3 {

/// AWS Signature Version 4 (header form), as S3 and every S3-compatible server check it:
/// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
/// Pure functions: no clock, no I/O (the caller passes the request time).

struct SigV4Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string region;   ///< e.g. "us-east-1"
  std::string service;  ///< "s3"
};

/// What is signed. Header names may have any case; values are trimmed. `host` is signed as the
/// "host" header and must be exactly what is sent (with ":port" when not the scheme default).
struct SigV4Request {
  std::string method;                                        ///< "GET", "PUT", ...
  std::string host;                                          ///< "bucket.s3.amazonaws.com"
  std::string canonical_uri;                                 ///< URI-encoded path, "/" at least
  std::vector<std::pair<std::string, std::string>> query;    ///< raw (not encoded) names, values
  std::vector<std::pair<std::string, std::string>> headers;  ///< signed besides "host"
  std::string payload_sha256;  ///< lowercase hex SHA-256 of the body, or "UNSIGNED-PAYLOAD"
};

/// RFC 3986 percent-encoding as SigV4 wants it: unreserved characters (A-Z a-z 0-9 - . _ ~) stay,
/// every other byte becomes %XX (uppercase); '/' stays when `keep_slash` (object key paths).
std::string UriEncode(std::string_view text, bool keep_slash);

/// "name=value&..." with names and values URI-encoded, sorted by name then value: both the
/// canonical query string and the query to put in the URL.
std::string CanonicalQueryString(const std::vector<std::pair<std::string, std::string>>& query);

/// The canonical request (method, URI, query, headers, signed header names, payload hash).
std::string CanonicalRequest(const SigV4Request& request);

/// The string to sign for `amz_date` ("20130524T000000Z", UTC).
std::string StringToSign(const SigV4Request& request, const SigV4Credentials& credentials,
                         std::string_view amz_date);

/// The hex signature.
std::string Signature(const SigV4Request& request, const SigV4Credentials& credentials,
                      std::string_view amz_date);

/// The value of the Authorization header:
/// "AWS4-HMAC-SHA256 Credential=<id>/<date>/<region>/<service>/aws4_request,
/// SignedHeaders=<names>, Signature=<hex>". The request must also carry `x-amz-date: amz_date`
/// (normally one of `headers`, so that it is signed).
std::string AuthorizationHeader(const SigV4Request& request, const SigV4Credentials& credentials,
                                std::string_view amz_date);

}  // namespace argus::store::s3
