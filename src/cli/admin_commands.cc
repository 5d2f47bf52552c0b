// `argus ns` (namespaces, global admin key) and `argus keys` (API keys).
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/command.h"

namespace argus::cli {
namespace {

const std::vector<std::string> kNamespaceColumns = {"name", "id", "created_at"};
const std::vector<std::string> kKeyColumns = {"id",        "name",       "role",      "prefix",
                                              "namespace", "expires_at", "revoked_at"};

void AddNamespaceCommands(CLI::App& app, CommandContext& ctx) {
  struct Options {
    std::string name;
    int limit = 50;
    std::string cursor;
  };
  auto o = std::make_shared<Options>();
  CLI::App* ns = app.add_subcommand("ns", "namespaces (global admin key)");
  ns->require_subcommand(1);

  CLI::App* create = ns->add_subcommand("create", "create a namespace");
  create->add_option("name", o->name, "namespace name")->required();
  ctx.AddClientFlags(create);
  create->callback([&ctx, o] {
    HttpClient http(ctx.client);
    ctx.rc = PrintResult(http.Call("POST", "/v1/namespaces", {{"name", o->name}}), ctx.json,
                         kNamespaceColumns);
  });

  CLI::App* ls = ns->add_subcommand("ls", "list namespaces");
  AddPageFlags(ls, &o->limit, &o->cursor);
  ctx.AddClientFlags(ls);
  ls->callback([&ctx, o] {
    HttpClient http(ctx.client);
    ctx.rc = PrintResult(http.Call("GET", ListPath("/v1/namespaces", o->limit, o->cursor)),
                         ctx.json, kNamespaceColumns);
  });

  CLI::App* rm = ns->add_subcommand("rm", "delete a namespace and everything in it");
  rm->add_option("name", o->name, "namespace name")->required();
  ctx.AddClientFlags(rm);
  rm->callback([&ctx, o] {
    HttpClient http(ctx.client);
    auto r = http.Call("DELETE", "/v1/namespaces/" + o->name);
    if (!r.ok()) {
      ctx.rc = PrintError(r.status());
    } else if (!ctx.json) {
      std::cout << "deleted namespace " << o->name << "\n";
    }
  });
}

void AddKeyCommands(CLI::App& app, CommandContext& ctx) {
  struct Options {
    std::string name;
    std::string role = "viewer";
    std::string expires_at;
    std::string id;
    int limit = 50;
    std::string cursor;
  };
  auto o = std::make_shared<Options>();
  CLI::App* keys = app.add_subcommand("keys", "API keys");
  keys->require_subcommand(1);

  CLI::App* create = keys->add_subcommand("create", "create a key (prints its secret once)");
  create->add_option("name", o->name, "a name for the key")->required();
  create->add_option("--role", o->role, "admin, editor or viewer")
      ->check(CLI::IsMember({"admin", "editor", "viewer"}));
  create->add_option("--expires-at", o->expires_at, "RFC 3339 expiry time");
  ctx.AddClientFlags(create);
  create->callback([&ctx, o] {
    HttpClient http(ctx.client);
    Json body = {{"name", o->name}, {"role", o->role}};
    if (!o->expires_at.empty()) body["expires_at"] = o->expires_at;
    auto r = http.Call("POST", "/v1/keys", body);
    if (!r.ok() || ctx.json) {
      ctx.rc = PrintResult(r, ctx.json, kKeyColumns);
      return;
    }
    PrintResult(r, false, kKeyColumns);
    std::cout << "\nsecret (shown once, store it now): " << (*r)["secret"].get<std::string>()
              << "\n";
  });

  CLI::App* ls = keys->add_subcommand("ls", "list keys");
  AddPageFlags(ls, &o->limit, &o->cursor);
  ctx.AddClientFlags(ls);
  ls->callback([&ctx, o] {
    HttpClient http(ctx.client);
    ctx.rc = PrintResult(http.Call("GET", ListPath("/v1/keys", o->limit, o->cursor)), ctx.json,
                         kKeyColumns);
  });

  CLI::App* revoke = keys->add_subcommand("revoke", "revoke a key at once");
  revoke->add_option("id", o->id, "key id")->required();
  ctx.AddClientFlags(revoke);
  revoke->callback([&ctx, o] {
    HttpClient http(ctx.client);
    auto r = http.Call("DELETE", "/v1/keys/" + o->id);
    if (!r.ok()) {
      ctx.rc = PrintError(r.status());
    } else if (!ctx.json) {
      std::cout << "revoked key " << o->id << "\n";
    }
  });
}

}  // namespace

void AddAdminCommands(CLI::App& app, CommandContext& ctx) {
  AddNamespaceCommands(app, ctx);
  AddKeyCommands(app, ctx);
}

}  // namespace argus::cli
