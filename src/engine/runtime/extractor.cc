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

}  // namespace argus::engine
