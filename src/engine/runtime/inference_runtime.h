#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/json_schema.h"
#include "engine/image/image_decode.h"
#include "engine/runtime/extractor.h"
#include "engine/runtime/model_pool.h"
#include "engine/runtime/model_tasks.h"
#include "store/blob_store.h"
#include "store/inference_service.h"

namespace argus::engine {

struct InferenceRuntimeOptions {
  DecodeLimits decode;
  /// Threads that decode, preprocess and wait for model runs: requests decoded and queued at a
  /// model at once. Few (two per core): an image decoded ahead only holds a large tensor in a
  /// queue, and many of them slow the runs down (cache); the rest wait undecoded.
  int request_threads = 4;
  int max_waiting = 256;  ///< requests queued for those threads; beyond: ResourceExhausted
  /// Of those, at most this many for one target (a model or an extractor): a flood of requests
  /// for a slow model cannot take every waiting place from the others.
  int max_waiting_per_target = 64;
  /// Where requests by blob reference are read from (not owned; null: such requests are
  /// Unavailable), and the largest blob read so.
  store::BlobStore* blobs = nullptr;
  int64_t max_blob_bytes = 64 << 20;
};

/// The in-process InferenceService of `argus serve`: extractors, and manifest models run by name
/// as their task says (model_tasks.h: a user's image or text embedder, detector), over a
/// ModelPool. A text model's request media is the UTF-8 text. `pool` may be null (no model
/// directory): every model-backed target is then unavailable. Thread-safe once extractors are
/// registered.
class InferenceRuntime final : public store::InferenceService {
 public:
  InferenceRuntime(std::unique_ptr<ModelPool> pool, InferenceRuntimeOptions options);
  ~InferenceRuntime() override;

  /// Before the first request. InvalidArgument when the parameter schema does not compile;
  /// AlreadyExists for a second extractor of the same name.
  Status Register(std::unique_ptr<Extractor> extractor);
  /// The request threads start; with `preload` the models load and warm up now (else on first
  /// use).
  void Start(bool preload);

  std::vector<store::InferenceTarget> Targets() const override;
  Status ValidateParams(std::string_view name, const Json& params) const override;
  Result<Json> Infer(const store::InferenceRequest& request) override;
  void InferAsync(store::InferenceRequest request, std::function<void(Result<Json>)> done) override;
  bool Warm() const override { return pool_ == nullptr || pool_->loaded(); }

  ModelPool* pool() { return pool_.get(); }

 private:
  struct Registered {
    std::unique_ptr<Extractor> extractor;
    JsonSchema params;
  };
  Result<Json> InferNoThrow(const store::InferenceRequest& request);
  /// The extractor on each of request.crops, the image decoded once.
  Result<Json> ExtractCrops(const Extractor& extractor, const MediaRef& media,
                            const store::InferenceRequest& request, ExtractContext& ctx) const;
  static constexpr size_t kMaxCrops = 1000;
  Result<Json> RunModel(const ModelSpec& spec, const store::InferenceRequest& request,
                        std::string_view media);
  /// The request's media: its bytes, or the blob it names.
  Result<std::string> ReadBlob(std::string_view sha256) const;
  std::string ModelsState(const ExtractorInfo& info, std::string* error) const;
  /// The tokenizer and input layout of a text model, read once its model is loaded (by the first
  /// request or listing after that); a failure is kept, like a model that failed to load.
  Result<std::shared_ptr<const TextInput>> TextInputFor(const ModelSpec& spec) const;

  std::unique_ptr<ModelPool> pool_;
  InferenceRuntimeOptions options_;
  std::map<std::string, Registered, std::less<>> extractors_;

  mutable std::mutex text_mu_;
  mutable std::map<std::string, Result<std::shared_ptr<const TextInput>>, std::less<>> text_inputs_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<store::InferenceRequest, std::function<void(Result<Json>)>>> waiting_;
  std::map<std::string, int> waiting_per_target_;  // GUARDED_BY(mu_)
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace argus::engine
