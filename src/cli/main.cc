// The `argus` executable: `serve` (the composition root in server/) and the client commands,
// which speak HTTP to a running server.
#include <curl/curl.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "cli/http_client.h"
#include "cli/inference.h"
#include "cli/objects.h"
#include "cli/table.h"
#include "cli/upload.h"
#include "core/build_info.h"
#include "core/config.h"
#include "server/register_all.h"
#include "server/serve.h"

extern char** environ;

namespace argus::cli {
namespace {

struct ConfigFlags {
  std::string config_file;
  std::string listen;
  std::string data_dir;
  std::vector<std::string> sets;

  void AddTo(CLI::App* app) {
    app->add_option("--config", config_file, "YAML configuration file")->envname("ARGUS_CONFIG");
    app->add_option("--listen", listen, "HOST:PORT to listen on (server.listen)");
    app->add_option("--data-dir", data_dir, "data directory (server.data_dir)");
    app->add_option("--set", sets, "override any key: --set http.max_body_bytes=2097152");
  }

  Result<Config> Load() const {
    Config::Sources s;
    s.file = config_file;
    for (char** e = environ; *e != nullptr; ++e) {
      if (std::string_view(*e).starts_with("ARGUS_")) s.env.emplace_back(*e);
    }
    if (!listen.empty()) s.flags.emplace_back("server.listen", listen);
    if (!data_dir.empty()) s.flags.emplace_back("server.data_dir", data_dir);
    for (const auto& kv : sets) {
      size_t eq = kv.find('=');
      if (eq == std::string::npos)
        return InvalidArgumentError("--set '" + kv + "' needs KEY=VALUE");
      s.flags.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
    }
    return Config::Load(s);
  }
};

int PrintError(const Status& s) {
  std::fprintf(stderr, "argus: %s\n", std::string(s.message()).c_str());
  return s.code() == StatusCode::kInvalidArgument ? 2 : 1;
}

std::string Str(const Json& v) {
  if (v.is_null()) return "-";
  return v.is_string() ? v.get<std::string>() : v.dump();
}

int PrintResult(const Result<Json>& r, bool json, const std::vector<std::string>& columns) {
  if (!r.ok()) return PrintError(r.status());
  if (json) {
    std::cout << r->dump(2) << "\n";
    return 0;
  }
  const Json& items = r->contains("items") ? (*r)["items"] : Json::array({*r});
  Table t(columns);
  for (const auto& item : items) {
    std::vector<std::string> row;
    for (const auto& c : columns) row.push_back(item.contains(c) ? Str(item[c]) : "-");
    t.AddRow(std::move(row));
  }
  std::cout << t.Render();
  if (r->contains("next_cursor") && !(*r)["next_cursor"].is_null()) {
    std::cout << "(more: --cursor " << (*r)["next_cursor"].get<std::string>() << ")\n";
  }
  return 0;
}

std::string ListPath(std::string path, int limit, const std::string& cursor) {
  path += "?limit=" + std::to_string(limit);
  if (!cursor.empty()) path += "&cursor=" + cursor;
  return path;
}

// Follows a task until it ends: one long-polling GET at a time (`Prefer: wait`), printing a
// progress line whenever something changed.
int WatchTask(HttpClient& http, const std::string& id, bool json) {
  std::string last;
  for (;;) {
    auto r = http.Call("GET", "/v1/tasks/" + id, nullptr, {"Prefer: wait=1"});
    if (!r.ok()) return PrintError(r.status());
    const Json& t = *r;
    std::string status = t["status"];
    double fraction = t["progress"].value("fraction", 0.0);
    std::string line = status + " attempt " + std::to_string(t["attempt"].get<int>()) + " " +
                       std::to_string(static_cast<int>(fraction * 100)) + "%";
    if (t["progress"]["message"].is_string()) {
      line += " " + t["progress"]["message"].get<std::string>();
    }
    if (line != last) {
      std::cout << (json ? t.dump() : line) << std::endl;
      last = line;
    }
    if (status == "succeeded" || status == "failed" || status == "cancelled") {
      if (!json && !t["error"].is_null()) std::cout << "error: " << t["error"].dump() << "\n";
      return status == "succeeded" ? 0 : 1;
    }
  }
}

int Main(int argc, char** argv) {
  CLI::App app{
      "Argus: media in, searchable data out. `argus serve` runs the server; the other "
      "commands talk to a running one."};
  app.require_subcommand(1);

  ConfigFlags serve_flags;
  CLI::App* serve = app.add_subcommand("serve", "run the server (API + workers) in this process");
  serve_flags.AddTo(serve);

  app.add_subcommand("version", "print the version")->callback([] {
    const auto& b = GetBuildInfo();
    std::cout << "argus " << b.version << " (commit " << b.commit << ", " << b.compiler << ")\n";
  });

  ConfigFlags print_flags;
  bool show_secrets = false, markdown = false;
  CLI::App* config_cmd = app.add_subcommand("config", "configuration tools");
  config_cmd->require_subcommand(1);
  CLI::App* print = config_cmd->add_subcommand(
      "print", "print the effective configuration (defaults < file < ARGUS_* env < flags)");
  print_flags.AddTo(print);
  print->add_flag("--show-secrets", show_secrets, "print secrets instead of ********");
  CLI::App* reference =
      config_cmd->add_subcommand("reference", "print every key with its env variable");
  reference->add_flag("--markdown", markdown, "as a Markdown table (the default)");

  // Environment first, flags override. (CLI11's envname() is not used: several subcommands
  // share these variables, and each one's environment fallback would overwrite the flag.)
  ClientOptions client;
  if (const char* v = std::getenv("ARGUS_URL")) client.url = v;
  if (const char* v = std::getenv("ARGUS_API_KEY")) client.key = v;
  if (const char* v = std::getenv("ARGUS_NAMESPACE")) client.ns = v;
  bool json = false;
  auto add_client = [&](CLI::App* cmd) {
    cmd->add_option("--url", client.url, "server URL (env ARGUS_URL)");
    cmd->add_option("--key", client.key, "API key (env ARGUS_API_KEY)");
    cmd->add_option("--namespace", client.ns,
                    "namespace to act in, for global admin keys (env ARGUS_NAMESPACE)");
    cmd->add_flag("--json", json, "print the raw JSON answer");
  };
  int limit = 50;
  std::string cursor;

  CLI::App* ns = app.add_subcommand("ns", "namespaces (global admin key)");
  ns->require_subcommand(1);
  std::string ns_name;
  CLI::App* ns_create = ns->add_subcommand("create", "create a namespace");
  ns_create->add_option("name", ns_name, "namespace name")->required();
  add_client(ns_create);
  CLI::App* ns_ls = ns->add_subcommand("ls", "list namespaces");
  ns_ls->add_option("--limit", limit, "page size")->check(CLI::Range(1, 1000));
  ns_ls->add_option("--cursor", cursor, "next page");
  add_client(ns_ls);
  CLI::App* ns_rm = ns->add_subcommand("rm", "delete a namespace and everything in it");
  ns_rm->add_option("name", ns_name, "namespace name")->required();
  add_client(ns_rm);

  CLI::App* keys = app.add_subcommand("keys", "API keys");
  keys->require_subcommand(1);
  std::string key_name, role = "viewer", expires_at, key_id;
  CLI::App* keys_create = keys->add_subcommand("create", "create a key (prints its secret once)");
  keys_create->add_option("name", key_name, "a name for the key")->required();
  keys_create->add_option("--role", role, "admin, editor or viewer")
      ->check(CLI::IsMember({"admin", "editor", "viewer"}));
  keys_create->add_option("--expires-at", expires_at, "RFC 3339 expiry time");
  add_client(keys_create);
  CLI::App* keys_ls = keys->add_subcommand("ls", "list keys");
  keys_ls->add_option("--limit", limit, "page size")->check(CLI::Range(1, 1000));
  keys_ls->add_option("--cursor", cursor, "next page");
  add_client(keys_ls);
  CLI::App* keys_revoke = keys->add_subcommand("revoke", "revoke a key at once");
  keys_revoke->add_option("id", key_id, "key id")->required();
  add_client(keys_revoke);

  CLI::App* tasks = app.add_subcommand("tasks", "durable tasks");
  tasks->require_subcommand(1);
  std::string kind, input = "{}", queue, status_filter, task_id, idempotency_key;
  int priority = -1;
  double wait_s = -1;
  CLI::App* tasks_submit = tasks->add_subcommand("submit", "submit a task");
  tasks_submit->add_option("kind", kind, "task kind, e.g. noop or sleep")->required();
  tasks_submit->add_option("--input", input, "input JSON");
  tasks_submit->add_option("--queue", queue, "queue (default cpu)");
  tasks_submit->add_option("--priority", priority, "0..9, 9 first")->check(CLI::Range(0, 9));
  tasks_submit->add_option("--idempotency-key", idempotency_key, "submit at most once");
  tasks_submit->add_option("--wait", wait_s, "wait up to this many seconds for the result");
  add_client(tasks_submit);
  CLI::App* tasks_ls = tasks->add_subcommand("ls", "list tasks");
  tasks_ls->add_option("--status", status_filter, "pending, running, failed, ...");
  tasks_ls->add_option("--kind", kind, "task kind");
  tasks_ls->add_option("--limit", limit, "page size")->check(CLI::Range(1, 1000));
  tasks_ls->add_option("--cursor", cursor, "next page");
  add_client(tasks_ls);
  CLI::App* tasks_get = tasks->add_subcommand("get", "show a task");
  tasks_get->add_option("id", task_id, "task id")->required();
  tasks_get->add_option("--wait", wait_s, "wait up to this many seconds for it to finish");
  add_client(tasks_get);
  CLI::App* tasks_watch = tasks->add_subcommand("watch", "follow a task's progress until it ends");
  tasks_watch->add_option("id", task_id, "task id")->required();
  add_client(tasks_watch);
  CLI::App* tasks_cancel = tasks->add_subcommand("cancel", "cancel a task");
  tasks_cancel->add_option("id", task_id, "task id")->required();
  add_client(tasks_cancel);
  CLI::App* tasks_retry = tasks->add_subcommand("retry", "run a failed or cancelled task again");
  tasks_retry->add_option("id", task_id, "task id")->required();
  add_client(tasks_retry);

  CLI::App* buckets = app.add_subcommand("buckets", "buckets of objects");
  buckets->require_subcommand(1);
  std::string bucket_name, description;
  int64_t max_object_bytes = -1;
  std::vector<std::string> allowed_types;
  bool force = false;
  CLI::App* buckets_create = buckets->add_subcommand("create", "create a bucket");
  buckets_create->add_option("name", bucket_name, "bucket name")->required();
  buckets_create->add_option("--description", description, "what the bucket holds");
  buckets_create
      ->add_option("--max-object-bytes", max_object_bytes,
                   "largest object accepted (0: the server's limit)")
      ->check(CLI::NonNegativeNumber);
  buckets_create->add_option("--allow", allowed_types,
                             "accept only this media type, e.g. image/* (repeatable)");
  add_client(buckets_create);
  CLI::App* buckets_ls = buckets->add_subcommand("ls", "list buckets");
  add_client(buckets_ls);
  CLI::App* buckets_rm = buckets->add_subcommand("rm", "delete a bucket");
  buckets_rm->add_option("name", bucket_name, "bucket name")->required();
  buckets_rm->add_flag("--force", force, "also delete the objects in it");
  add_client(buckets_rm);

  CLI::App* objects = app.add_subcommand("objects", "objects in a bucket");
  objects->require_subcommand(1);
  std::string object_key, prefix, delimiter, out_file;
  CLI::App* objects_ls = objects->add_subcommand("ls", "list objects (every page)");
  objects_ls->add_option("bucket", bucket_name, "bucket name")->required();
  objects_ls->add_option("--prefix", prefix, "only keys starting with this");
  objects_ls->add_option("--delimiter", delimiter,
                         "'/': keys with it after the prefix roll up into folders");
  add_client(objects_ls);
  CLI::App* objects_get =
      objects->add_subcommand("get", "download an object's bytes (to stdout without -o)");
  objects_get->add_option("bucket", bucket_name, "bucket name")->required();
  objects_get->add_option("key", object_key, "object key")->required();
  objects_get->add_option("-o,--output", out_file, "write to this file ('-': stdout)");
  add_client(objects_get);
  CLI::App* objects_info = objects->add_subcommand("info", "show an object's record");
  objects_info->add_option("bucket", bucket_name, "bucket name")->required();
  objects_info->add_option("key", object_key, "object key")->required();
  add_client(objects_info);
  CLI::App* objects_rm = objects->add_subcommand("rm", "delete an object");
  objects_rm->add_option("bucket", bucket_name, "bucket name")->required();
  objects_rm->add_option("key", object_key, "object key")->required();
  add_client(objects_rm);

  UploadOptions upload_options;
  CLI::App* upload = app.add_subcommand(
      "upload",
      "upload files and directories (recursively) into a bucket; files already there with the "
      "same bytes are skipped, so a re-run resumes");
  upload->add_option("paths", upload_options.paths, "files and directories")->required();
  upload->add_option("-b,--bucket", upload_options.bucket, "bucket name")->required();
  upload->add_option("--metadata", upload_options.metadata,
                     "JSON object stored as every object's metadata");
  upload->add_option("--prefix", upload_options.prefix,
                     "prepended as is to every key (end it with '/' for a folder)");
  upload->add_option("-j,--parallel", upload_options.parallel, "uploads at once (default 4)")
      ->check(CLI::Range(1, 64));
  add_client(upload);

  std::string infer_name, infer_file, infer_text;
  std::vector<std::string> infer_params;
  CLI::App* infer = app.add_subcommand(
      "infer", "run an extractor or a model on an image or a text (POST /v1/inference/NAME)");
  infer->add_option("name", infer_name, "extractor or model, e.g. object_detection")->required();
  auto* infer_file_opt = infer->add_option("file", infer_file, "image file ('-': stdin)");
  infer->add_option("--text", infer_text, "the text, for a text model (instead of a file)")
      ->excludes(infer_file_opt);
  infer->add_option("-p,--param", infer_params, "parameter key=value (repeatable)");
  add_client(infer);
  CLI::App* models = app.add_subcommand("models", "models and extractors");
  models->require_subcommand(1);
  bool list_extractors = false;
  CLI::App* models_ls = models->add_subcommand("ls", "list the models and their state");
  models_ls->add_flag("--extractors", list_extractors, "list the extractors instead");
  add_client(models_ls);

  CLI11_PARSE(app, argc, argv);

  const std::vector<std::string> ns_cols = {"name", "id", "created_at"};
  const std::vector<std::string> key_cols = {"id",        "name",       "role",      "prefix",
                                             "namespace", "expires_at", "revoked_at"};
  if (serve->parsed()) {
    auto config = serve_flags.Load();
    if (!config.ok()) return PrintError(config.status());
    return server::RunServe(*config);
  }
  if (print->parsed()) {
    auto config = print_flags.Load();
    if (!config.ok()) return PrintError(config.status());
    std::cout << config->ToYaml(!show_secrets);
    // What this host lacks, probed as `argus serve` does at start-up (and logs as warnings).
    store::StoreRegistry registry;
    if (Status s = server::RegisterAllStores(registry); !s.ok()) return PrintError(s);
    std::vector<std::string> warnings = server::HostWarnings(registry);
    std::cout << "# host warnings:" << (warnings.empty() ? " none\n" : "\n");
    for (const std::string& w : warnings) std::cout << "#   " << w << "\n";
    return 0;
  }
  if (reference->parsed()) {
    std::cout << ConfigReferenceMarkdown();
    return 0;
  }
  HttpClient http(client);
  if (infer->parsed()) {
    if (infer_file.empty() && infer_text.empty()) {
      return PrintError(InvalidArgumentError("give an image file or --text"));
    }
    auto r = Infer(http, infer_name, infer_file, infer_params, infer_text);
    if (!r.ok()) return PrintError(r.status());
    std::cout << (json ? r->dump(2) + "\n" : FormatInference(*r));
    return 0;
  }
  if (models_ls->parsed()) {
    return PrintResult(http.Call("GET", list_extractors ? "/v1/extractors" : "/v1/models"), json,
                       list_extractors
                           ? std::vector<std::string>{"name", "version", "state", "error"}
                           : std::vector<std::string>{"name", "version", "task", "state",
                                                      "batchable", "load_ms", "error"});
  }
  if (ns_create->parsed()) {
    return PrintResult(http.Call("POST", "/v1/namespaces", {{"name", ns_name}}), json, ns_cols);
  }
  if (ns_ls->parsed()) {
    return PrintResult(http.Call("GET", ListPath("/v1/namespaces", limit, cursor)), json, ns_cols);
  }
  if (ns_rm->parsed()) {
    auto r = http.Call("DELETE", "/v1/namespaces/" + ns_name);
    if (!r.ok()) return PrintError(r.status());
    if (!json) std::cout << "deleted namespace " << ns_name << "\n";
    return 0;
  }
  if (keys_create->parsed()) {
    Json body = {{"name", key_name}, {"role", role}};
    if (!expires_at.empty()) body["expires_at"] = expires_at;
    auto r = http.Call("POST", "/v1/keys", body);
    if (!r.ok() || json) return PrintResult(r, json, key_cols);
    PrintResult(r, false, key_cols);
    std::cout << "\nsecret (shown once, store it now): " << (*r)["secret"].get<std::string>()
              << "\n";
    return 0;
  }
  const std::vector<std::string> task_cols = {"id",    "kind",     "status",    "attempt",
                                              "queue", "priority", "created_at"};
  if (tasks_submit->parsed()) {
    Json body = {{"kind", kind}};
    Json parsed_input = Json::parse(input, nullptr, false);
    if (parsed_input.is_discarded()) return PrintError(InvalidArgumentError("--input is not JSON"));
    body["input"] = parsed_input;
    if (!queue.empty()) body["queue"] = queue;
    if (priority >= 0) body["priority"] = priority;
    if (!idempotency_key.empty()) body["idempotency_key"] = idempotency_key;
    std::vector<std::string> headers;
    if (wait_s >= 0) headers.push_back("Prefer: wait=" + std::to_string(static_cast<int>(wait_s)));
    return PrintResult(http.Call("POST", "/v1/tasks", body, headers), json, task_cols);
  }
  if (tasks_ls->parsed()) {
    std::string path = ListPath("/v1/tasks", limit, cursor);
    if (!status_filter.empty()) path += "&status=" + status_filter;
    if (!kind.empty()) path += "&kind=" + kind;
    return PrintResult(http.Call("GET", path), json, task_cols);
  }
  if (tasks_get->parsed()) {
    std::vector<std::string> headers;
    if (wait_s >= 0) headers.push_back("Prefer: wait=" + std::to_string(static_cast<int>(wait_s)));
    auto r = http.Call("GET", "/v1/tasks/" + task_id, nullptr, headers);
    if (!r.ok() || json) return PrintResult(r, json, task_cols);
    std::cout << r->dump(2) << "\n";
    return 0;
  }
  if (tasks_watch->parsed()) return WatchTask(http, task_id, json);
  if (tasks_cancel->parsed()) {
    return PrintResult(http.Call("POST", "/v1/tasks/" + task_id + "/cancel", Json::object()), json,
                       task_cols);
  }
  if (tasks_retry->parsed()) {
    return PrintResult(http.Call("POST", "/v1/tasks/" + task_id + "/retry", Json::object()), json,
                       task_cols);
  }
  const std::vector<std::string> bucket_cols = {"name", "description", "max_object_bytes",
                                                "allowed_media_types", "created_at"};
  if (buckets_create->parsed()) {
    Json body = {{"name", bucket_name}};
    if (!description.empty()) body["description"] = description;
    if (max_object_bytes >= 0) body["max_object_bytes"] = max_object_bytes;
    if (!allowed_types.empty()) body["allowed_media_types"] = allowed_types;
    return PrintResult(http.Call("POST", "/v1/buckets", body), json, bucket_cols);
  }
  if (buckets_ls->parsed()) {
    auto r = ListAll(http, "/v1/buckets");
    if (r.ok()) r->erase("common_prefixes");
    return PrintResult(r, json, bucket_cols);
  }
  if (buckets_rm->parsed()) {
    std::string path = "/v1/buckets/" + UrlEncode(bucket_name);
    if (force) path += "?force=true";
    auto r = http.Call("DELETE", path);
    if (!r.ok()) {
      int rc = PrintError(r.status());
      if (!force && r.status().code() == StatusCode::kAlreadyExists) {
        std::fprintf(stderr, "argus: (--force deletes a bucket with its objects)\n");
      }
      return rc;
    }
    if (!json) std::cout << "deleted bucket " << bucket_name << "\n";
    return 0;
  }
  const std::vector<std::string> object_cols = {"key", "size", "media_type", "updated_at"};
  if (objects_ls->parsed()) {
    std::string path = "/v1/buckets/";
    path.append(UrlEncode(bucket_name)).append("/objects");
    char sep = '?';
    if (!prefix.empty()) {
      path.append(1, sep).append("prefix=").append(UrlEncode(prefix));
      sep = '&';
    }
    if (!delimiter.empty()) path.append(1, sep).append("delimiter=").append(UrlEncode(delimiter));
    auto r = ListAll(http, path);
    if (!r.ok() || json) return PrintResult(r, json, object_cols);
    // Folders first, as rows of their own.
    Table t(object_cols);
    for (const auto& p : (*r)["common_prefixes"])
      t.AddRow({p.get<std::string>(), "-", "folder", "-"});
    for (const auto& item : (*r)["items"]) {
      std::vector<std::string> row;
      for (const auto& c : object_cols) row.push_back(item.contains(c) ? Str(item[c]) : "-");
      t.AddRow(std::move(row));
    }
    std::cout << t.Render();
    return 0;
  }
  if (objects_get->parsed()) {
    Status s = Download(http, bucket_name, object_key, out_file);
    return s.ok() ? 0 : PrintError(s);
  }
  if (objects_info->parsed()) {
    auto r = http.Call("GET", ObjectPath(bucket_name, "objects", object_key));
    if (!r.ok()) return PrintError(r.status());
    std::cout << r->dump(2) << "\n";
    return 0;
  }
  if (objects_rm->parsed()) {
    auto r = http.Call("DELETE", ObjectPath(bucket_name, "objects", object_key));
    if (!r.ok()) return PrintError(r.status());
    if (!json) std::cout << "deleted " << bucket_name << "/" << object_key << "\n";
    return 0;
  }
  if (upload->parsed()) {
    upload_options.json = json;
    return RunUpload(client, upload_options);
  }
  if (keys_ls->parsed()) {
    return PrintResult(http.Call("GET", ListPath("/v1/keys", limit, cursor)), json, key_cols);
  }
  if (keys_revoke->parsed()) {
    auto r = http.Call("DELETE", "/v1/keys/" + key_id);
    if (!r.ok()) return PrintError(r.status());
    if (!json) std::cout << "revoked key " << key_id << "\n";
    return 0;
  }
  return 0;
}

}  // namespace
}  // namespace argus::cli

int main(int argc, char** argv) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  int rc = argus::cli::Main(argc, argv);
  curl_global_cleanup();
  return rc;
}
