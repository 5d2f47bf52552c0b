#include "domain/collection_spec.h"

#include <set>
#include <utility>

#include "core/crypto.h"

namespace argus::domain {

namespace {

Status Bad(const std::string& where, const std::string& what) {
  return InvalidArgumentError(where + ": " + what);
}

bool ValidCollectionName(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) return false;
  }
  return s[0] != '-' && s[0] != '_';
}

Status CheckPath(const Json& v, const std::string& where) {
  if (!v.is_string()) return Bad(where, "give a payload path such as \"metadata.camera\"");
  const std::string& p = v.get_ref<const std::string&>();
  if (p.empty() || p.size() > 256 || p.front() == '.' || p.back() == '.' ||
      p.find("..") != std::string::npos) {
    return Bad(where, "'" + p + "' is no payload path (dots between names, up to 256 bytes)");
  }
  return OkStatus();
}

const store::InferenceTarget* FindExtractor(const std::vector<store::InferenceTarget>& targets,
                                            std::string_view name) {
  for (const auto& t : targets) {
    if (t.kind == "extractor" && t.name == name) return &t;
  }
  return nullptr;
}

std::string ExtractorNames(const std::vector<store::InferenceTarget>& targets) {
  std::string out;
  for (const auto& t : targets) {
    if (t.kind == "extractor") out += (out.empty() ? "" : ", ") + t.name;
  }
  return out;
}

// An extractor's vector_storage: f32, f16, or i8 when every vector it makes is cosine.
Result<store::VectorStorage> ParseStorage(const Json& v, const store::InferenceTarget& target,
                                          const std::string& at) {
  auto storage = store::ParseVectorStorage(v.is_string() ? v.get<std::string>() : "");
  if (!storage.ok()) return Bad(at, "f32, f16 or i8");
  if (!target.details.contains("vectors") || target.details["vectors"].empty()) {
    return Bad(at, "extractor '" + target.name + "' makes no vectors to store");
  }
  if (*storage == store::VectorStorage::kI8) {
    for (const auto& vec : target.details["vectors"]) {
      if (vec.value("metric", "cosine") != "cosine") {
        return Bad(at, "i8 is for cosine vectors; '" + target.name + "/" + vec.value("output", "") +
                           "' is " + vec.value("metric", "") + ": use f16");
      }
    }
  }
  return *storage;
}

Result<std::vector<store::CollectionExtractor>> ParseExtractors(const CollectionSpecContext& ctx,
                                                                const Json& list) {
  if (!list.is_array() || list.empty()) {
    return Bad("extractors", "give a non-empty array such as [{\"name\": \"image_embedding\"}]");
  }
  if (static_cast<int>(list.size()) > kMaxCollectionExtractors) {
    return Bad("extractors", "at most " + std::to_string(kMaxCollectionExtractors));
  }
  const std::vector<store::InferenceTarget> targets = ctx.inference->Targets();
  std::vector<store::CollectionExtractor> out;
  std::set<std::string> seen;
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string at = "extractors[" + std::to_string(i) + "]";
    const Json& e = list[i];
    if (!e.is_object()) return Bad(at, "give an object with name, version, params");
    for (const auto& [key, value] : e.items()) {
      if (key != "name" && key != "version" && key != "params" && key != "input_mappings" &&
          key != "vector_storage") {
        return Bad(at + "." + key,
                   "unknown field; an extractor takes name, version, params, input_mappings and "
                   "vector_storage");
      }
    }
    if (!e.contains("name") || !e["name"].is_string()) return Bad(at + ".name", "give a string");
    store::CollectionExtractor x;
    x.name = e["name"].get<std::string>();
    const store::InferenceTarget* target = FindExtractor(targets, x.name);
    if (target == nullptr) {
      return Bad(at + ".name",
                 "no extractor '" + x.name + "'; this server has: " + ExtractorNames(targets));
    }
    if (!seen.insert(x.name).second) {
      return Bad(at + ".name", "extractor '" + x.name + "' is listed twice");
    }
    x.version = target->version;
    if (e.contains("version")) {
      const Json& v = e["version"];
      std::string asked = v.is_string()           ? v.get<std::string>()
                          : v.is_number_integer() ? std::to_string(v.get<int64_t>())
                                                  : "";
      if (asked != target->version) {
        return Bad(at + ".version", "extractor '" + x.name + "' runs version " + target->version +
                                        " here, not " + (asked.empty() ? v.dump() : asked));
      }
    }
    if (e.contains("params")) {
      if (!e["params"].is_object()) return Bad(at + ".params", "give an object");
      x.params = e["params"];
    }
    if (Status valid = ctx.inference->ValidateParams(x.name, x.params); !valid.ok()) {
      return Bad(at + ".params", std::string(valid.message()));
    }
    if (e.contains("input_mappings")) {
      const Json& m = e["input_mappings"];
      if (!m.is_object()) return Bad(at + ".input_mappings", "give an object");
      for (const auto& [input, from] : m.items()) {
        if (input != "image") {
          return Bad(at + ".input_mappings." + input,
                     "unknown input; image extractors read \"image\"");
        }
        if (from != "source") {
          return Bad(at + ".input_mappings.image",
                     "\"source\" (the object, or the parent document's region in a later tier)");
        }
      }
      x.input_mappings = m;
    }
    if (e.contains("vector_storage")) {
      ARGUS_ASSIGN_OR_RETURN(x.vector_storage,
                             ParseStorage(e["vector_storage"], *target, at + ".vector_storage"));
    }
    out.push_back(std::move(x));
  }
  return out;
}

Result<std::vector<std::string>> ParsePassthrough(const Json& list) {
  if (!list.is_array()) return Bad("field_passthrough", "give an array of payload paths");
  if (static_cast<int>(list.size()) > kMaxPassthroughFields) {
    return Bad("field_passthrough", "at most " + std::to_string(kMaxPassthroughFields));
  }
  std::vector<std::string> out;
  for (size_t i = 0; i < list.size(); ++i) {
    ARGUS_RETURN_IF_ERROR(CheckPath(list[i], "field_passthrough[" + std::to_string(i) + "]"));
    out.push_back(list[i].get<std::string>());
  }
  return out;
}

Result<std::vector<store::PayloadIndex>> ParseIndexes(const Json& list) {
  if (!list.is_array()) {
    return Bad("payload_indexes",
               "give an array such as [{\"field\": \"label\", \"type\": "
               "\"keyword\"}]");
  }
  if (static_cast<int>(list.size()) > kMaxPayloadIndexes) {
    return Bad("payload_indexes", "at most " + std::to_string(kMaxPayloadIndexes));
  }
  std::vector<store::PayloadIndex> out;
  std::set<std::string> seen;
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string at = "payload_indexes[" + std::to_string(i) + "]";
    const Json& x = list[i];
    if (!x.is_object() || !x.contains("field") || !x.contains("type") || x.size() != 2) {
      return Bad(at, "give {\"field\": path, \"type\": keyword|integer|float|bool|datetime}");
    }
    ARGUS_RETURN_IF_ERROR(CheckPath(x["field"], at + ".field"));
    if (!x["type"].is_string())
      return Bad(at + ".type", "keyword, integer, float, bool or datetime");
    auto type = store::ParseFieldType(x["type"].get<std::string>());
    if (!type.ok()) return Bad(at + ".type", std::string(type.status().message()));
    std::string field = x["field"].get<std::string>();
    if (!seen.insert(field).second) return Bad(at + ".field", "'" + field + "' is indexed twice");
    out.push_back({.field = std::move(field), .type = *type});
  }
  return out;
}

bool YieldsRegions(const CollectionSpecContext& ctx,
                   const std::vector<store::CollectionExtractor>& extractors) {
  const std::vector<store::InferenceTarget> targets = ctx.inference->Targets();
  for (const auto& e : extractors) {
    const store::InferenceTarget* t = FindExtractor(targets, e.name);
    if (t != nullptr && t->details.value("granularity", "object") == "region") return true;
  }
  return false;
}

// A later tier runs on its parent's regions: the parent must yield some.
Status CheckTier(const CollectionSpecContext& ctx, const store::Collection& parent) {
  if (YieldsRegions(ctx, parent.extractors)) return OkStatus();
  return Bad("source.collection",
             "collection '" + parent.name +
                 "' makes one document per object; a collection sourced from it runs on its "
                 "regions: give it a region extractor such as face_detection or object_detection");
}

}  // namespace

Result<store::Collection> CollectionFromSpec(const CollectionSpecContext& ctx,
                                             std::string_view namespace_id, const Json& body) {
  if (!body.is_object()) return InvalidArgumentError("the body must be a JSON object");
  store::Collection c;
  c.namespace_id = std::string(namespace_id);
  if (!body.contains("name") || !body["name"].is_string() ||
      !ValidCollectionName(body["name"].get<std::string>())) {
    return Bad("name",
               "1-63 lowercase letters, digits, '-' or '_', starting with a letter or digit");
  }
  c.name = body["name"].get<std::string>();
  if (body.contains("description")) {
    if (!body["description"].is_string()) return Bad("description", "give a string");
    c.description = body["description"].get<std::string>();
  }
  const Json source = body.value("source", Json());
  if (!source.is_object() || source.size() != 1 ||
      !(source.contains("bucket") || source.contains("collection")) ||
      !source.begin()->is_string()) {
    return Bad("source", "give {\"bucket\": name} or {\"collection\": name}");
  }
  if (source.contains("bucket")) {
    ARGUS_ASSIGN_OR_RETURN(
        store::Bucket bucket,
        ctx.buckets->GetBucket(namespace_id, source["bucket"].get<std::string>()));
    c.source_bucket_id = bucket.id;
    c.source_name = bucket.name;
  } else {
    const std::string parent_name = source["collection"].get<std::string>();
    if (parent_name == c.name)
      return Bad("source.collection", "a collection cannot be its own source");
    ARGUS_ASSIGN_OR_RETURN(store::Collection parent,
                           ctx.collections->GetCollection(namespace_id, parent_name));
    ARGUS_RETURN_IF_ERROR(CheckTier(ctx, parent));
    c.source_collection_id = parent.id;
    c.source_name = parent.name;
  }
  ARGUS_ASSIGN_OR_RETURN(c.extractors, ParseExtractors(ctx, body.value("extractors", Json())));
  if (body.contains("field_passthrough")) {
    ARGUS_ASSIGN_OR_RETURN(c.field_passthrough, ParsePassthrough(body["field_passthrough"]));
  }
  if (body.contains("payload_indexes")) {
    ARGUS_ASSIGN_OR_RETURN(c.payload_indexes, ParseIndexes(body["payload_indexes"]));
  }
  if (body.contains("auto_process")) {
    if (!body["auto_process"].is_boolean()) return Bad("auto_process", "give true or false");
    c.auto_process = body["auto_process"].get<bool>();
  } else {
    c.auto_process = true;
  }
  for (const auto& [key, value] : body.items()) {
    static const std::set<std::string> kKnown = {
        "name",        "description",       "source",
        "extractors",  "field_passthrough", "payload_indexes",
        "auto_process"};
    if (!kKnown.count(key)) {
      return Bad(key,
                 "unknown field; a collection takes name, description, source, extractors, "
                 "field_passthrough, payload_indexes and auto_process");
    }
  }
  return c;
}

Result<store::CollectionUpdate> CollectionUpdateFromSpec(const CollectionSpecContext& ctx,
                                                         const store::Collection& current,
                                                         const Json& body) {
  if (!body.is_object()) return InvalidArgumentError("the body must be a JSON object");
  store::CollectionUpdate u;
  for (const auto& [key, value] : body.items()) {
    if (key == "name" || key == "source") {
      return Bad(key,
                 "a collection's " + key + " never changes: create another collection instead");
    } else if (key == "description") {
      if (!value.is_string()) return Bad(key, "give a string");
      u.description = value.get<std::string>();
    } else if (key == "extractors") {
      ARGUS_ASSIGN_OR_RETURN(u.extractors, ParseExtractors(ctx, value));
    } else if (key == "field_passthrough") {
      ARGUS_ASSIGN_OR_RETURN(u.field_passthrough, ParsePassthrough(value));
    } else if (key == "payload_indexes") {
      ARGUS_ASSIGN_OR_RETURN(u.payload_indexes, ParseIndexes(value));
    } else if (key == "auto_process") {
      if (!value.is_boolean()) return Bad(key, "give true or false");
      u.auto_process = value.get<bool>();
    } else {
      return Bad(key,
                 "unknown field; an update takes description, extractors, field_passthrough, "
                 "payload_indexes and auto_process");
    }
  }
  if (u.extractors && !YieldsRegions(ctx, *u.extractors)) {
    ARGUS_ASSIGN_OR_RETURN(auto children, ctx.collections->CollectionsOfSource(current.id, true));
    if (!children.empty()) {
      return Bad("extractors", "collection '" + children.front().name +
                                   "' runs on this collection's regions: keep a region extractor "
                                   "such as face_detection");
    }
  }
  return u;
}

std::vector<FeatureAddress> FeaturesOf(const store::Collection& collection,
                                       const std::vector<store::InferenceTarget>& targets) {
  std::vector<FeatureAddress> out;
  for (const auto& e : collection.extractors) {
    const store::InferenceTarget* t = FindExtractor(targets, e.name);
    if (t == nullptr || !t->details.contains("vectors")) continue;
    for (const auto& v : t->details["vectors"]) {
      FeatureAddress f;
      f.extractor = e.name;
      f.version = e.version;
      f.output = v.value("output", "");
      f.address = f.extractor + "@" + f.version + "/" + f.output;
      f.dimension = v.value("dimension", 0);
      f.metric = v.value("metric", "cosine");
      f.granularity = t->details.value("granularity", "object");
      f.storage = std::string(store::VectorStorageName(e.vector_storage));
      out.push_back(std::move(f));
    }
  }
  return out;
}

Result<FeatureAddress> ParseFeatureAddress(std::string_view address, std::string_view where) {
  const size_t at = address.find('@');
  const size_t slash = address.find('/', at == std::string_view::npos ? 0 : at);
  if (at == std::string_view::npos || slash == std::string_view::npos || at == 0 ||
      slash == at + 1 || slash + 1 == address.size()) {
    return InvalidArgumentError(std::string(where) + ": '" + std::string(address) +
                                "' is no feature address; they look like "
                                "image_embedding@2/embedding (GET /v1/collections/{c}/features)");
  }
  FeatureAddress f;
  f.address = std::string(address);
  f.extractor = std::string(address.substr(0, at));
  f.version = std::string(address.substr(at + 1, slash - at - 1));
  f.output = std::string(address.substr(slash + 1));
  return f;
}

std::string IndexSignature(const store::Collection& collection) {
  return HexEncode(Sha256(collection.id + ":" + std::to_string(collection.generation)))
      .substr(0, 32);
}

}  // namespace argus::domain
