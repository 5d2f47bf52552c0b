#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/json.h"
#include "core/result.h"

namespace argus {

enum class ConfigType { kString, kInt, kDouble, kBool, kStringList };

/// One configuration key. The table of all keys (ConfigKeys()) is the schema: it gives the type,
/// the default, the documentation and the environment variable of every setting.
struct ConfigKey {
  std::string_view path;  ///< dotted YAML path, e.g. "http.max_body_bytes"
  ConfigType type;
  std::string_view default_json;  ///< default as JSON text: "1048576", "\"info\"", "[]"
  std::string_view help;          ///< one line for `argus config reference` and the README
  bool secret = false;            ///< masked by `argus config print`
  char list_separator = ',';      ///< for kStringList values given as env or flag text
};

/// The keys a module declares for itself, next to the code that reads them: a backend its own
/// settings (`blobs.s3.*` in store/s3, `metadata.sqlite.*` in store/sqlite). Define one at
/// namespace scope in the translation unit that reads the keys, so it is registered before main
/// whenever that code is linked:
///   const ConfigKeyGroup kS3Keys("store/s3", kS3KeyTable);
/// `keys` must outlive the program (a constexpr table).
class ConfigKeyGroup {
 public:
  ConfigKeyGroup(std::string_view owner, std::span<const ConfigKey> keys);
};

/// Every key Argus knows, in documentation order: the core table (server, HTTP, tasks, the
/// choice of backends...), then each module's group by owner. Thread-safe; the reference stays
/// valid for the program's life.
const std::vector<ConfigKey>& ConfigKeys();

/// "webhooks.allow_private_targets" → "ARGUS_WEBHOOKS_ALLOW_PRIVATE_TARGETS".
std::string ConfigEnvName(std::string_view path);

/// The effective configuration. Precedence, lowest first: built-in defaults, the YAML file,
/// ARGUS_* environment variables, command-line flags. Unknown keys in the file, unparsable values
/// and wrong types are errors naming the key and where it came from. Immutable after Load():
/// safe to share across threads.
class Config {
 public:
  struct Sources {
    std::string file;  ///< YAML file; empty for none
    /// Environment as "NAME=value" strings (e.g. from `environ`); only ARGUS_* names matter.
    std::vector<std::string> env;
    /// Flag overrides as (path, text) pairs, e.g. ("server.listen", "0.0.0.0:8080").
    std::vector<std::pair<std::string, std::string>> flags;
  };

  /// Defaults only.
  Config();
  static Result<Config> Load(const Sources& sources);

  /// Typed access. REQUIRES: `path` is a key of ConfigKeys() of that type (aborts otherwise:
  /// a programmer error).
  const std::string& GetString(std::string_view path) const;
  int64_t GetInt(std::string_view path) const;
  double GetDouble(std::string_view path) const;
  bool GetBool(std::string_view path) const;
  std::vector<std::string> GetStringList(std::string_view path) const;

  /// Where a value came from: "default", "file", "env" or "flag".
  const std::string& SourceOf(std::string_view path) const;

  /// The effective configuration as nested YAML, each key with its source as a comment;
  /// secrets that are set print as "********".
  std::string ToYaml(bool mask_secrets = true) const;

  /// Sets one value from text as a flag would (tests, composition root).
  Status Set(std::string_view path, std::string_view text, std::string_view source);

 private:
  const Json& Get(std::string_view path, ConfigType type) const;

  std::map<std::string, Json, std::less<>> values_;
  std::map<std::string, std::string, std::less<>> sources_;
};

/// Documentation of every key as a Markdown table: `argus config reference` prints it, and
/// README.md carries a copy that ConfigDocTest keeps current.
std::string ConfigReferenceMarkdown();

}  // namespace argus
