// The peer of bench/inference: what one process gets from the same model and image with nothing
// in between. Decode (OpenCV) + preprocess + ONNX Runtime Run, one image at a time, in a loop.
//   argus_bench_inference_raw MODEL.onnx IMAGE SIZE SCALE SECONDS THREADS
// prints "images_per_s=<x> ms_per_image=<y>".
#include <onnxruntime_cxx_api.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 7 && argc != 8) {
    std::fprintf(stderr, "usage: %s MODEL IMAGE SIZE SCALE SECONDS THREADS [BLUR]\n", argv[0]);
    return 2;
  }
  const int size = std::stoi(argv[3]);
  const float scale = std::stof(argv[4]);
  const double seconds = std::stod(argv[5]);
  const double blur = argc > 7 ? std::stod(argv[7]) : 0.0;  // the extractor's low-pass, if any
  std::ifstream in(argv[2], std::ios::binary);
  std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)),
                                   std::istreambuf_iterator<char>());
  try {
    Ort::Env env(ORT_LOGGING_LEVEL_ERROR, "raw");
    Ort::SessionOptions options;
    options.SetIntraOpNumThreads(std::stoi(argv[6]));
    options.SetGraphOptimizationLevel(GraphOptimizationLevel::ORT_ENABLE_ALL);
    Ort::Session session(env, argv[1], options);
    Ort::AllocatorWithDefaultOptions alloc;
    auto in_name = session.GetInputNameAllocated(0, alloc);
    std::vector<Ort::AllocatedStringPtr> out_names;
    std::vector<const char*> outs;
    for (size_t i = 0; i < session.GetOutputCount(); ++i) {
      out_names.push_back(session.GetOutputNameAllocated(i, alloc));
      outs.push_back(out_names.back().get());
    }
    const char* ins[] = {in_name.get()};
    auto memory = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
    std::vector<int64_t> shape = {1, size, size, 3};
    auto once = [&] {
      cv::Mat img = cv::imdecode(bytes, cv::IMREAD_COLOR), resized, rgb, input;
      cv::resize(img, resized, cv::Size(size, size), 0, 0, cv::INTER_AREA);
      if (blur > 0) cv::GaussianBlur(resized, resized, cv::Size(0, 0), blur, blur);
      cv::cvtColor(resized, rgb, cv::COLOR_BGR2RGB);
      rgb.convertTo(input, CV_32FC3, scale);
      auto tensor = Ort::Value::CreateTensor<float>(memory, input.ptr<float>(),
                                                    static_cast<size_t>(size) * size * 3,
                                                    shape.data(), shape.size());
      return session.Run(Ort::RunOptions{nullptr}, ins, &tensor, 1, outs.data(), outs.size());
    };
    for (int i = 0; i < 3; ++i) once();  // warm-up
    auto start = std::chrono::steady_clock::now();
    int n = 0;
    double elapsed = 0;
    while (elapsed < seconds) {
      once();
      ++n;
      elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
    std::printf("images_per_s=%.1f ms_per_image=%.2f\n", n / elapsed, 1000 * elapsed / n);
  } catch (const Ort::Exception& e) {
    std::fprintf(stderr, "raw loop: %s\n", e.what());
    return 1;
  }
  return 0;
}
