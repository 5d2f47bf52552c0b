#include "engine/extractors/ocr/tesseract_engine.h"

#include <tesseract/baseapi.h>
#include <tesseract/resultiterator.h>

#include <memory>
#include <mutex>
#include <opencv2/imgproc.hpp>

namespace argus::engine {
namespace {

// Initialised engines kept for reuse (Init reads the language model: ~100 ms).
class EnginePool {
 public:
  Result<std::unique_ptr<tesseract::TessBaseAPI>> Take() {
    {
      std::lock_guard lock(mu_);
      if (!idle_.empty()) {
        auto api = std::move(idle_.back());
        idle_.pop_back();
        return api;
      }
    }
    auto api = std::make_unique<tesseract::TessBaseAPI>();
    if (api->Init(nullptr, "eng", tesseract::OEM_LSTM_ONLY) != 0) {
      return UnavailableError("Tesseract cannot load its English data (tesseract-ocr-eng)");
    }
    api->SetPageSegMode(tesseract::PSM_AUTO);
    return api;
  }
  void Give(std::unique_ptr<tesseract::TessBaseAPI> api) {
    api->Clear();
    std::lock_guard lock(mu_);
    if (idle_.size() < 4) idle_.push_back(std::move(api));
  }

 private:
  std::mutex mu_;
  std::vector<std::unique_ptr<tesseract::TessBaseAPI>> idle_;
};

EnginePool& Pool() {
  static EnginePool pool;
  return pool;
}

}  // namespace

std::string TesseractVersion() { return tesseract::TessBaseAPI::Version(); }

Result<std::vector<TesseractLine>> TesseractLines(const cv::Mat& bgr) {
  cv::Mat gray;
  cv::cvtColor(bgr, gray, cv::COLOR_BGR2GRAY);
  ARGUS_ASSIGN_OR_RETURN(auto api, Pool().Take());
  api->SetImage(gray.data, gray.cols, gray.rows, 1, static_cast<int>(gray.step));
  std::vector<TesseractLine> lines;
  if (api->Recognize(nullptr) != 0) {
    Pool().Give(std::move(api));
    return InternalError("Tesseract could not recognise the image");
  }
  std::unique_ptr<tesseract::ResultIterator> it(api->GetIterator());
  if (it != nullptr) {
    do {
      std::unique_ptr<char[]> text(it->GetUTF8Text(tesseract::RIL_TEXTLINE));
      if (text == nullptr) continue;
      TesseractLine line;
      line.text = text.get();
      while (!line.text.empty() && (line.text.back() == '\n' || line.text.back() == ' ')) {
        line.text.pop_back();
      }
      if (line.text.empty()) continue;
      line.confidence = it->Confidence(tesseract::RIL_TEXTLINE) / 100.0f;
      int x1, y1, x2, y2;
      if (it->BoundingBox(tesseract::RIL_TEXTLINE, &x1, &y1, &x2, &y2)) {
        line.box = cv::Rect(cv::Point(x1, y1), cv::Point(x2, y2));
      }
      lines.push_back(std::move(line));
    } while (it->Next(tesseract::RIL_TEXTLINE));
  }
  Pool().Give(std::move(api));
  return lines;
}

}  // namespace argus::engine
