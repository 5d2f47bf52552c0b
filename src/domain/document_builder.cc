#include "domain/document_builder.h"

#include <set>
#include <utility>

#include "store/filter.h"

namespace argus::domain {

namespace {

// Sets `value` at a dotted path of `target`, making the objects on the way.
void SetPath(Json& target, std::string_view path, Json value) {
  Json* at = &target;
  while (true) {
    const size_t dot = path.find('.');
    const std::string step(path.substr(0, dot));
    if (!at->is_object()) *at = Json::object();
    if (dot == std::string_view::npos) {
      (*at)[step] = std::move(value);
      return;
    }
    at = &(*at)[step];
    path = path.substr(dot + 1);
  }
}

void AppendText(std::string& text, const Json& value) {
  if (value.is_string()) {
    const std::string& s = value.get_ref<const std::string&>();
    if (s.empty()) return;
    if (!text.empty()) text += '\n';
    text += s;
  } else if (value.is_array()) {
    for (const auto& v : value) AppendText(text, v);
  }
}

// Moves the declared vectors out of `unit` into `doc`.
Status TakeVectors(const ExtractorAnswer& a, Json& unit, store::Document& doc) {
  for (const auto& v : a.target.details.value("vectors", Json::array())) {
    const std::string output = v.value("output", "");
    const int dimension = v.value("dimension", 0);
    auto it = unit.find(output);
    if (it == unit.end() || !it->is_array() || static_cast<int>(it->size()) != dimension) {
      return InvalidArgumentError("extractor '" + a.name + "' answered without its " +
                                  std::to_string(dimension) + "-d vector '" + output + "'");
    }
    store::DocumentVector vector{.feature = a.name + "@" + a.version + "/" + output};
    vector.values.reserve(it->size());
    for (const auto& x : *it) {
      if (!x.is_number()) return InvalidArgumentError("vector '" + output + "' holds a non-number");
      vector.values.push_back(x.get<float>());
    }
    doc.vectors.push_back(std::move(vector));
    unit.erase(it);
  }
  return OkStatus();
}

void TakeText(const ExtractorAnswer& a, const Json& unit, std::string& text) {
  for (const auto& field : a.target.details.value("text_fields", Json::array())) {
    if (!field.is_string()) continue;
    auto it = unit.find(field.get<std::string>());
    if (it != unit.end()) AppendText(text, *it);
  }
}

// What field_passthrough reads: the object (key, media type, size, metadata) and, in a later
// tier, the parent document's payload.
Json PassthroughView(const DocumentSource& source) {
  Json view = source.parent != nullptr && source.parent->payload.is_object()
                  ? source.parent->payload
                  : Json::object();
  view["key"] = source.object.key;
  view["media_type"] = source.object.media_type;
  view["size"] = source.object.size;
  view["metadata"] = source.object.metadata;
  return view;
}

void ApplyPassthrough(const store::Collection& c, const Json& view, store::Document& doc) {
  for (const auto& path : c.field_passthrough) {
    const Json* value = store::FindPath(view, path);
    if (value == nullptr) continue;
    SetPath(doc.payload, path, *value);
    AppendText(doc.text, *value);
  }
}

Json MovedBox(const Json& box, const DocumentSource& source) {
  if (!box.is_array() || box.size() != 4 || source.parent == nullptr) return box;
  Json out = Json::array();
  for (size_t i = 0; i < 4; ++i) {
    const double shift = i % 2 == 0 ? source.crop_x : source.crop_y;
    out.push_back(box[i].is_number() ? Json(box[i].get<double>() + shift) : box[i]);
  }
  return out;
}

}  // namespace

Json ExtractInput(std::string_view collection_id, const store::StoredObject& object) {
  return {{"collection_id", collection_id},
          {"bucket_id", object.bucket_id},
          {"key", object.key},
          {"object_id", object.id}};
}

Result<std::vector<store::Document>> BuildDocuments(const store::Collection& collection,
                                                    const DocumentSource& source,
                                                    const std::vector<ExtractorAnswer>& answers,
                                                    const std::function<std::string()>& new_id) {
  const Json view = PassthroughView(source);
  auto base = [&](std::string unit) {
    store::Document d;
    d.id = new_id();
    d.collection_id = collection.id;
    d.namespace_id = collection.namespace_id;
    d.unit = std::move(unit);
    d.object_id = source.object.id;
    d.parent_id = source.parent != nullptr ? source.parent->id : "";
    d.tier = source.parent != nullptr ? source.parent->tier + 1 : 1;
    return d;
  };
  store::Document whole = base("");
  whole.payload["key"] = source.object.key;
  whole.payload["media_type"] = source.object.media_type;
  std::vector<store::Document> regions;
  for (const ExtractorAnswer& a : answers) {
    whole.versions[a.name] = a.version;
    const bool region = a.target.details.value("granularity", "object") == "region";
    if (!region) {
      Json unit = a.output;
      ARGUS_RETURN_IF_ERROR(TakeVectors(a, unit, whole));
      TakeText(a, unit, whole.text);
      whole.payload[a.name] = std::move(unit);
      continue;
    }
    const std::string field = a.target.details.value("regions_field", "");
    const Json items = a.output.value(field, Json::array());
    std::set<std::string> labels;
    for (size_t i = 0; i < items.size(); ++i) {
      store::Document d = base(a.name + "/" + std::to_string(i));
      d.versions[a.name] = a.version;
      Json unit = items[i];
      ARGUS_RETURN_IF_ERROR(TakeVectors(a, unit, d));
      TakeText(a, unit, d.text);
      if (unit.contains("box")) {
        d.region = {{"box", MovedBox(unit["box"], source)}};
        unit.erase("box");
      }
      if (unit.contains("label") && unit["label"].is_string()) labels.insert(unit["label"]);
      d.payload = std::move(unit);
      d.payload["extractor"] = a.name;
      ApplyPassthrough(collection, view, d);
      regions.push_back(std::move(d));
    }
    Json summary = {{"count", items.size()}};
    if (!labels.empty()) {
      summary["labels"] = Json(std::vector<std::string>(labels.begin(), labels.end()));
      AppendText(whole.text, summary["labels"]);  // "person" finds the photo too
    }
    whole.payload[a.name] = std::move(summary);
  }
  ApplyPassthrough(collection, view, whole);
  std::vector<store::Document> out;
  out.reserve(regions.size() + 1);
  out.push_back(std::move(whole));
  for (auto& r : regions) out.push_back(std::move(r));
  return out;
}

}  // namespace argus::domain
