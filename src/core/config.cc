#include "core/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <sstream>

namespace argus {

namespace {

using T = ConfigType;

// The schema of the core settings. A backend declares its own keys beside its code
// (ConfigKeyGroup); ConfigKeys() joins them into one table that documents all.
constexpr ConfigKey kCoreKeys[] = {
    {"server.listen", T::kString, "\"127.0.0.1:7070\"",
     "HOST:PORT the HTTP server binds (port 0 picks a free port, written to "
     "<data_dir>/listen.addr)"},
    {"server.data_dir", T::kString, "\"./argus-data\"",
     "directory for the databases, the admin key and (with blobs.backend local) the blobs; "
     "locked by one server at a time"},
    {"server.io_threads", T::kInt, "0", "HTTP I/O threads; 0 means one per CPU core"},
    {"server.drain_timeout_s", T::kDouble, "10",
     "on SIGTERM/SIGINT, how long in-flight requests may take to finish before they are cut"},
    {"http.max_body_bytes", T::kInt, "1048576",
     "largest request body for JSON routes; larger ones get 413 payload_too_large"},
    {"http.max_connections", T::kInt, "10000",
     "connections open at once; more are answered 503 with Retry-After and closed"},
    {"http.max_header_bytes", T::kInt, "16384",
     "largest request line + headers; larger ones get 431 headers_too_large"},
    {"http.stream_max_queued_bytes", T::kInt, "4194304",
     "bytes an SSE stream or WebSocket may have queued and unsent; a client that stops reading "
     "is disconnected and resumes from its last event id"},
    {"http.read_timeout_s", T::kDouble, "15",
     "time a client has to send a whole request once it started one (slowloris guard)"},
    {"http.idle_timeout_s", T::kDouble, "60", "keep-alive connections idle longer are closed"},
    {"http.blocking_threads", T::kInt, "16",
     "threads for request work that may block (store calls, disk writes, S3); the I/O threads "
     "only parse, route and stream (1-1024)"},
    {"http.blocking_queue", T::kInt, "256",
     "requests that may wait for a blocking thread; beyond that, 503 with Retry-After "
     "(0-100000)"},
    {"http.json_max_depth", T::kInt, "32", "deepest nesting accepted in a JSON body"},
    {"http.json_max_string_bytes", T::kInt, "65536", "longest string accepted in a JSON body"},
    {"http.gzip_min_bytes", T::kInt, "1024",
     "JSON responses at least this large are gzip-compressed when the client accepts gzip"},
    {"http.cors.allowed_origins", T::kStringList, "[]",
     "origins allowed by CORS (\"*\" for any); empty disables CORS headers"},
    {"http.trusted_proxies", T::kStringList, "[]",
     "CIDRs of proxies whose X-Forwarded-For is believed for the client address"},
    {"http.access_log", T::kBool, "true", "write one JSON line per request"},
    {"rate_limit.per_key_rps", T::kDouble, "1000",
     "sustained requests/s allowed per API key (429 with Retry-After beyond); 0 disables"},
    {"rate_limit.per_key_burst", T::kDouble, "2000",
     "token-bucket size per API key; 0 means twice the rate"},
    {"rate_limit.per_ip_rps", T::kDouble, "2000",
     "sustained requests/s allowed per client address, checked on the request head before any "
     "body byte is read; 0 disables"},
    {"rate_limit.per_ip_burst", T::kDouble, "4000",
     "token-bucket size per client address; 0 means twice the rate"},
    {"auth.key_cache_ttl_s", T::kDouble, "30",
     "how long a verified key is cached; revocation and deletion evict at once"},
    {"admin_key", T::kString, "\"\"",
     "on first start only: use this (>= 32 printable characters) as the global admin key", true},
    {"metrics.require_auth", T::kBool, "false", "require an API key for /metrics"},
    {"log.level", T::kString, "\"info\"", "trace, debug, info, warn, error or off"},
    {"log.format", T::kString, "\"json\"", "json (one object per line) or text"},
    {"metadata.backend", T::kString, "\"sqlite\"",
     "metadata store backend (its event log is created with it)"},
    {"tasks.backend", T::kString, "\"sqlite\"",
     "task queue backend (its task catalog of kinds and workers is created with it)"},
    {"tasks.max_pending_per_namespace", T::kInt, "1000000",
     "pending + scheduled tasks a namespace may hold; more → 429 (0: no cap)"},
    {"tasks.retention_s", T::kDouble, "604800",
     "finished tasks and their events are purged after this many seconds"},
    {"tasks.max_crash_attempts", T::kInt, "3",
     "a task that was running when the server died more often than this ends failed "
     "(worker_crashed) at the next start instead of running again"},
    {"tasks.lease_s", T::kDouble, "30",
     "how long an in-process worker holds a task without a heartbeat before another may take it"},
    {"tasks.max_prefetch", T::kInt, "256",
     "most tasks a worker leases ahead of its free slots, for kinds that run in under 2 ms "
     "(0: only what it starts at once)"},
    {"workers.cpu", T::kInt, "2", "in-process worker threads leasing from the cpu queue"},
    {"workers.io", T::kInt, "2", "in-process worker threads leasing from the io queue"},
    {"blobs.backend", T::kString, "\"local\"",
     "where object contents are stored: local (files, small ones in blobs/small.db), sqlite "
     "(blobs/small.db only, at most 16 MiB each) or s3"},
    {"blobs.small_blob_bytes", T::kInt, "65536",
     "with blobs.backend local: blobs of at most this many bytes are rows of blobs/small.db "
     "(SQLite, group-committed; at most 16 MiB) instead of a file each; 0 makes every blob a file"},
    {"blobs.gc_grace_s", T::kDouble, "3600",
     "an unreferenced blob is freed only after it has been unused this long"},
    {"blobs.gc_interval_s", T::kDouble, "600", "how often unreferenced blobs are looked for"},
    {"objects.max_object_bytes", T::kInt, "5368709120",
     "largest object accepted (a bucket may set a lower limit); 0: no limit"},
    {"objects.max_metadata_bytes", T::kInt, "16384", "largest user metadata of an object (JSON)"},
    {"objects.sniff_unknown_binary", T::kBool, "false",
     "binary content matching none of Argus's signatures is also shown to libmagic (0.3-0.4 ms "
     "of CPU each, for rare formats) instead of being application/octet-stream at once"},
    {"uploads.expire_s", T::kDouble, "86400",
     "a resumable upload not completed within this many seconds is deleted with its parts"},
    {"models.dir", T::kString, "\"\"",
     "the model directory (manifest.json); empty: $ARGUS_MODEL_DIR, else the one `make models` "
     "wrote"},
    {"inference.preload", T::kBool, "true",
     "load and warm up every model at start (/readyz waits for it); false: on first use"},
    {"inference.threads", T::kInt, "0",
     "threads all model runs share (one per core when 0): no oversubscription"},
    {"inference.request_threads", T::kInt, "0",
     "requests decoded and in a model queue at once (0: two per core); more wait undecoded"},
    {"inference.sessions_per_model", T::kInt, "2",
     "concurrent runs per model, each one intra-op thread"},
    {"inference.max_batch", T::kInt, "8", "largest dynamic batch, for models that can batch"},
    {"inference.max_wait_us", T::kInt, "2000",
     "how long a request waits for others to share its batch"},
    {"inference.max_waiting", T::kInt, "256",
     "inference requests waiting for a request thread, all targets together; more → 429"},
    {"inference.max_waiting_per_model", T::kInt, "64",
     "of those, at most this many for one model or extractor; more → 429"},
    {"inference.max_queue", T::kInt, "64",
     "requests waiting per model; beyond: 429 with Retry-After"},
    {"inference.max_body_bytes", T::kInt, "33554432", "largest image sent for inference"},
    {"inference.timeout_s", T::kDouble, "30", "an inference request not answered by then: 504"},
    {"images.max_pixels", T::kInt, "40000000",
     "larger images are refused from their header, before decoding (decompression bombs)"},
    {"images.max_bytes", T::kInt, "67108864",
     "largest stored image read for thumbnails (and inference by reference); larger: 413"},
    {"indexes.save_interval_s", T::kDouble, "60",
     "how often a vector index that changed is saved to its file (and the journal trimmed)"},
    {"indexes.catch_up_interval_s", T::kDouble, "0.5",
     "how often vector indexes apply new documents' vectors in the background"},
    {"syncs.allowed_roots", T::kString, "\"\"",
     "directories folder syncs may read below, colon-separated; empty: folder syncs are refused "
     "(403)"},
    {"syncs.allow_private_endpoints", T::kBool, "false",
     "allow S3 sync endpoints on loopback, private or link-local addresses"},
    {"syncs.stable_s", T::kDouble, "2",
     "a synced file is taken once it has not changed for this many seconds"},
    {"webhooks.backend", T::kString, "\"sqlite\"", "webhook store backend"},
    {"webhooks.allow_private_targets", T::kBool, "false",
     "allow webhook targets on loopback, private or link-local addresses (checked on the "
     "address actually connected to)"},
    {"webhooks.max_attempts", T::kInt, "8", "attempts per delivery (and per redelivery)"},
    {"webhooks.initial_backoff_s", T::kDouble, "5",
     "delay before the second attempt; doubles per attempt (±20 % jitter)"},
    {"webhooks.max_backoff_s", T::kDouble, "3600", "longest delay between two attempts"},
    {"webhooks.timeout_s", T::kDouble, "10",
     "a delivery attempt that has no complete answer within this time fails"},
    {"webhooks.concurrency", T::kInt, "256", "delivery attempts in flight at once, all webhooks"},
    {"webhooks.max_in_flight_per_webhook", T::kInt, "64",
     "ceiling of the attempts in flight to one webhook (a window that starts at 4, grows while "
     "the receiver answers fast, shrinks on failures and slow answers)"},
    {"webhooks.disable_after_failures", T::kInt, "100",
     "a webhook is disabled after this many failed attempts in a row (0: never)"},
    {"webhooks.dispatch", T::kBool, "true",
     "deliver webhooks from this process; false holds every event in the outbox (deliveries are "
     "made from it once a process with true runs)"},
    {"webhooks.retention_s", T::kDouble, "604800",
     "finished deliveries and their attempt log are purged after this many seconds"},
    {"docs.assets_dir", T::kString, "\"\"",
     "directory of the swagger-ui-dist package served at /docs; empty uses the build's web/"},
};

struct KeyGroups {
  std::mutex mu;
  std::map<std::string, std::span<const ConfigKey>, std::less<>> groups;  // by owner
  // Every table built so far: a reference handed out stays valid after a later registration.
  std::deque<std::vector<ConfigKey>> built;
  bool dirty = true;
};

KeyGroups& Groups() {
  static KeyGroups* groups = new KeyGroups();  // never destroyed: used until exit
  return *groups;
}

const ConfigKey* FindKey(std::string_view path) {
  for (const auto& k : ConfigKeys()) {
    if (k.path == path) return &k;
  }
  return nullptr;
}

bool IsPrefixOfKey(std::string_view prefix) {
  for (const auto& k : ConfigKeys()) {
    if (k.path.size() > prefix.size() && k.path.substr(0, prefix.size()) == prefix &&
        k.path[prefix.size()] == '.') {
      return true;
    }
  }
  return false;
}

std::string TypeName(ConfigType t) {
  switch (t) {
    case T::kString:
      return "a string";
    case T::kInt:
      return "an integer";
    case T::kDouble:
      return "a number";
    case T::kBool:
      return "true or false";
    case T::kStringList:
      return "a list of strings";
  }
  return "?";
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Converts text (from env, a flag or a YAML scalar) to the key's type.
Result<Json> FromText(const ConfigKey& key, std::string_view text) {
  std::string_view t = Trim(text);
  switch (key.type) {
    case T::kString:
      return Json(std::string(text));
    case T::kInt: {
      int64_t v;
      auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
      if (ec != std::errc() || p != t.data() + t.size() || t.empty()) break;
      return Json(v);
    }
    case T::kDouble: {
      std::string s(t);
      char* end = nullptr;
      double v = std::strtod(s.c_str(), &end);
      if (s.empty() || end != s.c_str() + s.size()) break;
      return Json(v);
    }
    case T::kBool: {
      std::string s(t);
      for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (s == "true" || s == "1" || s == "yes" || s == "on") return Json(true);
      if (s == "false" || s == "0" || s == "no" || s == "off") return Json(false);
      break;
    }
    case T::kStringList: {
      Json arr = Json::array();
      size_t start = 0;
      while (start <= text.size()) {
        size_t end = text.find(key.list_separator, start);
        if (end == std::string_view::npos) end = text.size();
        std::string_view item = Trim(text.substr(start, end - start));
        if (!item.empty()) arr.push_back(std::string(item));
        start = end + 1;
      }
      return arr;
    }
  }
  return InvalidArgumentError("must be " + TypeName(key.type));
}

Result<Json> FromYaml(const ConfigKey& key, const YAML::Node& node) {
  if (key.type == T::kStringList) {
    if (!node.IsSequence()) return InvalidArgumentError("must be " + TypeName(key.type));
    Json arr = Json::array();
    for (const auto& item : node) {
      if (!item.IsScalar()) return InvalidArgumentError("must be " + TypeName(key.type));
      arr.push_back(item.Scalar());
    }
    return arr;
  }
  if (!node.IsScalar()) return InvalidArgumentError("must be " + TypeName(key.type));
  return FromText(key, node.Scalar());
}

Status LoadYamlNode(const YAML::Node& node, const std::string& prefix, const std::string& file,
                    Config* config, std::map<std::string, Json, std::less<>>* values,
                    std::map<std::string, std::string, std::less<>>* sources) {
  if (!node.IsMap()) {
    return InvalidArgumentError("configuration file " + file + ": " +
                                (prefix.empty() ? "the top level" : "'" + prefix + "'") +
                                " must be a mapping");
  }
  for (const auto& entry : node) {
    std::string name = entry.first.as<std::string>();
    std::string path = prefix.empty() ? name : prefix + "." + name;
    if (const ConfigKey* key = FindKey(path)) {
      auto v = FromYaml(*key, entry.second);
      if (!v.ok()) {
        return InvalidArgumentError("configuration file " + file + ": key '" + path + "' " +
                                    std::string(v.status().message()));
      }
      (*values)[path] = std::move(v).value();
      (*sources)[path] = "file";
    } else if (IsPrefixOfKey(path)) {
      ARGUS_RETURN_IF_ERROR(LoadYamlNode(entry.second, path, file, config, values, sources));
    } else {
      return InvalidArgumentError("configuration file " + file + ": unknown key '" + path + "'");
    }
  }
  return OkStatus();
}

}  // namespace

ConfigKeyGroup::ConfigKeyGroup(std::string_view owner, std::span<const ConfigKey> keys) {
  KeyGroups& g = Groups();
  std::lock_guard lock(g.mu);
  if (!g.groups.emplace(std::string(owner), keys).second) std::abort();  // one group per owner
  g.dirty = true;
}

const std::vector<ConfigKey>& ConfigKeys() {
  KeyGroups& g = Groups();
  std::lock_guard lock(g.mu);
  if (g.dirty) {
    std::vector<ConfigKey> all(std::begin(kCoreKeys), std::end(kCoreKeys));
    // A group goes after the last key of its section ("blobs.s3.*" after "blobs.*"), so the
    // reference reads by section.
    auto section = [](std::string_view path) { return path.substr(0, path.find('.')); };
    for (const auto& [owner, keys] : g.groups) {
      if (keys.empty()) continue;
      auto at = all.end();
      for (auto it = all.begin(); it != all.end(); ++it) {
        if (section(it->path) == section(keys.front().path)) at = it + 1;
      }
      all.insert(at, keys.begin(), keys.end());
    }
    g.built.push_back(std::move(all));
    g.dirty = false;
  }
  return g.built.back();
}

std::string ConfigEnvName(std::string_view path) {
  std::string out = "ARGUS_";
  for (char c : path) {
    out.push_back(c == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  return out;
}

Config::Config() {
  for (const auto& k : ConfigKeys()) {
    values_[std::string(k.path)] = Json::parse(k.default_json);
    sources_[std::string(k.path)] = "default";
  }
}

Status Config::Set(std::string_view path, std::string_view text, std::string_view source) {
  const ConfigKey* key = FindKey(path);
  if (key == nullptr) {
    return InvalidArgumentError("unknown configuration key '" + std::string(path) + "' (from " +
                                std::string(source) + ")");
  }
  auto v = FromText(*key, text);
  if (!v.ok()) {
    return InvalidArgumentError("configuration key '" + std::string(path) + "' (from " +
                                std::string(source) + ") " + std::string(v.status().message()));
  }
  values_[std::string(path)] = std::move(v).value();
  sources_[std::string(path)] = std::string(source);
  return OkStatus();
}

Result<Config> Config::Load(const Sources& sources) {
  Config config;
  if (!sources.file.empty()) {
    YAML::Node root;
    try {
      root = YAML::LoadFile(sources.file);
    } catch (const YAML::BadFile&) {
      return InvalidArgumentError("cannot read configuration file " + sources.file);
    } catch (const YAML::Exception& e) {
      return InvalidArgumentError("configuration file " + sources.file + ": " + e.what());
    }
    if (root && !root.IsNull()) {
      ARGUS_RETURN_IF_ERROR(
          LoadYamlNode(root, "", sources.file, &config, &config.values_, &config.sources_));
    }
  }
  for (const auto& k : ConfigKeys()) {
    std::string env_name = ConfigEnvName(k.path) + "=";
    for (const auto& entry : sources.env) {
      if (entry.compare(0, env_name.size(), env_name) == 0) {
        ARGUS_RETURN_IF_ERROR(config.Set(k.path, std::string_view(entry).substr(env_name.size()),
                                         "env " + env_name.substr(0, env_name.size() - 1)));
        config.sources_[std::string(k.path)] = "env";
      }
    }
  }
  for (const auto& [path, text] : sources.flags) {
    ARGUS_RETURN_IF_ERROR(config.Set(path, text, "flag"));
  }
  return config;
}

const Json& Config::Get(std::string_view path, ConfigType type) const {
  const ConfigKey* key = FindKey(path);
  if (key == nullptr || key->type != type) std::abort();
  return values_.find(path)->second;
}

const std::string& Config::GetString(std::string_view path) const {
  return Get(path, T::kString).get_ref<const std::string&>();
}
int64_t Config::GetInt(std::string_view path) const { return Get(path, T::kInt).get<int64_t>(); }
double Config::GetDouble(std::string_view path) const {
  return Get(path, T::kDouble).get<double>();
}
bool Config::GetBool(std::string_view path) const { return Get(path, T::kBool).get<bool>(); }
std::vector<std::string> Config::GetStringList(std::string_view path) const {
  return Get(path, T::kStringList).get<std::vector<std::string>>();
}

const std::string& Config::SourceOf(std::string_view path) const {
  static const std::string kUnknown = "unknown";
  auto it = sources_.find(path);
  return it == sources_.end() ? kUnknown : it->second;
}

std::string Config::ToYaml(bool mask_secrets) const {
  YAML::Emitter out;
  // Emit nested maps by walking keys in table order, opening and closing sections as the
  // dotted prefixes change.
  std::vector<std::string> open;
  out << YAML::BeginMap;
  auto split = [](std::string_view p) {
    std::vector<std::string> parts;
    size_t start = 0;
    while (true) {
      size_t dot = p.find('.', start);
      parts.emplace_back(p.substr(start, dot == std::string_view::npos ? p.npos : dot - start));
      if (dot == std::string_view::npos) break;
      start = dot + 1;
    }
    return parts;
  };
  // Sort so that each section's keys are contiguous.
  std::vector<const ConfigKey*> keys;
  for (const auto& k : ConfigKeys()) keys.push_back(&k);
  std::stable_sort(keys.begin(), keys.end(), [&](const ConfigKey* a, const ConfigKey* b) {
    auto pa = split(a->path), pb = split(b->path);
    pa.pop_back();
    pb.pop_back();
    return pa < pb;
  });
  for (const ConfigKey* k : keys) {
    auto parts = split(k->path);
    std::string leaf = parts.back();
    parts.pop_back();
    size_t common = 0;
    while (common < open.size() && common < parts.size() && open[common] == parts[common]) {
      ++common;
    }
    while (open.size() > common) {
      out << YAML::EndMap;
      open.pop_back();
    }
    for (size_t i = common; i < parts.size(); ++i) {
      out << YAML::Key << parts[i] << YAML::Value << YAML::BeginMap;
      open.push_back(parts[i]);
    }
    const Json& v = values_.find(k->path)->second;
    out << YAML::Key << leaf << YAML::Value;
    if (k->secret && mask_secrets && v.is_string() && !v.get_ref<const std::string&>().empty()) {
      out << "********";
    } else if (v.is_array()) {
      out << YAML::Flow << YAML::BeginSeq;
      for (const auto& e : v) out << e.get<std::string>();
      out << YAML::EndSeq;
    } else if (v.is_string()) {
      out << YAML::DoubleQuoted << v.get<std::string>();
    } else {
      out << v.dump();
    }
    out << YAML::Comment(SourceOf(k->path));
  }
  while (!open.empty()) {
    out << YAML::EndMap;
    open.pop_back();
  }
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

std::string ConfigReferenceMarkdown() {
  std::ostringstream out;
  out << "| key | environment variable | type | default | meaning |\n";
  out << "|---|---|---|---|---|\n";
  for (const auto& k : ConfigKeys()) {
    std::string type = TypeName(k.type);
    if (k.type == T::kStringList) {
      type.append(" (env: `").push_back(k.list_separator);
      type.append("`-separated)");
    }
    out << "| `" << k.path << "` | `" << ConfigEnvName(k.path) << "` | " << type << " | `"
        << k.default_json << "` | " << k.help << (k.secret ? " (secret)" : "") << " |\n";
  }
  return out.str();
}

}  // namespace argus
