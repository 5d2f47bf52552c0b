#include <algorithm>
#include <set>

#include "api/handlers/handlers.h"
#include "core/id.h"
#include "core/ip_address.h"
#include "core/webhook_signature.h"

namespace argus::api {

namespace {

// Every event type a webhook may name, and the families "prefix.*" may name.
constexpr std::string_view kEventTypes[] = {
    "task.created",   "task.started",    "task.progress",  "task.retrying",   "task.succeeded",
    "task.failed",    "task.cancelled",  "object.created", "object.deleted",  "batch.submitted",
    "batch.progress", "batch.completed", "batch.failed",   "batch.cancelled", "batch.retried"};
constexpr std::string_view kEventFamilies[] = {"task", "object", "batch"};

constexpr double kDefaultGraceS = 24 * 3600;
constexpr size_t kMaxUrlBytes = 2048;

const Json kEventsSchema = {
    {"type", "array"},
    {"minItems", 1},
    {"maxItems", 50},
    {"items", {{"type", "string"}, {"minLength", 1}, {"maxLength", 64}}},
    {"description",
     "event types: exact (task.failed, object.created, batch.completed), task.*, object.*, "
     "batch.* or *"}};

const Json kCreateSchema = {
    {"type", "object"},
    {"additionalProperties", false},
    {"required", {"url", "events"}},
    {"properties",
     {{"url", {{"type", "string"}, {"minLength", 1}, {"maxLength", kMaxUrlBytes}}},
      {"events", kEventsSchema},
      {"description", {{"type", "string"}, {"maxLength", 500}}},
      {"enabled", {{"type", "boolean"}}}}}};

const Json kUpdateSchema = {
    {"type", "object"},
    {"additionalProperties", false},
    {"properties",
     {{"url", {{"type", "string"}, {"minLength", 1}, {"maxLength", kMaxUrlBytes}}},
      {"events", kEventsSchema},
      {"description", {{"type", "string"}, {"maxLength", 500}}},
      {"enabled",
       {{"type", "boolean"}, {"description", "true also clears a disable after failures"}}}}}};

const Json kRotateSchema = {
    {"type", "object"},
    {"additionalProperties", false},
    {"properties",
     {{"grace_s",
       {{"type", "number"},
        {"minimum", 0},
        {"maximum", 7 * 86400},
        {"description", "how long the old secret still signs (default 86400)"}}}}}};

const Json kWebhookSchema = {
    {"type", "object"},
    {"required", {"id", "url", "events", "enabled", "created_at"}},
    {"properties",
     {{"id", {{"type", "string"}}},
      {"url", {{"type", "string"}}},
      {"description", {{"type", "string"}}},
      {"events", {{"type", "array"}, {"items", {{"type", "string"}}}}},
      {"enabled", {{"type", "boolean"}}},
      {"disabled_reason", {{"type", {"string", "null"}}}},
      {"consecutive_failures", {{"type", "integer"}}},
      {"secret",
       {{"type", "string"},
        {"description", "whsec_...; only in the answers of create and rotate-secret"}}},
      {"previous_secret_expires_at", {{"type", {"string", "null"}}}},
      {"created_at", {{"type", "string"}}},
      {"updated_at", {{"type", "string"}}}}}};

const Json kDeliverySchema = {
    {"type", "object"},
    {"required", {"id", "webhook_id", "event_id", "event_type", "status", "attempts"}},
    {"properties",
     {{"id", {{"type", "string"}}},
      {"webhook_id", {{"type", "string"}}},
      {"event_id", {{"type", "string"}, {"description", "the webhook-id header"}}},
      {"event_type", {{"type", "string"}}},
      {"status", {{"type", "string"}, {"enum", {"pending", "succeeded", "failed"}}}},
      {"attempts", {{"type", "integer"}}},
      {"max_attempts", {{"type", "integer"}}},
      {"next_attempt_at", {{"type", {"string", "null"}}}},
      {"last_status_code", {{"type", {"integer", "null"}}}},
      {"last_error", {{"type", {"string", "null"}}}},
      {"last_latency_ms", {{"type", {"number", "null"}}}},
      {"payload", {{"description", "the body sent (only when getting one delivery)"}}},
      {"attempt_log",
       {{"type", "array"},
        {"description", "every attempt: attempt, at, status_code, latency_ms, error"}}},
      {"created_at", {{"type", "string"}}},
      {"updated_at", {{"type", "string"}}}}}};

Json WebhookJson(const store::Webhook& w, bool with_secret) {
  Json j = {
      {"id", w.id},
      {"url", w.url},
      {"description", w.description},
      {"events", w.events},
      {"enabled", w.enabled},
      {"disabled_reason", w.disabled_reason.empty() ? Json(nullptr) : Json(w.disabled_reason)},
      {"consecutive_failures", w.consecutive_failures},
      {"previous_secret_expires_at", w.previous_secret.empty()
                                         ? Json(nullptr)
                                         : Json(FormatRfc3339(w.previous_secret_expires_at))},
      {"created_at", FormatRfc3339(w.created_at)},
      {"updated_at", FormatRfc3339(w.updated_at)}};
  if (with_secret) j["secret"] = w.secret;
  return j;
}

Json DeliveryJson(const store::WebhookDelivery& d) {
  bool tried = d.attempts > 0;
  return {{"id", d.id},
          {"webhook_id", d.webhook_id},
          {"event_id", d.event_id},
          {"event_type", d.event_type},
          {"status", store::DeliveryStatusName(d.status)},
          {"attempts", d.attempts},
          {"max_attempts", d.max_attempts},
          {"next_attempt_at", d.status == store::DeliveryStatus::kPending
                                  ? Json(FormatRfc3339(d.next_attempt_at))
                                  : Json(nullptr)},
          {"last_status_code",
           tried && d.last_status_code > 0 ? Json(d.last_status_code) : Json(nullptr)},
          {"last_error", d.last_error.empty() ? Json(nullptr) : Json(d.last_error)},
          {"last_latency_ms", tried ? Json(d.last_latency_ms) : Json(nullptr)},
          {"created_at", FormatRfc3339(d.created_at)},
          {"updated_at", FormatRfc3339(d.updated_at)}};
}

Status CheckEvents(const Json& events) {
  std::set<std::string> seen;
  for (const auto& e : events) {
    const std::string& p = e.get_ref<const std::string&>();
    bool known = p == "*" || std::find(std::begin(kEventTypes), std::end(kEventTypes), p) !=
                                 std::end(kEventTypes);
    for (std::string_view family : kEventFamilies) {
      known = known || (p.size() == family.size() + 2 && p.compare(0, family.size(), family) == 0 &&
                        p.compare(family.size(), 2, ".*") == 0);
    }
    if (!known) {
      std::string list;
      for (std::string_view t : kEventTypes) list.append(list.empty() ? "" : ", ").append(t);
      return InvalidArgumentError("unknown event type '" + p + "' (known: " + list +
                                  "; or task.*, object.*, batch.* or *)");
    }
    if (!seen.insert(p).second) return InvalidArgumentError("event type '" + p + "' is repeated");
  }
  return OkStatus();
}

// Accepts http(s)://host[:port][/path][?query] without credentials. A literal IP address that is
// not public is refused here already (unless allowed); names are checked on every connection.
Status CheckUrl(const std::string& url, bool allow_private) {
  for (unsigned char c : url) {
    if (c <= 0x20 || c >= 0x7f) {
      return InvalidArgumentError("url must be plain ASCII without spaces (percent-encode)");
    }
  }
  std::string lower = url.substr(0, 8);
  std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
  size_t scheme_len = lower.rfind("https://", 0) == 0 ? 8 : lower.rfind("http://", 0) == 0 ? 7 : 0;
  if (scheme_len == 0) return InvalidArgumentError("url must start with http:// or https://");
  std::string_view rest = std::string_view(url).substr(scheme_len);
  std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  if (rest.find('#') != std::string_view::npos) {
    return InvalidArgumentError("url must not have a fragment");
  }
  if (authority.find('@') != std::string_view::npos) {
    return InvalidArgumentError("url must not contain credentials (user@); sign with the secret");
  }
  std::string_view host = authority, port;
  if (!host.empty() && host.front() == '[') {
    size_t close = host.find(']');
    if (close == std::string_view::npos) return InvalidArgumentError("url has a malformed host");
    port = host.substr(close + 1);
    host = host.substr(0, close + 1);
  } else if (size_t colon = host.rfind(':'); colon != std::string_view::npos) {
    port = host.substr(colon);
    host = host.substr(0, colon);
  }
  if (host.empty()) return InvalidArgumentError("url has no host");
  if (!port.empty()) {
    if (port.front() != ':' || port.size() < 2 || port.size() > 6 ||
        !std::all_of(port.begin() + 1, port.end(), ::isdigit) ||
        std::stoi(std::string(port.substr(1))) > 65535 ||
        std::stoi(std::string(port.substr(1))) == 0) {
      return InvalidArgumentError("url has a malformed port");
    }
  }
  IpBytes ip;
  if (!allow_private && ParseIp(host, &ip) && !IsPublicAddress(ip)) {
    return InvalidArgumentError(
        "url targets a loopback, private or link-local address; the "
        "server setting webhooks.allow_private_targets allows that");
  }
  return OkStatus();
}

}  // namespace

void AddWebhookRoutes(Router& router, HandlerEnv env) {
  router.Add({.method = "POST",
              .pattern = "/v1/webhooks",
              .operation_id = "createWebhook",
              .summary = "Subscribe a URL to events (the answer holds the signing secret)",
              .tag = "webhooks",
              .access = Access::kNamespaceAdmin,
              .request_schema = kCreateSchema,
              .response_schema = kWebhookSchema,
              .success_status = 201,
              .handler = [env](RequestContext& ctx) -> Result<ApiResponse> {
                const Json& b = ctx.body;
                store::Webhook w;
                w.url = b["url"].get<std::string>();
                ARGUS_RETURN_IF_ERROR(CheckUrl(w.url, env.deps->webhooks_allow_private_targets));
                ARGUS_RETURN_IF_ERROR(CheckEvents(b["events"]));
                w.events = b["events"].get<std::vector<std::string>>();
                w.description = b.value("description", "");
                w.enabled = b.value("enabled", true);
                w.id = NewId();
                w.namespace_id = ctx.namespace_id;
                w.secret = NewWebhookSecret();
                w.created_at = w.updated_at = env.deps->clock->NowUs();
                ARGUS_ASSIGN_OR_RETURN(auto created, env.deps->webhooks->CreateWebhook(w));
                auto resp = ApiResponse::Of(201, WebhookJson(created, true));
                resp.headers.emplace_back("Location", "/v1/webhooks/" + created.id);
                return resp;
              }});
  router.Add({.method = "GET",
              .pattern = "/v1/webhooks",
              .operation_id = "listWebhooks",
              .summary = "List webhooks, oldest first",
              .tag = "webhooks",
              .access = Access::kNamespaceViewer,
              .response_schema = ListSchema(kWebhookSchema),
              .query = ListQueryParams(),
              .handler = [env](RequestContext& ctx) -> Result<ApiResponse> {
                ARGUS_ASSIGN_OR_RETURN(auto params, ParseListParams(ctx));
                ARGUS_ASSIGN_OR_RETURN(
                    auto page, env.deps->webhooks->ListWebhooks(ctx.namespace_id, params.page));
                Json items = Json::array();
                for (const auto& w : page.items) items.push_back(WebhookJson(w, false));
                return ApiResponse::Of(200, ListBody(std::move(items), page.next_after_id));
              }});
  router.Add({.method = "GET",
              .pattern = "/v1/webhooks/{id}",
              .operation_id = "getWebhook",
              .summary = "Get a webhook (without its secret)",
              .tag = "webhooks",
              .access = Access::kNamespaceViewer,
              .response_schema = kWebhookSchema,
              .handler = [env](RequestContext& ctx) -> Result<ApiResponse> {
                ARGUS_ASSIGN_OR_RETURN(
                    auto w, env.deps->webhooks->GetWebhook(ctx.namespace_id, ctx.PathParam("id")));
                return ApiResponse::Of(200, WebhookJson(w, false));
              }});
  router.Add({.method = "PATCH",
              .pattern = "/v1/webhooks/{id}",
              .operation_id = "updateWebhook",
              .summary = "Change url, events, description or enabled",
              .tag = "webhooks",
              .access = Access::kNamespaceAdmin,
              .request_schema = kUpdateSchema,
              .response_schema = kWebhookSchema,
              .handler = [env](RequestContext& ctx) -> Result<ApiResponse> {
                const Json& b = ctx.body;
                store::WebhookUpdate u;
                if (b.contains("url")) {
                  u.url = b["url"].get<std::string>();
                  ARGUS_RETURN_IF_ERROR(CheckUrl(*u.url, env.deps->webhooks_allow_private_targets));
                }
                if (b.contains("events")) {
                  ARGUS_RETURN_IF_ERROR(CheckEvents(b["events"]));
                  u.events = b["events"].get<std::vector<std::string>>();
                }
                if (b.contains("description")) u.description = b["description"].get<std::string>();
                if (b.contains("enabled")) u.enabled = b["enabled"].get<bool>();
                ARGUS_ASSIGN_OR_RETURN(
                    auto w, env.deps->webhooks->UpdateWebhook(ctx.namespace_id, ctx.PathParam("id"),
                                                              u, env.deps->clock->NowUs()));
                return ApiResponse::Of(200, WebhookJson(w, false));
              }});
  router.Add({.method = "DELETE",
              .pattern = "/v1/webhooks/{id}",
              .operation_id = "deleteWebhook",
              .summary = "Delete a webhook with its delivery log",
              .tag = "webhooks",
              .access = Access::kNamespaceAdmin,
              .success_status = 204,
              .handler = [env](RequestContext& ctx) -> Result<ApiResponse> {
                ARGUS_RETURN_IF_ERROR(
                    env.deps->webhooks->DeleteWebhook(ctx.namespace_id, ctx.PathParam("id")));
                return ApiResponse::NoContent();
              }});
  router.Add({.method = "POST",
              .pattern = "/v1/webhooks/{id}/rotate-secret",
              .operation_id = "rotateWebhookSecret",
              .summary = "New signing secret; the old one also signs for grace_s seconds",
              .tag = "webhooks",
              .access = Access::kNamespaceAdmin,
              .request_schema = kRotateSchema,
              .response_schema = kWebhookSchema,
              .handler = [env](RequestContext& ctx) -> Result<ApiResponse> {
                double grace_s = ctx.body.value("grace_s", kDefaultGraceS);
                TimestampUs now = env.deps->clock->NowUs();
                ARGUS_ASSIGN_OR_RETURN(
                    auto w, env.deps->webhooks->RotateSecret(
                                ctx.namespace_id, ctx.PathParam("id"), NewWebhookSecret(),
                                now + static_cast<TimestampUs>(grace_s * 1e6), now));
                return ApiResponse::Of(200, WebhookJson(w, true));
              }});
  router.Add({.method = "GET",
              .pattern = "/v1/webhooks/{id}/deliveries",
              .operation_id = "listWebhookDeliveries",
              .summary = "The delivery log of a webhook, newest first",
              .tag = "webhooks",
              .access = Access::kNamespaceViewer,
              .response_schema = ListSchema(kDeliverySchema),
              .query =
                  [] {
                    auto q = ListQueryParams();
                    q.push_back({"status",
                                 {{"type", "string"}, {"enum", {"pending", "succeeded", "failed"}}},
                                 "only deliveries in this state"});
                    return q;
                  }(),
              .handler = [env](RequestContext& ctx) -> Result<ApiResponse> {
                ARGUS_ASSIGN_OR_RETURN(auto params, ParseListParams(ctx));
                std::optional<store::DeliveryStatus> status;
                if (auto s = ctx.Query("status")) {
                  ARGUS_ASSIGN_OR_RETURN(status, store::ParseDeliveryStatus(*s));
                }
                std::string_view id = ctx.PathParam("id");
                // NotFound for a webhook of another namespace rather than an empty log.
                ARGUS_RETURN_IF_ERROR(
                    env.deps->webhooks->GetWebhook(ctx.namespace_id, id).status());
                ARGUS_ASSIGN_OR_RETURN(auto page, env.deps->webhooks->ListDeliveries(
                                                      ctx.namespace_id, id, status, params.page));
                Json items = Json::array();
                for (const auto& d : page.items) items.push_back(DeliveryJson(d));
                return ApiResponse::Of(200, ListBody(std::move(items), page.next_after_id));
              }});
  router.Add({.method = "GET",
              .pattern = "/v1/webhooks/{id}/deliveries/{delivery_id}",
              .operation_id = "getWebhookDelivery",
              .summary = "One delivery with its payload and every attempt",
              .tag = "webhooks",
              .access = Access::kNamespaceViewer,
              .response_schema = kDeliverySchema,
              .handler = [env](RequestContext& ctx) -> Result<ApiResponse> {
                ARGUS_ASSIGN_OR_RETURN(
                    auto d, env.deps->webhooks->GetDelivery(ctx.namespace_id, ctx.PathParam("id"),
                                                            ctx.PathParam("delivery_id")));
                ARGUS_ASSIGN_OR_RETURN(auto attempts, env.deps->webhooks->ListAttempts(d.id));
                Json j = DeliveryJson(d);
                j["payload"] = Json::parse(d.payload, nullptr, false);
                Json log = Json::array();
                for (const auto& a : attempts) {
                  log.push_back({{"attempt", a.attempt},
                                 {"at", FormatRfc3339(a.at)},
                                 {"status_code", a.status_code > 0 ? Json(a.status_code) : Json()},
                                 {"latency_ms", a.latency_ms},
                                 {"error", a.error.empty() ? Json(nullptr) : Json(a.error)}});
                }
                j["attempt_log"] = std::move(log);
                return ApiResponse::Of(200, std::move(j));
              }});
  router.Add({.method = "POST",
              .pattern = "/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver",
              .operation_id = "redeliverWebhookDelivery",
              .summary = "Send a delivery again now, with a fresh attempt budget",
              .tag = "webhooks",
              .access = Access::kNamespaceEditor,
              .response_schema = kDeliverySchema,
              .success_status = 202,
              .handler = [env](RequestContext& ctx) -> Result<ApiResponse> {
                ARGUS_ASSIGN_OR_RETURN(
                    auto d, env.deps->webhooks->Redeliver(
                                ctx.namespace_id, ctx.PathParam("id"), ctx.PathParam("delivery_id"),
                                env.deps->webhook_max_attempts, env.deps->clock->NowUs()));
                return ApiResponse::Of(202, DeliveryJson(d));
              }});
}

}  // namespace argus::api
