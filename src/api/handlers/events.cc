#include <atomic>
#include <charconv>
#include <mutex>

#include "api/event_streams.h"
#include "api/handlers/handlers.h"
#include "core/json_schema.h"

namespace argus::api {

namespace {

std::set<std::string> CommaSet(const std::string& text) {
  std::set<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    if (comma > start) out.insert(text.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

// An event id as clients send it back (Last-Event-ID, `since`): a non-negative integer.
bool ParseEventId(const std::string& text, int64_t* out) {
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && p == text.data() + text.size() && *out >= 0;
}

}  // namespace

void AddEventRoutes(Router& router, HandlerEnv env) {
  router.Add(
      {.method = "GET",
       .pattern = "/v1/events",
       .operation_id = "streamEvents",
       .summary = "Server-Sent Events of task state changes; resume with Last-Event-ID",
       .tag = "events",
       .access = Access::kAnyKey,
       .query = {{"types",
                  {{"type", "string"}},
                  "comma-separated event types, e.g. task.succeeded"},
                 {"task_ids", {{"type", "string"}}, "comma-separated task ids"},
                 {"last_event_id", {{"type", "string"}}, "resume after this id (as the header)"},
                 {"access_token", {{"type", "string"}}, "the API key, for EventSource clients"}},
       .response_content_type = "text/event-stream",
       .allow_query_token = true,
       .handler = [env](RequestContext& ctx) -> Result<ApiResponse> {
         EventStreams::Filter filter;
         filter.namespace_id = ctx.namespace_id;  // empty only for a global key without one
         filter.types = CommaSet(ctx.Query("types").value_or(""));
         filter.task_ids = CommaSet(ctx.Query("task_ids").value_or(""));
         std::string resume(ctx.http.Header("last-event-id"));
         if (resume.empty()) resume = ctx.Query("last_event_id").value_or("");
         int64_t after = 0;
         if (!resume.empty()) {
           if (!ParseEventId(resume, &after)) {
             return InvalidArgumentError("Last-Event-ID '" + resume + "' is not an event id");
           }
         } else {
           after = env.streams->Head();
         }
         ApiResponse r;
         r.stream = [env, filter, after](std::shared_ptr<StreamSink> sink) {
           env.streams->Subscribe(filter, after, std::move(sink));
         };
         r.content_type = "text/event-stream";
         r.headers.emplace_back("X-Accel-Buffering", "no");
         return r;
       }});
}

}  // namespace argus::api

namespace argus::api {

namespace {

const Json kSubscribeSchema = {
    {"type", "object"},
    {"additionalProperties", false},
    {"properties",
     {{"subscribe",
       {{"type", "object"},
        {"additionalProperties", false},
        {"properties",
         {{"events", {{"type", "array"}, {"maxItems", 50}, {"items", {{"type", "string"}}}}},
          {"task_ids",
           {{"type", "array"}, {"maxItems", 10000}, {"items", {{"type", "string"}}}}}}}}},
      {"since", {{"type", "string"}, {"maxLength", 20}}}}}};

// Compiled once, on first use.
const JsonSchema& SubscribeSchema() {
  static const JsonSchema schema = std::move(JsonSchema::Compile(kSubscribeSchema)).value();
  return schema;
}

// Adapts a WebSocket to the event feed: each event becomes one text frame. A new subscription
// retires the previous adapter (its Write fails, so the feed drops it).
class WebSocketSink final : public StreamSink {
 public:
  explicit WebSocketSink(std::shared_ptr<WebSocketPeer> peer) : peer_(std::move(peer)) {}
  bool Write(std::string bytes) override { return active_.load() && peer_->Send(std::move(bytes)); }
  void Close() override {
    if (active_.exchange(false)) peer_->Close();
  }
  void Retire() { active_ = false; }

 private:
  std::shared_ptr<WebSocketPeer> peer_;
  std::atomic<bool> active_{true};
};

struct WebSocketState {
  std::mutex mu;
  std::shared_ptr<WebSocketSink> sink;  // GUARDED_BY(mu)
};

void SendError(WebSocketPeer& peer, std::string_view message) {
  peer.Send(Json{{"error", {{"code", "invalid_argument"}, {"message", message}}}}.dump());
}

}  // namespace

void AddWebSocketRoutes(Router& router, HandlerEnv env) {
  router.Add({.method = "GET",
              .pattern = "/v1/ws",
              .operation_id = "eventsWebSocket",
              .summary =
                  "WebSocket of task events: send {\"subscribe\": {\"events\", \"task_ids\"}, "
                  "\"since\"?}; frames are {\"id\", \"type\", \"data\"}",
              .tag = "events",
              .access = Access::kAnyKey,
              .success_status = 101,
              .query = {{"access_token", {{"type", "string"}}, "the API key, for browser clients"}},
              .response_content_type = "",
              .allow_query_token = true,
              .handler = [env](RequestContext& ctx) -> Result<ApiResponse> {
                std::string upgrade(ctx.http.Header("upgrade"));
                for (auto& c : upgrade)
                  c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
                if (upgrade != "websocket") {
                  return InvalidArgumentError("/v1/ws expects a WebSocket upgrade request");
                }
                auto state = std::make_shared<WebSocketState>();
                auto handler = std::make_shared<WebSocketHandler>();
                std::string ns = ctx.namespace_id;
                handler->on_message = [env, state, ns](std::shared_ptr<WebSocketPeer> peer,
                                                       std::string_view text) {
                  auto msg = ParseJson(text);
                  Status valid = msg.ok() ? SubscribeSchema().Validate(*msg) : msg.status();
                  if (!valid.ok()) return SendError(*peer, valid.message());
                  EventStreams::Filter filter;
                  filter.namespace_id = ns;
                  int64_t after = env.streams->Head();
                  if (auto it = msg->find("subscribe"); it != msg->end()) {
                    for (const auto& e : it->value("events", std::vector<std::string>{})) {
                      filter.types.insert(e);
                    }
                    for (const auto& t : it->value("task_ids", std::vector<std::string>{})) {
                      filter.task_ids.insert(t);
                    }
                  }
                  if (auto it = msg->find("since"); it != msg->end()) {
                    std::string since = it->get<std::string>();
                    if (!ParseEventId(since, &after)) {
                      return SendError(*peer, "'since' is not an event id");
                    }
                  }
                  auto sink = std::make_shared<WebSocketSink>(peer);
                  {
                    std::lock_guard lock(state->mu);
                    if (state->sink) state->sink->Retire();
                    state->sink = sink;
                  }
                  peer->Send(Json{{"subscribed", {{"since", std::to_string(after)}}}}.dump());
                  env.streams->Subscribe(filter, after, sink, EventStreams::Format::kJsonFrames);
                };
                handler->on_close = [state] {
                  std::lock_guard lock(state->mu);
                  if (state->sink) state->sink->Retire();
                };
                ApiResponse r;
                r.status = 101;
                r.websocket = handler;
                return r;
              }});
}

}  // namespace argus::api
