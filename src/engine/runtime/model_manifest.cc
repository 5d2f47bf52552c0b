#include "engine/runtime/model_manifest.h"

#include <filesystem>
#include <fstream>
#include <regex>

#include "core/crypto.h"

namespace argus::engine {
namespace {

Result<ModelTensorSpec> TensorSpec(const Json& j) {
  if (!j.is_object() || !j.contains("name") || !j["name"].is_string()) {
    return InvalidArgumentError("a tensor needs a name");
  }
  ModelTensorSpec t;
  t.name = j["name"];
  for (const auto& d : j.value("shape", Json::array())) {
    t.shape.push_back(d.is_number_integer() ? d.get<int64_t>() : -1);
  }
  t.dtype = j.value("dtype", "float32");
  t.layout = j.value("layout", "");
  return t;
}

Result<ModelSpec> Spec(const Json& j, const std::string& dir) try {
  static const std::regex kName("[a-z0-9_]{1,64}");
  if (!j.is_object()) return InvalidArgumentError("an entry must be an object");
  ModelSpec m;
  m.entry = j;
  m.name = j.value("name", "");
  if (!std::regex_match(m.name, kName)) {
    return InvalidArgumentError("name must match [a-z0-9_]{1,64}");
  }
  m.version = j.value("version", "");
  m.task = j.value("task", "");
  std::string file = j.value("file", "");
  m.sha256 = j.value("sha256", "");
  if (m.version.empty() || m.task.empty() || file.empty() || m.sha256.size() != 64) {
    return InvalidArgumentError("version, task, file and sha256 (64 hex digits) are required");
  }
  if (std::filesystem::path(file).is_absolute() || file.find("..") != std::string::npos) {
    return InvalidArgumentError("file must be a path inside the model directory");
  }
  m.path = (std::filesystem::path(dir) / file).string();
  m.batchable = j.value("batchable", false);
  for (const char* side : {"inputs", "outputs"}) {
    for (const auto& t : j.value(side, Json::array())) {
      ARGUS_ASSIGN_OR_RETURN(auto spec, TensorSpec(t));
      (std::string(side) == "inputs" ? m.inputs : m.outputs).push_back(std::move(spec));
    }
  }
  m.preprocessing = j.value("preprocessing", Json::object());
  m.labels = j.value("labels", Json());
  m.licence = j.value("licence", j.value("license", ""));
  return m;
} catch (const Json::exception& e) {
  return InvalidArgumentError(std::string("a field has the wrong type: ") + e.what());
}

}  // namespace

const ModelSpec* ModelManifest::Find(std::string_view name) const {
  for (const auto& m : models) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

Result<ModelManifest> LoadManifest(const std::string& dir) {
  std::string path = (std::filesystem::path(dir) / "manifest.json").string();
  std::ifstream in(path);
  if (!in) return NotFoundError("no model manifest at " + path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto parsed = ParseJson(text);
  if (!parsed.ok() || !parsed->is_object() || !(*parsed)["models"].is_array()) {
    return InvalidArgumentError(path + " is not a manifest (a JSON object with \"models\")");
  }
  ModelManifest manifest;
  manifest.dir = dir;
  manifest.runtime = parsed->value("runtime", Json::object());
  for (const auto& entry : (*parsed)["models"]) {
    auto spec = Spec(entry, dir);
    std::string name = entry.is_object() && entry.contains("name") && entry["name"].is_string()
                           ? entry["name"].get<std::string>()
                           : "?";
    if (!spec.ok()) {
      manifest.invalid.emplace_back(name, std::string(spec.status().message()));
    } else if (manifest.Find(spec->name) != nullptr) {
      manifest.invalid.emplace_back(name, "the name appears twice in the manifest");
    } else {
      manifest.models.push_back(std::move(spec).value());
    }
  }
  return manifest;
}

Result<ImagePreprocessing> ImageInputOf(const ModelSpec& spec) try {
  if (spec.inputs.empty() || spec.inputs[0].shape.size() != 4) {
    return InvalidArgumentError("model '" + spec.name + "' has no 4-D image input");
  }
  const auto& in = spec.inputs[0];
  ImagePreprocessing p;
  p.nchw = in.layout == "NCHW" || (in.layout.empty() && in.shape[1] == 3 && in.shape[3] != 3);
  int64_t h = p.nchw ? in.shape[2] : in.shape[1], w = p.nchw ? in.shape[3] : in.shape[2];
  const Json& pre = spec.preprocessing;
  if (pre.contains("size") && pre["size"].is_array() && pre["size"].size() == 2) {
    w = pre["size"][0].get<int64_t>();
    h = pre["size"][1].get<int64_t>();
  }
  if (w <= 0 || h <= 0) {
    return InvalidArgumentError("model '" + spec.name + "' needs a preprocessing size");
  }
  p.width = static_cast<int>(w);
  p.height = static_cast<int>(h);
  p.rgb = pre.value("color", "RGB") != "BGR";
  p.scale = pre.value("scale", 1.0f);
  p.blur_sigma = pre.value("blur_sigma", 0.0f);
  auto three = [&](const char* key, std::array<float, 3>& out) {
    if (!pre.contains(key)) return;
    if (pre[key].is_number()) {
      out.fill(pre[key].get<float>());
    } else if (pre[key].is_array() && pre[key].size() == 3) {
      for (int c = 0; c < 3; ++c) out[c] = pre[key][c].get<float>();
    }
  };
  three("mean", p.mean);
  three("std", p.std);
  return p;
} catch (const Json::exception& e) {
  return InvalidArgumentError("model '" + spec.name +
                              "' has a malformed preprocessing entry: " + e.what());
}

Status VerifyModelFile(const ModelSpec& spec) {
  std::ifstream in(spec.path, std::ios::binary);
  if (!in) return NotFoundError("model file " + spec.path + " is missing");
  Sha256Hasher hasher;
  std::string buf(1 << 20, '\0');
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    hasher.Update(std::string_view(buf.data(), static_cast<size_t>(in.gcount())));
  }
  std::string actual = HexEncode(hasher.Finish());
  if (actual != spec.sha256) {
    return FailedPreconditionError("model file " + spec.path + " has SHA-256 " + actual +
                                   ", the manifest says " + spec.sha256);
  }
  return OkStatus();
}

}  // namespace argus::engine
