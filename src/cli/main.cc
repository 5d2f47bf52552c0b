// The `argus` executable: `serve` (the composition root in server/) and the client commands,
// which speak HTTP to a running server. One file per command group (command.h).
#include <curl/curl.h>

#include <CLI/CLI.hpp>

#include "cli/command.h"

int main(int argc, char** argv) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  argus::cli::CommandContext ctx;
  CLI::App app{
      "Argus: media in, searchable data out. `argus serve` runs the server; the other "
      "commands talk to a running one."};
  app.require_subcommand(1);
  argus::cli::AddServerCommands(app, ctx);
  argus::cli::AddAdminCommands(app, ctx);
  argus::cli::AddTaskCommands(app, ctx);
  argus::cli::AddBucketCommands(app, ctx);
  argus::cli::AddCollectionCommands(app, ctx);
  argus::cli::AddBatchCommands(app, ctx);
  argus::cli::AddModelCommands(app, ctx);
  int rc = 0;
  try {
    app.parse(argc, argv);
    rc = ctx.rc;
  } catch (const CLI::ParseError& e) {
    rc = app.exit(e);
  }
  curl_global_cleanup();
  return rc;
}
