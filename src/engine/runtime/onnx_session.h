// One ONNX Runtime session: a model file loaded once, run on float tensors. The only place that
// includes ONNX Runtime's headers; its exceptions stop here and become Status.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "engine/runtime/tensor.h"

namespace argus::engine {

struct OnnxSessionOptions {
  int intra_op_threads = 1;  ///< threads inside one Run
};

/// A tensor the model declares: -1 for a symbolic dimension (e.g. the batch).
struct OnnxTensorInfo {
  std::string name;
  std::vector<int64_t> shape;
  /// "float32", "int64", "int32" or "other". Integer inputs (token ids, masks) are handed to Run
  /// as floats holding whole numbers and converted on the way in.
  std::string dtype = "float32";
};

/// Thread-safe: ONNX Runtime allows concurrent Run calls on one session (the batcher still gives
/// each worker its own session so runs do not contend).
class OnnxSession {
 public:
  /// InvalidArgument when the file is not a model ONNX Runtime can load (the message says why).
  static Result<std::unique_ptr<OnnxSession>> Load(const std::string& path,
                                                   const OnnxSessionOptions& options);
  ~OnnxSession();

  const std::vector<OnnxTensorInfo>& inputs() const { return inputs_; }
  const std::vector<OnnxTensorInfo>& outputs() const { return outputs_; }
  /// True when every input and output has a symbolic first dimension.
  bool batchable() const;

  /// One tensor per input, in the model's input order (converted to int64/int32 where the model
  /// declares integer inputs; InvalidArgument for a value that is not a whole number there);
  /// returns every output, integer and bool outputs as floats. InvalidArgument for a wrong count or
  /// shape; Internal for a runtime failure.
  Result<std::vector<Tensor>> Run(const std::vector<Tensor>& inputs);

  /// "1.30.0": the library actually loaded.
  static std::string RuntimeVersion();

 private:
  struct Impl;
  explicit OnnxSession(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  std::vector<OnnxTensorInfo> inputs_;
  std::vector<OnnxTensorInfo> outputs_;
};

}  // namespace argus::engine
