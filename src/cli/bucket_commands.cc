// `argus buckets`, `argus objects` and `argus upload`.
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/objects.h"
#include "cli/table.h"
#include "cli/upload.h"

namespace argus::cli {
namespace {

const std::vector<std::string> kBucketColumns = {"name", "description", "max_object_bytes",
                                                 "allowed_media_types", "created_at"};
const std::vector<std::string> kObjectColumns = {"key", "size", "media_type", "updated_at"};

struct BucketOptions {
  std::string name;
  std::string description;
  int64_t max_object_bytes = -1;
  std::vector<std::string> allowed_types;
  bool force = false;
};

int CreateBucket(CommandContext& ctx, const BucketOptions& o) {
  Json body = {{"name", o.name}};
  if (!o.description.empty()) body["description"] = o.description;
  if (o.max_object_bytes >= 0) body["max_object_bytes"] = o.max_object_bytes;
  if (!o.allowed_types.empty()) body["allowed_media_types"] = o.allowed_types;
  HttpClient http(ctx.client);
  return PrintResult(http.Call("POST", "/v1/buckets", body), ctx.json, kBucketColumns);
}

int DeleteBucket(CommandContext& ctx, const BucketOptions& o) {
  std::string path = "/v1/buckets/" + UrlEncode(o.name);
  if (o.force) path += "?force=true";
  HttpClient http(ctx.client);
  auto r = http.Call("DELETE", path);
  if (!r.ok()) {
    int rc = PrintError(r.status());
    if (!o.force && r.status().code() == StatusCode::kAlreadyExists) {
      std::fprintf(stderr, "argus: (--force deletes a bucket with its objects)\n");
    }
    return rc;
  }
  if (!ctx.json) std::cout << "deleted bucket " << o.name << "\n";
  return 0;
}

void AddBucketGroup(CLI::App& app, CommandContext& ctx) {
  auto o = std::make_shared<BucketOptions>();
  CLI::App* buckets = app.add_subcommand("buckets", "buckets of objects");
  buckets->require_subcommand(1);

  CLI::App* create = buckets->add_subcommand("create", "create a bucket");
  create->add_option("name", o->name, "bucket name")->required();
  create->add_option("--description", o->description, "what the bucket holds");
  create
      ->add_option("--max-object-bytes", o->max_object_bytes,
                   "largest object accepted (0: the server's limit)")
      ->check(CLI::NonNegativeNumber);
  create->add_option("--allow", o->allowed_types,
                     "accept only this media type, e.g. image/* (repeatable)");
  ctx.AddClientFlags(create);
  create->callback([&ctx, o] { ctx.rc = CreateBucket(ctx, *o); });

  CLI::App* ls = buckets->add_subcommand("ls", "list buckets");
  ctx.AddClientFlags(ls);
  ls->callback([&ctx] {
    HttpClient http(ctx.client);
    auto r = ListAll(http, "/v1/buckets");
    if (r.ok()) r->erase("common_prefixes");
    ctx.rc = PrintResult(r, ctx.json, kBucketColumns);
  });

  CLI::App* rm = buckets->add_subcommand("rm", "delete a bucket");
  rm->add_option("name", o->name, "bucket name")->required();
  rm->add_flag("--force", o->force, "also delete the objects in it");
  ctx.AddClientFlags(rm);
  rm->callback([&ctx, o] { ctx.rc = DeleteBucket(ctx, *o); });
}

struct ObjectOptions {
  std::string bucket;
  std::string key;
  std::string prefix;
  std::string delimiter;
  std::string out_file;
};

int ListObjects(CommandContext& ctx, const ObjectOptions& o) {
  std::string path = "/v1/buckets/";
  path.append(UrlEncode(o.bucket)).append("/objects");
  char sep = '?';
  if (!o.prefix.empty()) {
    path.append(1, sep).append("prefix=").append(UrlEncode(o.prefix));
    sep = '&';
  }
  if (!o.delimiter.empty()) path.append(1, sep).append("delimiter=").append(UrlEncode(o.delimiter));
  HttpClient http(ctx.client);
  auto r = ListAll(http, path);
  if (!r.ok() || ctx.json) return PrintResult(r, ctx.json, kObjectColumns);
  // Folders first, as rows of their own.
  Table t(kObjectColumns);
  for (const auto& p : (*r)["common_prefixes"]) {
    t.AddRow({p.get<std::string>(), "-", "folder", "-"});
  }
  for (const auto& item : (*r)["items"]) {
    std::vector<std::string> row;
    for (const auto& c : kObjectColumns) row.push_back(item.contains(c) ? Str(item[c]) : "-");
    t.AddRow(std::move(row));
  }
  std::cout << t.Render();
  return 0;
}

void AddObjectGroup(CLI::App& app, CommandContext& ctx) {
  auto o = std::make_shared<ObjectOptions>();
  CLI::App* objects = app.add_subcommand("objects", "objects in a bucket");
  objects->require_subcommand(1);

  CLI::App* ls = objects->add_subcommand("ls", "list objects (every page)");
  ls->add_option("bucket", o->bucket, "bucket name")->required();
  ls->add_option("--prefix", o->prefix, "only keys starting with this");
  ls->add_option("--delimiter", o->delimiter,
                 "'/': keys with it after the prefix roll up into folders");
  ctx.AddClientFlags(ls);
  ls->callback([&ctx, o] { ctx.rc = ListObjects(ctx, *o); });

  CLI::App* get =
      objects->add_subcommand("get", "download an object's bytes (to stdout without -o)");
  get->add_option("bucket", o->bucket, "bucket name")->required();
  get->add_option("key", o->key, "object key")->required();
  get->add_option("-o,--output", o->out_file, "write to this file ('-': stdout)");
  ctx.AddClientFlags(get);
  get->callback([&ctx, o] {
    HttpClient http(ctx.client);
    Status s = Download(http, o->bucket, o->key, o->out_file);
    ctx.rc = s.ok() ? 0 : PrintError(s);
  });

  CLI::App* info = objects->add_subcommand("info", "show an object's record");
  info->add_option("bucket", o->bucket, "bucket name")->required();
  info->add_option("key", o->key, "object key")->required();
  ctx.AddClientFlags(info);
  info->callback([&ctx, o] {
    HttpClient http(ctx.client);
    auto r = http.Call("GET", ObjectPath(o->bucket, "objects", o->key));
    if (!r.ok()) {
      ctx.rc = PrintError(r.status());
      return;
    }
    std::cout << r->dump(2) << "\n";
  });

  CLI::App* rm = objects->add_subcommand("rm", "delete an object");
  rm->add_option("bucket", o->bucket, "bucket name")->required();
  rm->add_option("key", o->key, "object key")->required();
  ctx.AddClientFlags(rm);
  rm->callback([&ctx, o] {
    HttpClient http(ctx.client);
    auto r = http.Call("DELETE", ObjectPath(o->bucket, "objects", o->key));
    if (!r.ok()) {
      ctx.rc = PrintError(r.status());
    } else if (!ctx.json) {
      std::cout << "deleted " << o->bucket << "/" << o->key << "\n";
    }
  });
}

void AddUploadCommand(CLI::App& app, CommandContext& ctx) {
  auto o = std::make_shared<UploadOptions>();
  CLI::App* upload = app.add_subcommand(
      "upload",
      "upload files and directories (recursively) into a bucket; files already there with the "
      "same bytes are skipped, so a re-run resumes");
  upload->add_option("paths", o->paths, "files and directories")->required();
  upload->add_option("-b,--bucket", o->bucket, "bucket name")->required();
  upload->add_option("--metadata", o->metadata, "JSON object stored as every object's metadata");
  upload->add_option("--prefix", o->prefix,
                     "prepended as is to every key (end it with '/' for a folder)");
  upload->add_option("-j,--parallel", o->parallel, "uploads at once (default 4)")
      ->check(CLI::Range(1, 64));
  ctx.AddClientFlags(upload);
  upload->callback([&ctx, o] {
    o->json = ctx.json;
    ctx.rc = RunUpload(ctx.client, *o);
  });
}

}  // namespace

void AddBucketCommands(CLI::App& app, CommandContext& ctx) {
  AddBucketGroup(app, ctx);
  AddObjectGroup(app, ctx);
  AddUploadCommand(app, ctx);
}

}  // namespace argus::cli
