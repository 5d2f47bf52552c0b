// `argus batch`: submit (a draft made and submitted in one step, --wait with a progress line per
// tier), ls, get, cancel, retry; and `argus documents ls`.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cli/command.h"
#include "cli/objects.h"

namespace argus::cli {
namespace {

const std::vector<std::string> kBatchColumns = {"id",          "status",       "objects",
                                                "collections", "submitted_at", "finished_at"};
const std::vector<std::string> kDocumentColumns = {"id", "unit", "tier", "object_id", "text"};

struct BatchOptions {
  std::string bucket;
  std::string id;
  std::string prefix;
  std::vector<std::string> keys;
  std::vector<std::string> collections;
  std::string filter;
  bool wait = false;
  double timeout_s = 0;
  // documents ls
  std::string collection;
  int limit = 50;
  std::string cursor;
  std::string order_by;
  bool vectors = false;
};

// "tier 1 [faces]  12/20 done, 1 failed, 3 running".
std::string TierLine(const Json& tier) {
  std::string names;
  for (const auto& n : tier.value("collections", Json::array())) {
    names += (names.empty() ? "" : ",") + n.get<std::string>();
  }
  const int64_t total = tier.value("total", 0);
  const int64_t done =
      tier.value("succeeded", 0) + tier.value("failed", 0) + tier.value("cancelled", 0);
  const int width = 24;
  const int filled = total > 0 ? static_cast<int>(width * done / total) : width;
  std::string bar = "[" + std::string(filled, '#') + std::string(width - filled, '.') + "]";
  std::string line = "tier " + std::to_string(tier.value("tier", 0)) + " " + bar + " " +
                     std::to_string(done) + "/" + std::to_string(total) + " " + names;
  if (tier.value("failed", 0) > 0)
    line += ", " + std::to_string(tier.value("failed", 0)) + " failed";
  if (tier.value("running", 0) > 0) {
    line += ", " + std::to_string(tier.value("running", 0)) + " running";
  }
  return line;
}

// Polls the batch until it is finished (or the timeout), drawing one line per tier on stderr.
Result<Json> AwaitBatch(HttpClient& http, const std::string& path, double timeout_s) {
  const bool tty = ::isatty(STDERR_FILENO) == 1;
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                            std::chrono::duration<double>(timeout_s > 0 ? timeout_s : 1e9));
  size_t drawn = 0;
  std::string last;
  for (;;) {
    ARGUS_ASSIGN_OR_RETURN(Json batch, http.Call("GET", path));
    std::string lines;
    for (const auto& tier : batch.value("tiers", Json::array())) lines += TierLine(tier) + "\n";
    if (lines != last) {
      if (tty) {
        for (size_t i = 0; i < drawn; ++i) std::cerr << "\x1b[1A\x1b[2K";  // up, clear
      }
      std::cerr << lines << std::flush;
      drawn = static_cast<size_t>(std::count(lines.begin(), lines.end(), '\n'));
      last = lines;
    }
    const std::string status = batch.value("status", "");
    if (status == "completed" || status == "failed" || status == "cancelled") return batch;
    if (std::chrono::steady_clock::now() > deadline) {
      return DeadlineExceededError("batch " + batch.value("id", "") + " is still " + status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
}

}  // namespace

void AddBatchCommands(CLI::App& app, CommandContext& ctx) {
  auto o = std::make_shared<BatchOptions>();
  CLI::App* batch = app.add_subcommand("batch", "batches: a bucket's objects through collections");
  batch->require_subcommand(1);

  CLI::App* submit =
      batch->add_subcommand("submit", "process a bucket's objects (all, a prefix or keys)");
  submit->add_option("--bucket", o->bucket, "the bucket")->required();
  submit->add_option("--prefix", o->prefix, "only keys under this prefix");
  submit->add_option("--object", o->keys, "only the object of this key (repeatable)");
  submit->add_option("--filter", o->filter, "only objects matching this filter (JSON)");
  submit->add_option("-c,--collection", o->collections,
                     "a collection of the bucket to run (repeatable; default: all)");
  submit->add_flag("--wait", o->wait, "show progress per tier until the batch is finished");
  submit->add_option("--timeout", o->timeout_s, "with --wait: give up after this many seconds");
  ctx.AddClientFlags(submit);
  submit->callback([&ctx, o] {
    Json body = Json::object();
    if (!o->prefix.empty()) body["prefix"] = o->prefix;
    if (!o->keys.empty()) body["keys"] = o->keys;
    if (!o->collections.empty()) body["collections"] = o->collections;
    if (!o->filter.empty()) {
      body["filter"] = Json::parse(o->filter, nullptr, false);
      if (body["filter"].is_discarded()) {
        ctx.rc = PrintError(InvalidArgumentError("--filter: not JSON: " + o->filter));
        return;
      }
    }
    HttpClient http(ctx.client);
    const std::string base = "/v1/buckets/" + UrlEncode(o->bucket) + "/batches";
    auto draft = http.Call("POST", base, body);
    if (!draft.ok()) {
      ctx.rc = PrintError(draft.status());
      return;
    }
    const std::string path = base + "/" + draft->value("id", "");
    auto submitted = http.Call("POST", path + "/submit", Json::object());
    if (!submitted.ok() || !o->wait) {
      ctx.rc = PrintResult(submitted, ctx.json, kBatchColumns);
      return;
    }
    auto finished = AwaitBatch(http, path, o->timeout_s);
    ctx.rc = PrintResult(finished, ctx.json, kBatchColumns);
    if (ctx.rc == 0 && finished->value("status", "") != "completed") ctx.rc = 1;
  });

  CLI::App* ls = batch->add_subcommand("ls", "list a bucket's batches (every page)");
  ls->add_option("--bucket", o->bucket, "the bucket")->required();
  ctx.AddClientFlags(ls);
  ls->callback([&ctx, o] {
    HttpClient http(ctx.client);
    ctx.rc = PrintResult(ListAll(http, "/v1/buckets/" + UrlEncode(o->bucket) + "/batches"),
                         ctx.json, kBatchColumns);
  });

  for (const char* action : {"get", "cancel", "retry"}) {
    const std::string verb = action;
    CLI::App* cmd = batch->add_subcommand(
        verb, verb == "get"      ? "show a batch with its counts per tier and its errors"
              : verb == "cancel" ? "cancel a batch's unfinished tasks"
                                 : "run a batch's failed tasks again");
    cmd->add_option("id", o->id, "the batch id")->required();
    cmd->add_option("--bucket", o->bucket, "the bucket")->required();
    ctx.AddClientFlags(cmd);
    cmd->callback([&ctx, o, verb] {
      HttpClient http(ctx.client);
      const std::string path = "/v1/buckets/" + UrlEncode(o->bucket) + "/batches/" + o->id;
      auto r = verb == "get" ? http.Call("GET", path)
                             : http.Call("POST", path + "/" + verb, Json::object());
      if (r.ok() && verb == "get" && !ctx.json) {
        for (const auto& tier : r->value("tiers", Json::array()))
          std::cout << TierLine(tier) << "\n";
      }
      ctx.rc = PrintResult(r, ctx.json, kBatchColumns);
    });
  }

  CLI::App* documents = app.add_subcommand("documents", "a collection's documents");
  documents->require_subcommand(1);
  CLI::App* dls = documents->add_subcommand("ls", "list a collection's documents (one page)");
  dls->add_option("collection", o->collection, "the collection")->required();
  dls->add_option("--filter", o->filter, "a filter (JSON), e.g. '{\"label\": \"person\"}'");
  dls->add_option("--order-by", o->order_by,
                  "sort by a payload path, '-' first for descending, e.g. -score");
  dls->add_flag("--vectors", o->vectors, "include the vectors");
  AddPageFlags(dls, &o->limit, &o->cursor);
  ctx.AddClientFlags(dls);
  dls->callback([&ctx, o] {
    HttpClient http(ctx.client);
    std::string path =
        ListPath("/v1/collections/" + UrlEncode(o->collection) + "/documents", o->limit, o->cursor);
    if (!o->filter.empty()) path += "&filter=" + UrlEncode(o->filter);
    if (!o->order_by.empty()) path += "&order_by=" + UrlEncode(o->order_by);
    if (o->vectors) path += "&include_vectors=true";
    ctx.rc = PrintResult(http.Call("GET", path), ctx.json, kDocumentColumns);
  });
}

}  // namespace argus::cli
