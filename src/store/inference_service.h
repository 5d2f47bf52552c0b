// The contract between whoever needs a model's answer right now (the API's real-time endpoint,
// the retriever embedding a query) and whoever runs models (engine/runtime in `argus serve`;
// inference workers over HTTP when split). Callers hand over media bytes and parameters and get
// JSON back: decoding, preprocessing and batching stay on the runtime's side. See ADR 0004.
#pragma once

#include <array>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/result.h"

namespace argus::store {

/// What a model or an extractor is, as /v1/models and /v1/extractors list it.
struct InferenceTarget {
  std::string name;     ///< "object_detection", "centernet", ...
  std::string version;  ///< name@version is what answers carry as "model"
  std::string kind;     ///< "extractor" or "model"
  std::string task;     ///< "object_detection", "image_embedding", ...
  /// "ready", "loading", "failed" (with `error`), "missing" (manifest entry without a file).
  std::string state;
  std::string error;
  Json params_schema = Json::object();  ///< JSON Schema of the parameters
  Json output_schema = Json::object();  ///< JSON Schema of the answer
  Json details = Json::object();        ///< manifest entry, latency figures, licence
};

struct InferenceRequest {
  std::string name;   ///< an extractor or a model of the manifest
  std::string media;  ///< the encoded bytes (JPEG, PNG, ...), or a text model's UTF-8 text
  /// Media by reference, when `media` is empty: the blob store's bytes of this SHA-256, read by
  /// the service (NotFound when it has no such blob).
  std::string blob_sha256;
  /// The media's type when the caller knows it (an object's sniffed type); "" to have the
  /// service sniff `media`. An extractor refuses a type it does not read (InvalidArgument).
  std::string media_type;
  Json params = Json::object();
  /// Regions of the (upright) image to run an extractor on instead of the whole image, as
  /// [x1, y1, x2, y2] in pixels (clamped to the image): the image is decoded once and the answer
  /// is {"crops": [the extractor's answer for each region, its boxes in the crop's pixels],
  /// "extractor"}. InvalidArgument for a region with nothing of the image in it. Extractors only.
  std::vector<std::array<double, 4>> crops;
  /// The request fails with DeadlineExceeded when it cannot be answered by then.
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
};

/// Runs models. Thread-safe; calls may block for the inference itself (callers run them off
/// latency-critical threads). Errors: NotFound for an unknown name; InvalidArgument for media
/// that cannot be decoded or parameters out of range (the message says which);
/// ResourceExhausted when the model's queue is full (retry after a moment); DeadlineExceeded;
/// Unavailable while the model is loading or when it failed to load.
class InferenceService {
 public:
  virtual ~InferenceService() = default;

  /// Every extractor and model this service knows, loaded or not.
  virtual std::vector<InferenceTarget> Targets() const = 0;
  /// Checks `params` for the extractor `name` as Infer would (its parameter schema, then its own
  /// validator) without running it: a collection's definition is checked when it is saved.
  /// NotFound for an unknown extractor; InvalidArgument naming the parameter.
  virtual Status ValidateParams(std::string_view name, const Json& params) const = 0;
  /// The answer of `request.name` for the media, as JSON following its output_schema, with
  /// "model": "name@version".
  virtual Result<Json> Infer(const InferenceRequest& request) = 0;
  /// The same, answered on the service's own threads: `done` is called exactly once, possibly
  /// before InferAsync returns (e.g. ResourceExhausted when its queue is full).
  virtual void InferAsync(InferenceRequest request, std::function<void(Result<Json>)> done) = 0;
  /// True once every model that loads has finished warming up (for /readyz).
  virtual bool Warm() const = 0;
};

}  // namespace argus::store
