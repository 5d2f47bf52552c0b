#include "cli/http_client.h"

#include <curl/curl.h>

namespace argus::cli {

namespace {

size_t Collect(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

StatusCode CodeFor(long http) {
  switch (http) {
    case 400:
      return StatusCode::kInvalidArgument;
    case 401:
      return StatusCode::kUnauthenticated;
    case 403:
      return StatusCode::kPermissionDenied;
    case 404:
      return StatusCode::kNotFound;
    case 409:
      return StatusCode::kAlreadyExists;
    case 412:
      return StatusCode::kConditionFailed;
    case 429:
      return StatusCode::kResourceExhausted;
    case 503:
      return StatusCode::kUnavailable;
    case 504:
      return StatusCode::kDeadlineExceeded;
    default:
      return StatusCode::kInternal;
  }
}

}  // namespace

Result<Json> HttpClient::Call(const std::string& method, const std::string& path, const Json& body,
                              const std::vector<std::string>& extra_headers) {
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return InternalError("libcurl failed to initialise");
  std::string url = options_.url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  url += path;
  std::string response, payload;
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Accept: application/json");
  if (!options_.key.empty()) {
    headers = curl_slist_append(headers, ("Authorization: Bearer " + options_.key).c_str());
  }
  if (!options_.ns.empty()) {
    headers = curl_slist_append(headers, ("X-Namespace: " + options_.ns).c_str());
  }
  for (const auto& h : extra_headers) headers = curl_slist_append(headers, h.c_str());
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  if (!body.is_null()) {
    payload = body.dump();
    headers = curl_slist_append(headers, "Content-Type: application/json");
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, payload.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(payload.size()));
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response);
  curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 600L);
  CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK) {
    return UnavailableError("cannot reach argus at " + options_.url + ": " +
                            curl_easy_strerror(rc) + " (is `argus serve` running? set --url)");
  }
  Json parsed = nullptr;
  if (!response.empty()) {
    parsed = Json::parse(response, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded()) {
      return InternalError("the server answered " + std::to_string(status) + " with non-JSON");
    }
  }
  if (status >= 200 && status < 300) return parsed;
  std::string message = "HTTP " + std::to_string(status);
  if (parsed.is_object() && parsed.contains("error")) {
    message = parsed["error"].value("code", "") + ": " + parsed["error"].value("message", "");
  }
  return Status(CodeFor(status), message);
}

}  // namespace argus::cli
