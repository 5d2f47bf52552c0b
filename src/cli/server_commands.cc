// `argus serve` (the composition root in server/), `argus version` and `argus config`.
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cli/command.h"
#include "core/build_info.h"
#include "core/config.h"
#include "server/register_all.h"
#include "server/serve.h"

extern char** environ;

namespace argus::cli {
namespace {

// The configuration flags of `serve` and `config print`: defaults < file < ARGUS_* env < flags.
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
      if (eq == std::string::npos) {
        return InvalidArgumentError("--set '" + kv + "' needs KEY=VALUE");
      }
      s.flags.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
    }
    return Config::Load(s);
  }
};

int PrintConfig(const ConfigFlags& flags, bool show_secrets) {
  auto config = flags.Load();
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

}  // namespace

void AddServerCommands(CLI::App& app, CommandContext& ctx) {
  auto serve_flags = std::make_shared<ConfigFlags>();
  CLI::App* serve = app.add_subcommand("serve", "run the server (API + workers) in this process");
  serve_flags->AddTo(serve);
  serve->callback([&ctx, serve_flags] {
    auto config = serve_flags->Load();
    ctx.rc = config.ok() ? server::RunServe(*config) : PrintError(config.status());
  });

  app.add_subcommand("version", "print the version")->callback([] {
    const auto& b = GetBuildInfo();
    std::cout << "argus " << b.version << " (commit " << b.commit << ", " << b.compiler << ")\n";
  });

  CLI::App* config_cmd = app.add_subcommand("config", "configuration tools");
  config_cmd->require_subcommand(1);
  struct PrintOptions {
    ConfigFlags flags;
    bool show_secrets = false;
    bool markdown = false;
  };
  auto o = std::make_shared<PrintOptions>();
  CLI::App* print = config_cmd->add_subcommand(
      "print", "print the effective configuration (defaults < file < ARGUS_* env < flags)");
  o->flags.AddTo(print);
  print->add_flag("--show-secrets", o->show_secrets, "print secrets instead of ********");
  print->callback([&ctx, o] { ctx.rc = PrintConfig(o->flags, o->show_secrets); });
  CLI::App* reference =
      config_cmd->add_subcommand("reference", "print every key with its env variable");
  reference->add_flag("--markdown", o->markdown, "as a Markdown table (the default)");
  reference->callback([] { std::cout << ConfigReferenceMarkdown(); });
}

}  // namespace argus::cli
