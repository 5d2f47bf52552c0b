// `argus collections`: create, ls, get, features, rm.
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/objects.h"

namespace argus::cli {
namespace {

const std::vector<std::string> kCollectionColumns = {"name", "source", "extractors", "auto_process",
                                                     "index_signature"};
const std::vector<std::string> kFeatureColumns = {"address", "dimension", "metric", "granularity",
                                                  "storage"};

struct CollectionOptions {
  std::string name;
  std::string bucket;
  std::string parent;
  std::vector<std::string> extractors;
  std::vector<std::string> indexes;  // field:type
  std::vector<std::string> passthrough;
  std::string description;
  bool no_auto_process = false;
};

Result<Json> CreateBody(const CollectionOptions& o) {
  if (o.bucket.empty() == o.parent.empty()) {
    return InvalidArgumentError("give the source: --bucket B, or --collection C for a later tier");
  }
  Json body = {{"name", o.name}};
  body["source"] = o.bucket.empty() ? Json{{"collection", o.parent}} : Json{{"bucket", o.bucket}};
  body["extractors"] = Json::array();
  for (const auto& e : o.extractors) {
    // name, or name:storage for its vectors' index (f32, f16, i8).
    const size_t colon = e.find(':');
    if (colon == std::string::npos) {
      body["extractors"].push_back({{"name", e}});
    } else if (colon == 0 || colon + 1 == e.size()) {
      return InvalidArgumentError("-e takes name or name:storage, e.g. image_embedding:f16, not '" +
                                  e + "'");
    } else {
      body["extractors"].push_back(
          {{"name", e.substr(0, colon)}, {"vector_storage", e.substr(colon + 1)}});
    }
  }
  if (!o.indexes.empty()) {
    body["payload_indexes"] = Json::array();
    for (const auto& i : o.indexes) {
      const size_t colon = i.rfind(':');
      if (colon == std::string::npos || colon == 0 || colon + 1 == i.size()) {
        return InvalidArgumentError("--index takes field:type, e.g. label:keyword, not '" + i +
                                    "'");
      }
      body["payload_indexes"].push_back(
          {{"field", i.substr(0, colon)}, {"type", i.substr(colon + 1)}});
    }
  }
  if (!o.passthrough.empty()) body["field_passthrough"] = o.passthrough;
  if (!o.description.empty()) body["description"] = o.description;
  if (o.no_auto_process) body["auto_process"] = false;
  return body;
}

}  // namespace

void AddCollectionCommands(CLI::App& app, CommandContext& ctx) {
  auto o = std::make_shared<CollectionOptions>();
  CLI::App* collections =
      app.add_subcommand("collections", "collections: extractors run on a bucket's objects");
  collections->require_subcommand(1);

  CLI::App* create = collections->add_subcommand("create", "create a collection");
  create->add_option("name", o->name, "collection name")->required();
  create->add_option("--bucket", o->bucket, "the source bucket");
  create->add_option("--collection", o->parent,
                     "the source collection (a later tier: runs on its regions)");
  create
      ->add_option("-e,--extractor", o->extractors,
                   "an extractor to run (repeatable); name:f16 or name:i8 stores its vectors "
                   "compactly")
      ->required();
  create->add_option("--index", o->indexes,
                     "a payload field to filter on, field:type "
                     "(keyword, integer, float, bool, datetime)");
  create->add_option("--passthrough", o->passthrough,
                     "object metadata copied into each document, e.g. metadata.camera");
  create->add_option("--description", o->description, "what the collection is for");
  create->add_flag("--no-auto-process", o->no_auto_process,
                   "do not process new objects as they arrive (batches only)");
  ctx.AddClientFlags(create);
  create->callback([&ctx, o] {
    auto body = CreateBody(*o);
    if (!body.ok()) {
      ctx.rc = PrintError(body.status());
      return;
    }
    HttpClient http(ctx.client);
    ctx.rc = PrintResult(http.Call("POST", "/v1/collections", *body), ctx.json, kCollectionColumns);
  });

  CLI::App* ls = collections->add_subcommand("ls", "list collections (every page)");
  ctx.AddClientFlags(ls);
  ls->callback([&ctx] {
    HttpClient http(ctx.client);
    ctx.rc = PrintResult(ListAll(http, "/v1/collections"), ctx.json, kCollectionColumns);
  });

  CLI::App* get = collections->add_subcommand("get", "show a collection");
  get->add_option("name", o->name, "collection name")->required();
  ctx.AddClientFlags(get);
  get->callback([&ctx, o] {
    HttpClient http(ctx.client);
    ctx.rc = PrintResult(http.Call("GET", "/v1/collections/" + UrlEncode(o->name)), ctx.json,
                         kCollectionColumns);
  });

  CLI::App* features =
      collections->add_subcommand("features", "the vectors a collection's documents carry");
  features->add_option("name", o->name, "collection name")->required();
  ctx.AddClientFlags(features);
  features->callback([&ctx, o] {
    HttpClient http(ctx.client);
    ctx.rc = PrintResult(http.Call("GET", "/v1/collections/" + UrlEncode(o->name) + "/features"),
                         ctx.json, kFeatureColumns);
  });

  CLI::App* rm = collections->add_subcommand("rm", "delete a collection");
  rm->add_option("name", o->name, "collection name")->required();
  ctx.AddClientFlags(rm);
  rm->callback([&ctx, o] {
    HttpClient http(ctx.client);
    auto r = http.Call("DELETE", "/v1/collections/" + UrlEncode(o->name));
    if (!r.ok()) {
      ctx.rc = PrintError(r.status());
      return;
    }
    if (!ctx.json) std::cout << "deleted collection " << o->name << "\n";
  });
}

}  // namespace argus::cli
