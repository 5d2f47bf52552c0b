#include "core/log.h"

#include <spdlog/async.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>

#include "core/clock.h"

namespace argus::log {

namespace {

std::atomic<int> g_level{static_cast<int>(Level::kInfo)};
std::atomic<bool> g_json{true};
thread_local std::string_view t_request_id;

std::shared_ptr<spdlog::logger>& Logger() {
  static std::shared_ptr<spdlog::logger> logger = [] {
    auto l = spdlog::stderr_logger_mt("argus");
    l->set_pattern("%v");
    l->set_level(spdlog::level::trace);
    return l;
  }();
  return logger;
}

std::string_view LevelName(Level level) {
  switch (level) {
    case Level::kTrace:
      return "trace";
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
    case Level::kOff:
      return "off";
  }
  return "info";
}

}  // namespace

Result<Level> ParseLevel(std::string_view name) {
  for (Level l :
       {Level::kTrace, Level::kDebug, Level::kInfo, Level::kWarn, Level::kError, Level::kOff}) {
    if (LevelName(l) == name) return l;
  }
  return InvalidArgumentError("unknown log level '" + std::string(name) +
                              "' (trace, debug, info, warn, error, off)");
}

void Init(const Options& options) {
  g_level = static_cast<int>(options.level);
  g_json = options.json;
  // Lines are formatted by the caller and written by one background thread, so a slow stderr
  // never stalls an I/O thread for long; the queue blocks rather than dropping lines.
  spdlog::init_thread_pool(16384, 1);
  auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  auto logger = std::make_shared<spdlog::async_logger>("argus-async", sink, spdlog::thread_pool(),
                                                       spdlog::async_overflow_policy::block);
  logger->set_pattern("%v");
  logger->set_level(spdlog::level::trace);
  logger->flush_on(spdlog::level::warn);
  Logger() = logger;
  spdlog::flush_every(std::chrono::seconds(1));
}

void Shutdown() {
  Logger()->flush();
  spdlog::shutdown();
  Logger() = spdlog::stderr_logger_mt("argus-final");
  Logger()->set_pattern("%v");
}

bool Enabled(Level level) {
  return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed);
}

void Write(Level level, std::string_view msg, const Json& fields) {
  std::string ts = FormatRfc3339(SystemClock::Get().NowUs());
  std::string line;
  if (g_json.load(std::memory_order_relaxed)) {
    Json obj = Json::object();
    obj["ts"] = ts;
    obj["level"] = LevelName(level);
    obj["msg"] = msg;
    if (!t_request_id.empty()) obj["request_id"] = t_request_id;
    if (fields.is_object()) {
      for (auto it = fields.begin(); it != fields.end(); ++it) obj[it.key()] = it.value();
    }
    line = obj.dump(-1, ' ', false, Json::error_handler_t::replace);
  } else {
    line = ts + " " + std::string(LevelName(level)) + " " + std::string(msg);
    if (!t_request_id.empty()) line += " request_id=" + std::string(t_request_id);
    if (fields.is_object()) {
      for (auto it = fields.begin(); it != fields.end(); ++it) {
        line += " " + it.key() + "=" +
                (it->is_string() ? it->get<std::string>()
                                 : it->dump(-1, ' ', false, Json::error_handler_t::replace));
      }
    }
  }
  Logger()->log(spdlog::level::info, line);
}

RequestIdScope::RequestIdScope(std::string_view request_id) : previous_(t_request_id) {
  t_request_id = request_id;
}
RequestIdScope::~RequestIdScope() { t_request_id = previous_; }
std::string_view RequestIdScope::Current() { return t_request_id; }

}  // namespace argus::log
