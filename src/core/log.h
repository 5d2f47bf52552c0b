#pragma once

#include <string>
#include <string_view>

#include "core/json.h"
#include "core/status.h"

namespace argus::log {

enum class Level { kTrace, kDebug, kInfo, kWarn, kError, kOff };

struct Options {
  Level level = Level::kInfo;
  bool json = true;  ///< one JSON object per line; false = human-readable text
};

/// Parses "trace|debug|info|warn|error|off".
Result<Level> ParseLevel(std::string_view name);

/// Configures the process-wide logger (spdlog, stderr, asynchronous). Call once at start-up;
/// before it, lines go to stderr synchronously at info level. Thread-safe after that.
void Init(const Options& options);
/// Flushes and stops the background writer (at exit).
void Shutdown();

bool Enabled(Level level);

/// Writes one line: {"ts","level","msg","request_id"?, ...fields}. `fields` must be an object or
/// null. The request id of the calling thread's current request (RequestIdScope) is added.
void Write(Level level, std::string_view msg, const Json& fields = nullptr);

inline void Debug(std::string_view msg, const Json& fields = nullptr) {
  if (Enabled(Level::kDebug)) Write(Level::kDebug, msg, fields);
}
inline void Info(std::string_view msg, const Json& fields = nullptr) {
  if (Enabled(Level::kInfo)) Write(Level::kInfo, msg, fields);
}
inline void Warn(std::string_view msg, const Json& fields = nullptr) {
  if (Enabled(Level::kWarn)) Write(Level::kWarn, msg, fields);
}
inline void Error(std::string_view msg, const Json& fields = nullptr) {
  if (Enabled(Level::kError)) Write(Level::kError, msg, fields);
}

/// Tags every line the current thread writes with a request id while in scope. The HTTP layer
/// opens one around each handler call. Not copyable; nests (restores the outer id).
class RequestIdScope {
 public:
  explicit RequestIdScope(std::string_view request_id);
  ~RequestIdScope();
  RequestIdScope(const RequestIdScope&) = delete;
  RequestIdScope& operator=(const RequestIdScope&) = delete;

  static std::string_view Current();

 private:
  std::string_view previous_;
};

}  // namespace argus::log
