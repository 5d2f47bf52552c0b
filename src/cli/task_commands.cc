// `argus tasks`: submit, list, show, watch, cancel and retry durable tasks.
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/command.h"

namespace argus::cli {
namespace {

const std::vector<std::string> kTaskColumns = {"id",    "kind",     "status",    "attempt",
                                               "queue", "priority", "created_at"};

struct Options {
  std::string kind;
  std::string input = "{}";
  std::string queue;
  std::string status;
  std::string id;
  std::string idempotency_key;
  int priority = -1;
  double wait_s = -1;
  int limit = 50;
  std::string cursor;

  std::vector<std::string> WaitHeaders() const {
    if (wait_s < 0) return {};
    return {"Prefer: wait=" + std::to_string(static_cast<int>(wait_s))};
  }
};

int Submit(CommandContext& ctx, const Options& o) {
  Json body = {{"kind", o.kind}};
  Json input = Json::parse(o.input, nullptr, false);
  if (input.is_discarded()) return PrintError(InvalidArgumentError("--input is not JSON"));
  body["input"] = input;
  if (!o.queue.empty()) body["queue"] = o.queue;
  if (o.priority >= 0) body["priority"] = o.priority;
  if (!o.idempotency_key.empty()) body["idempotency_key"] = o.idempotency_key;
  HttpClient http(ctx.client);
  return PrintResult(http.Call("POST", "/v1/tasks", body, o.WaitHeaders()), ctx.json, kTaskColumns);
}

int List(CommandContext& ctx, const Options& o) {
  std::string path = ListPath("/v1/tasks", o.limit, o.cursor);
  if (!o.status.empty()) path += "&status=" + o.status;
  if (!o.kind.empty()) path += "&kind=" + o.kind;
  HttpClient http(ctx.client);
  return PrintResult(http.Call("GET", path), ctx.json, kTaskColumns);
}

int Get(CommandContext& ctx, const Options& o) {
  HttpClient http(ctx.client);
  auto r = http.Call("GET", "/v1/tasks/" + o.id, nullptr, o.WaitHeaders());
  if (!r.ok() || ctx.json) return PrintResult(r, ctx.json, kTaskColumns);
  std::cout << r->dump(2) << "\n";
  return 0;
}

// Follows a task until it ends: one long-polling GET at a time (`Prefer: wait`), printing a
// progress line whenever something changed.
int Watch(CommandContext& ctx, const std::string& id) {
  HttpClient http(ctx.client);
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
      std::cout << (ctx.json ? t.dump() : line) << std::endl;
      last = line;
    }
    if (status == "succeeded" || status == "failed" || status == "cancelled") {
      if (!ctx.json && !t["error"].is_null()) std::cout << "error: " << t["error"].dump() << "\n";
      return status == "succeeded" ? 0 : 1;
    }
  }
}

// POST /v1/tasks/<id>/<action> (cancel, retry).
int Act(CommandContext& ctx, const std::string& id, const std::string& action) {
  HttpClient http(ctx.client);
  return PrintResult(http.Call("POST", "/v1/tasks/" + id + "/" + action, Json::object()), ctx.json,
                     kTaskColumns);
}

}  // namespace

void AddTaskCommands(CLI::App& app, CommandContext& ctx) {
  auto o = std::make_shared<Options>();
  CLI::App* tasks = app.add_subcommand("tasks", "durable tasks");
  tasks->require_subcommand(1);

  CLI::App* submit = tasks->add_subcommand("submit", "submit a task");
  submit->add_option("kind", o->kind, "task kind, e.g. noop or sleep")->required();
  submit->add_option("--input", o->input, "input JSON");
  submit->add_option("--queue", o->queue, "queue (default cpu)");
  submit->add_option("--priority", o->priority, "0..9, 9 first")->check(CLI::Range(0, 9));
  submit->add_option("--idempotency-key", o->idempotency_key, "submit at most once");
  submit->add_option("--wait", o->wait_s, "wait up to this many seconds for the result");
  ctx.AddClientFlags(submit);
  submit->callback([&ctx, o] { ctx.rc = Submit(ctx, *o); });

  CLI::App* ls = tasks->add_subcommand("ls", "list tasks");
  ls->add_option("--status", o->status, "pending, running, failed, ...");
  ls->add_option("--kind", o->kind, "task kind");
  AddPageFlags(ls, &o->limit, &o->cursor);
  ctx.AddClientFlags(ls);
  ls->callback([&ctx, o] { ctx.rc = List(ctx, *o); });

  CLI::App* get = tasks->add_subcommand("get", "show a task");
  get->add_option("id", o->id, "task id")->required();
  get->add_option("--wait", o->wait_s, "wait up to this many seconds for it to finish");
  ctx.AddClientFlags(get);
  get->callback([&ctx, o] { ctx.rc = Get(ctx, *o); });

  CLI::App* watch = tasks->add_subcommand("watch", "follow a task's progress until it ends");
  watch->add_option("id", o->id, "task id")->required();
  ctx.AddClientFlags(watch);
  watch->callback([&ctx, o] { ctx.rc = Watch(ctx, o->id); });

  CLI::App* cancel = tasks->add_subcommand("cancel", "cancel a task");
  cancel->add_option("id", o->id, "task id")->required();
  ctx.AddClientFlags(cancel);
  cancel->callback([&ctx, o] { ctx.rc = Act(ctx, o->id, "cancel"); });

  CLI::App* retry = tasks->add_subcommand("retry", "run a failed or cancelled task again");
  retry->add_option("id", o->id, "task id")->required();
  ctx.AddClientFlags(retry);
  retry->callback([&ctx, o] { ctx.rc = Act(ctx, o->id, "retry"); });
}

}  // namespace argus::cli
