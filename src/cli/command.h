// What the command groups of the `argus` executable share: the client flags, the output helpers
// and the exit code. Each group (one file each) adds its subcommands to the app with callbacks
// that run after parsing and set the exit code.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "cli/http_client.h"
#include "core/json.h"
#include "core/result.h"

namespace argus::cli {

/// One `argus` run: the client options (environment first, flags override), --json, and the
/// exit code the chosen command sets. Outlives the app it is bound to.
struct CommandContext {
  /// Reads ARGUS_URL, ARGUS_API_KEY and ARGUS_NAMESPACE. (CLI11's envname() is not used: several
  /// subcommands share these variables, and each one's fallback would overwrite the flag.)
  CommandContext();
  /// --url, --key, --namespace and --json on `cmd`.
  void AddClientFlags(CLI::App* cmd);

  ClientOptions client;
  bool json = false;
  int rc = 0;
};

/// Prints "argus: <message>" to stderr; 2 for InvalidArgument, else 1.
int PrintError(const Status& s);
/// A cell: "-" for null, strings as they are, anything else as JSON.
std::string Str(const Json& v);
/// The answer as JSON (--json) or as a table of `columns` (of its items, or of itself), with the
/// next page's cursor when there is one.
int PrintResult(const Result<Json>& r, bool json, const std::vector<std::string>& columns);
/// `path` with ?limit= and &cursor=.
std::string ListPath(std::string path, int limit, const std::string& cursor);
/// --limit (1..1000) and --cursor on `cmd`.
void AddPageFlags(CLI::App* cmd, int* limit, std::string* cursor);

/// serve, version, config print|reference (server_commands.cc).
void AddServerCommands(CLI::App& app, CommandContext& ctx);
/// ns, keys (admin_commands.cc).
void AddAdminCommands(CLI::App& app, CommandContext& ctx);
/// tasks (task_commands.cc).
void AddTaskCommands(CLI::App& app, CommandContext& ctx);
/// buckets, objects, upload (bucket_commands.cc).
void AddBucketCommands(CLI::App& app, CommandContext& ctx);
/// collections (collection_commands.cc).
void AddCollectionCommands(CLI::App& app, CommandContext& ctx);
/// batch, documents (batch_commands.cc).
void AddBatchCommands(CLI::App& app, CommandContext& ctx);
/// infer, models (model_commands.cc).
void AddModelCommands(CLI::App& app, CommandContext& ctx);

}  // namespace argus::cli
