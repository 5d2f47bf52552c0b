#include "engine/runtime/extractor.h"

namespace argus::engine {

std::string_view GranularityName(Granularity g) {
  return g == Granularity::kRegion ? "region" : "object";
}

bool AcceptsMediaType(const std::vector<std::string>& accepted, std::string_view media_type) {
  if (media_type.empty()) return true;
  for (const std::string& a : accepted) {
    if (a == media_type) return true;
    if (a.size() > 2 && a.ends_with("/*") &&
        media_type.substr(0, a.size() - 1) == std::string_view(a).substr(0, a.size() - 1)) {
      return true;
    }
  }
  return false;
}

std::string ModelTag(const ModelPool& pool, std::string_view model) {
  const ModelSpec* spec = pool.Spec(model);
  std::string tag(model);
  if (spec != nullptr) tag.append("@").append(spec->version);
  return tag;
}

Status CheckExtractorInfo(const ExtractorInfo& info) {
  const std::string name = "extractor '" + info.name + "'";
  if (info.name.empty() || info.version.empty()) {
    return InvalidArgumentError(name + " needs a name and a version");
  }
  if (info.media_types.empty()) return InvalidArgumentError(name + " reads no media type");
  if (info.granularity == Granularity::kRegion && info.regions_field.empty()) {
    return InvalidArgumentError(name + " yields regions but names no regions_field");
  }
  for (const auto& v : info.vectors) {
    if (v.output.empty() || v.dimension <= 0) {
      return InvalidArgumentError(name + ": a vector output needs a field and a dimension");
    }
    if (v.metric != "cosine" && v.metric != "ip" && v.metric != "l2") {
      return InvalidArgumentError(name + ": vector '" + v.output + "' has metric '" + v.metric +
                                  "' (cosine, ip or l2)");
    }
  }
  return OkStatus();
}

}  // namespace argus::engine
