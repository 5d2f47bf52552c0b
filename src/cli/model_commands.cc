// `argus infer` (the real-time inference endpoint) and `argus models`.
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/inference.h"

namespace argus::cli {

void AddModelCommands(CLI::App& app, CommandContext& ctx) {
  struct Options {
    std::string name;
    std::string file;
    std::string text;
    std::vector<std::string> params;
    bool list_extractors = false;
  };
  auto o = std::make_shared<Options>();
  CLI::App* infer = app.add_subcommand(
      "infer", "run an extractor or a model on an image or a text (POST /v1/inference/NAME)");
  infer->add_option("name", o->name, "extractor or model, e.g. object_detection")->required();
  auto* file = infer->add_option("file", o->file, "image file ('-': stdin)");
  infer->add_option("--text", o->text, "the text, for a text model (instead of a file)")
      ->excludes(file);
  infer->add_option("-p,--param", o->params, "parameter key=value (repeatable)");
  ctx.AddClientFlags(infer);
  infer->callback([&ctx, o] {
    if (o->file.empty() && o->text.empty()) {
      ctx.rc = PrintError(InvalidArgumentError("give an image file or --text"));
      return;
    }
    HttpClient http(ctx.client);
    auto r = Infer(http, o->name, o->file, o->params, o->text);
    if (!r.ok()) {
      ctx.rc = PrintError(r.status());
      return;
    }
    std::cout << (ctx.json ? r->dump(2) + "\n" : FormatInference(*r));
  });

  CLI::App* models = app.add_subcommand("models", "models and extractors");
  models->require_subcommand(1);
  CLI::App* ls = models->add_subcommand("ls", "list the models and their state");
  ls->add_flag("--extractors", o->list_extractors, "list the extractors instead");
  ctx.AddClientFlags(ls);
  ls->callback([&ctx, o] {
    HttpClient http(ctx.client);
    ctx.rc = PrintResult(
        http.Call("GET", o->list_extractors ? "/v1/extractors" : "/v1/models"), ctx.json,
        o->list_extractors ? std::vector<std::string>{"name", "version", "state", "error"}
                           : std::vector<std::string>{"name", "version", "task", "state",
                                                      "batchable", "load_ms", "error"});
  });
}

}  // namespace argus::cli
