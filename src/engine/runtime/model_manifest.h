// The model directory's manifest.json (written by scripts/models.sh, extended by users with
// their own ONNX models): what each model is, where its file is, the SHA-256 it must have, its
// tensors and preprocessing.
#pragma once

#include <string>
#include <vector>

#include "core/json.h"
#include "core/result.h"
#include "engine/image/preprocess.h"

namespace argus::engine {

struct ModelTensorSpec {
  std::string name;
  std::vector<int64_t> shape;  ///< -1 for a symbolic dimension ("N" in the manifest)
  std::string dtype = "float32";
  std::string layout;  ///< "NHWC", "NCHW" or ""
};

struct ModelSpec {
  std::string name;     ///< unique in the manifest: [a-z0-9_]+
  std::string version;  ///< name@version is what answers carry
  std::string task;     ///< "object_detection", "image_embedding", ...
  std::string path;     ///< absolute path of the file
  std::string sha256;   ///< lowercase hex, checked at load
  bool batchable = false;
  std::vector<ModelTensorSpec> inputs;
  std::vector<ModelTensorSpec> outputs;
  Json preprocessing = Json::object();
  Json labels;  ///< array of names, or null
  std::string licence;
  Json entry;  ///< the manifest entry as written (for /v1/models)
};

struct ModelManifest {
  std::string dir;
  Json runtime = Json::object();
  std::vector<ModelSpec> models;
  /// Entries that could not be read, with the reason (each is reported as a failed model).
  std::vector<std::pair<std::string, std::string>> invalid;

  const ModelSpec* Find(std::string_view name) const;
};

/// Reads <dir>/manifest.json. NotFound when the file is missing; InvalidArgument when it is not
/// JSON or has no "models" array. A bad entry does not fail the whole manifest: it lands in
/// `invalid`.
Result<ModelManifest> LoadManifest(const std::string& dir);

/// The image input of a model: its "preprocessing" entry (size [w, h], color "RGB"/"BGR",
/// scale, mean and std as a number or three, blur_sigma) and its first input's layout and shape.
/// InvalidArgument when the model has no 4-D image input.
Result<ImagePreprocessing> ImageInputOf(const ModelSpec& spec);

/// The file's SHA-256 equals spec.sha256; FailedPrecondition naming both digests otherwise,
/// NotFound when the file is missing.
Status VerifyModelFile(const ModelSpec& spec);

}  // namespace argus::engine
