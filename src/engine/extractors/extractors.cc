#include "engine/extractors/extractors.h"

namespace argus::engine {

std::vector<ExtractorFactory> BuiltinExtractors() {
  return {&NewObjectDetectionExtractor,
          &NewImageEmbeddingExtractor,
          &NewModerationExtractor,
          &NewImagePropertiesExtractor,
          &NewFaceDetectionExtractor,
          &NewFaceEmbeddingExtractor,
          &NewOcrExtractor,
          &NewThumbnailExtractor};
}

}  // namespace argus::engine
