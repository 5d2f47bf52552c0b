#include <charconv>

#include "api/event_streams.h"
#include "api/handlers/handlers.h"

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
           auto [p, ec] = std::from_chars(resume.data(), resume.data() + resume.size(), after);
           if (ec != std::errc() || p != resume.data() + resume.size() || after < 0) {
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
