#include <algorithm>
#include <charconv>
#include <cstdlib>

#include "api/handlers/handlers.h"
#include "core/crypto.h"

namespace argus::api {

std::optional<std::string> RequestContext::Query(std::string_view name) const {
  std::string_view q = http.query;
  while (!q.empty()) {
    size_t amp = q.find('&');
    std::string_view pair = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
    size_t eq = pair.find('=');
    std::string_view key = pair.substr(0, eq);
    if (key != name) continue;
    std::string value;
    std::string_view raw = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    std::string plus_fixed(raw);
    for (char& c : plus_fixed) {
      if (c == '+') c = ' ';
    }
    // A malformed escape is passed through undecoded, so the parameter's own validation
    // rejects it instead of it silently counting as absent.
    if (!PercentDecode(plus_fixed, &value)) return std::string(raw);
    return value;
  }
  return std::nullopt;
}

std::optional<double> PreferWait(const HttpRequest& req, double max_s) {
  // RFC 7240: Prefer: respond-async, wait=10 (preferences separated by ',' or ';').
  for (const auto& [name, value] : req.headers) {
    if (name != "prefer") continue;
    size_t pos = value.find("wait=");
    while (pos != std::string::npos) {
      if (pos == 0 || value[pos - 1] == ' ' || value[pos - 1] == ',' || value[pos - 1] == ';') {
        char* end = nullptr;
        std::string number = value.substr(pos + 5);
        double v = std::strtod(number.c_str(), &end);
        if (end != number.c_str() && v >= 0) return std::min(v, max_s);
      }
      pos = value.find("wait=", pos + 1);
    }
  }
  return std::nullopt;
}

Result<ListParams> ParseListParams(const RequestContext& ctx, size_t max_cursor_bytes) {
  ListParams p;
  if (auto limit = ctx.Query("limit")) {
    int v = 0;
    auto [ptr, ec] = std::from_chars(limit->data(), limit->data() + limit->size(), v);
    if (ec != std::errc() || ptr != limit->data() + limit->size() || v < 1 || v > 1000) {
      return InvalidArgumentError("query parameter 'limit' must be an integer from 1 to 1000");
    }
    p.page.limit = v;
  }
  if (auto cursor = ctx.Query("cursor"); cursor && !cursor->empty()) {
    std::string decoded;
    if (!Base64UrlDecode(*cursor, &decoded) || decoded.size() > max_cursor_bytes) {
      return InvalidArgumentError("query parameter 'cursor' is not a cursor this server issued");
    }
    p.page.after_id = decoded;
  }
  return p;
}

Json ListBody(Json items, const std::string& next_after_id) {
  Json body = {{"items", std::move(items)}};
  body["next_cursor"] =
      next_after_id.empty() ? Json(nullptr) : Json(Base64UrlEncode(next_after_id));
  return body;
}

Json ListSchema(const Json& item_schema) {
  return {{"type", "object"},
          {"required", {"items", "next_cursor"}},
          {"properties",
           {{"items", {{"type", "array"}, {"items", item_schema}}},
            {"next_cursor",
             {{"type", {"string", "null"}},
              {"description", "pass as ?cursor= for the next page; null on the last page"}}}}}};
}

std::vector<QueryParam> ListQueryParams() {
  return {{"limit",
           {{"type", "integer"}, {"minimum", 1}, {"maximum", 1000}, {"default", 50}},
           "page size"},
          {"cursor", {{"type", "string"}}, "next_cursor of the previous page"}};
}

}  // namespace argus::api
