#include "engine/runtime/extractor.h"

namespace argus::engine {

std::string ModelTag(const ModelPool& pool, std::string_view model) {
  const ModelSpec* spec = pool.Spec(model);
  std::string tag(model);
  if (spec != nullptr) tag.append("@").append(spec->version);
  return tag;
}

}  // namespace argus::engine
