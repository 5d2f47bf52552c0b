#include "engine/runtime/onnx_session.h"

#include <onnxruntime_cxx_api.h>

#include <cmath>

namespace argus::engine {
namespace {

// One environment per process (ONNX Runtime's logging and global thread state).
Ort::Env& Environment() {
  static Ort::Env env(ORT_LOGGING_LEVEL_ERROR, "argus");
  return env;
}

std::vector<OnnxTensorInfo> Describe(Ort::Session& s, bool inputs) {
  std::vector<OnnxTensorInfo> out;
  Ort::AllocatorWithDefaultOptions alloc;
  size_t n = inputs ? s.GetInputCount() : s.GetOutputCount();
  for (size_t i = 0; i < n; ++i) {
    OnnxTensorInfo info;
    auto name = inputs ? s.GetInputNameAllocated(i, alloc) : s.GetOutputNameAllocated(i, alloc);
    info.name = name.get();
    auto type = inputs ? s.GetInputTypeInfo(i) : s.GetOutputTypeInfo(i);
    if (type.GetONNXType() == ONNX_TYPE_TENSOR) {
      auto t = type.GetTensorTypeAndShapeInfo();
      info.shape = t.GetShape();
      switch (t.GetElementType()) {
        case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT:
          info.dtype = "float32";
          break;
        case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64:
          info.dtype = "int64";
          break;
        case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32:
          info.dtype = "int32";
          break;
        default:
          info.dtype = "other";
      }
    } else {
      info.dtype = "other";
    }
    out.push_back(std::move(info));
  }
  return out;
}

template <typename T>
void CopyAsFloats(const Ort::Value& value, size_t n, std::vector<float>* out) {
  const T* data = value.GetTensorData<T>();
  out->assign(data, data + n);
}

}  // namespace

struct OnnxSession::Impl {
  Ort::Session session{nullptr};
  std::vector<std::string> input_names, output_names;
  std::vector<const char*> input_ptrs, output_ptrs;
  Ort::MemoryInfo memory = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
};

OnnxSession::OnnxSession(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
OnnxSession::~OnnxSession() = default;

std::string OnnxSession::RuntimeVersion() { return Ort::GetVersionString(); }

Result<std::unique_ptr<OnnxSession>> OnnxSession::Load(const std::string& path,
                                                       const OnnxSessionOptions& options) {
  try {
    auto impl = std::make_unique<Impl>();
    Ort::SessionOptions so;
    so.SetIntraOpNumThreads(std::max(1, options.intra_op_threads));
    so.SetInterOpNumThreads(1);
    so.SetGraphOptimizationLevel(GraphOptimizationLevel::ORT_ENABLE_ALL);
    impl->session = Ort::Session(Environment(), path.c_str(), so);
    std::unique_ptr<OnnxSession> s(new OnnxSession(std::move(impl)));
    s->inputs_ = Describe(s->impl_->session, true);
    s->outputs_ = Describe(s->impl_->session, false);
    for (const auto& i : s->inputs_) s->impl_->input_names.push_back(i.name);
    for (const auto& o : s->outputs_) s->impl_->output_names.push_back(o.name);
    for (const auto& n : s->impl_->input_names) s->impl_->input_ptrs.push_back(n.c_str());
    for (const auto& n : s->impl_->output_names) s->impl_->output_ptrs.push_back(n.c_str());
    return s;
  } catch (const Ort::Exception& e) {
    return InvalidArgumentError("cannot load model " + path + ": " + e.what());
  }
}

bool OnnxSession::batchable() const {
  for (const auto* list : {&inputs_, &outputs_}) {
    for (const auto& t : *list) {
      if (t.shape.empty() || t.shape[0] >= 0) return false;
    }
  }
  return true;
}

Result<std::vector<Tensor>> OnnxSession::Run(const std::vector<Tensor>& inputs) {
  if (inputs.size() != inputs_.size()) {
    return InvalidArgumentError("the model takes " + std::to_string(inputs_.size()) +
                                " inputs, not " + std::to_string(inputs.size()));
  }
  try {
    std::vector<Ort::Value> values;
    values.reserve(inputs.size());
    // Integer copies of integer inputs, alive until Run returns.
    std::vector<std::vector<int64_t>> int64s(inputs.size());
    std::vector<std::vector<int32_t>> int32s(inputs.size());
    for (size_t i = 0; i < inputs.size(); ++i) {
      const Tensor& t = inputs[i];
      const auto& declared = inputs_[i].shape;
      bool fits =
          declared.size() == t.shape.size() && static_cast<int64_t>(t.data.size()) == t.elements();
      for (size_t d = 0; fits && d < declared.size(); ++d) {
        fits = declared[d] < 0 || declared[d] == t.shape[d];
      }
      if (!fits) return InvalidArgumentError("input '" + inputs_[i].name + "' has the wrong shape");
      const std::string& dtype = inputs_[i].dtype;
      if (dtype == "int64" || dtype == "int32") {
        for (float v : t.data) {
          if (!std::isfinite(v) || v != std::nearbyint(v) || std::fabs(v) > 2147483647.0f) {
            return InvalidArgumentError("input '" + inputs_[i].name +
                                        "' takes whole numbers, not " + std::to_string(v));
          }
        }
      }
      if (dtype == "int64") {
        int64s[i].assign(t.data.begin(), t.data.end());
        values.push_back(Ort::Value::CreateTensor<int64_t>(
            impl_->memory, int64s[i].data(), int64s[i].size(), t.shape.data(), t.shape.size()));
      } else if (dtype == "int32") {
        int32s[i].assign(t.data.begin(), t.data.end());
        values.push_back(Ort::Value::CreateTensor<int32_t>(
            impl_->memory, int32s[i].data(), int32s[i].size(), t.shape.data(), t.shape.size()));
      } else if (dtype == "float32") {
        values.push_back(
            Ort::Value::CreateTensor<float>(impl_->memory, const_cast<float*>(t.data.data()),
                                            t.data.size(), t.shape.data(), t.shape.size()));
      } else {
        return InvalidArgumentError("input '" + inputs_[i].name +
                                    "' is neither float32, int64 nor int32");
      }
    }
    auto outs =
        impl_->session.Run(Ort::RunOptions{nullptr}, impl_->input_ptrs.data(), values.data(),
                           values.size(), impl_->output_ptrs.data(), impl_->output_ptrs.size());
    std::vector<Tensor> result;
    result.reserve(outs.size());
    for (size_t i = 0; i < outs.size(); ++i) {
      auto info = outs[i].GetTensorTypeAndShapeInfo();
      Tensor t;
      t.shape = info.GetShape();
      const size_t n = info.GetElementCount();
      switch (info.GetElementType()) {  // integer outputs (class ids) become floats
        case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT:
          CopyAsFloats<float>(outs[i], n, &t.data);
          break;
        case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64:
          CopyAsFloats<int64_t>(outs[i], n, &t.data);
          break;
        case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32:
          CopyAsFloats<int32_t>(outs[i], n, &t.data);
          break;
        case ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL:
          CopyAsFloats<bool>(outs[i], n, &t.data);
          break;
        default:
          return InternalError("output '" + impl_->output_names[i] +
                               "' is neither float, int64, int32 nor bool");
      }
      result.push_back(std::move(t));
    }
    return result;
  } catch (const Ort::Exception& e) {
    return InternalError(std::string("the model failed to run: ") + e.what());
  }
}

}  // namespace argus::engine
