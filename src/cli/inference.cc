#include "cli/inference.h"

#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "cli/table.h"
#include "fmt/format.h"

namespace argus::cli {
namespace {

// The whole image in memory (inference bodies are small: the server caps them).
class BytesSource final : public BodySource {
 public:
  explicit BytesSource(std::string bytes) : bytes_(std::move(bytes)) {}
  int64_t size() const override { return static_cast<int64_t>(bytes_.size()); }
  Result<size_t> Read(char* out, size_t max) override {
    size_t n = std::min(max, bytes_.size() - at_);
    std::memcpy(out, bytes_.data() + at_, n);
    at_ += n;
    return n;
  }
  Status Rewind() override {
    at_ = 0;
    return OkStatus();
  }

 private:
  std::string bytes_;
  size_t at_ = 0;
};

std::string Box(const Json& box) {
  if (!box.is_array() || box.size() != 4) return "-";
  return fmt::format("[{:.0f}, {:.0f}, {:.0f}, {:.0f}]", box[0].get<double>(), box[1].get<double>(),
                     box[2].get<double>(), box[3].get<double>());
}

}  // namespace

Result<Json> Infer(HttpClient& http, const std::string& name, const std::string& file,
                   const std::vector<std::string>& params, const std::string& text) {
  std::string bytes;
  if (!text.empty()) {
    bytes = text;
  } else if (file == "-") {
    bytes.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else {
    std::ifstream in(file, std::ios::binary);
    if (!in) return NotFoundError("cannot read " + file);
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  std::string path = "/v1/inference/" + UrlEncode(name);
  char sep = '?';
  for (const auto& p : params) {
    size_t eq = p.find('=');
    if (eq == std::string::npos || eq == 0) {
      return InvalidArgumentError("parameter '" + p + "' must be key=value");
    }
    path += sep;
    path += UrlEncode(p.substr(0, eq));
    path += '=';
    path += UrlEncode(p.substr(eq + 1));
    sep = '&';
  }
  BytesSource body(std::move(bytes));
  return http.Send("POST", path, body,
                   {text.empty() ? "Content-Type: application/octet-stream"
                                 : "Content-Type: text/plain; charset=utf-8"});
}

std::string FormatInference(const Json& answer) {
  std::ostringstream out;
  if (answer.contains("detections") || answer.contains("faces")) {
    const bool faces = answer.contains("faces");
    Table t(faces ? std::vector<std::string>{"score", "box"}
                  : std::vector<std::string>{"label", "score", "box"});
    for (const auto& d : answer[faces ? "faces" : "detections"]) {
      std::string score = fmt::format("{:.2f}", d.value("score", 0.0));
      if (faces) {
        t.AddRow({score, Box(d["box"])});
      } else {
        t.AddRow({d.value("label", "?"), score, Box(d["box"])});
      }
    }
    out << t.Render();
  } else if (answer.contains("embedding")) {
    out << answer["embedding"].size() << "-d embedding (L2-normalised); first values:";
    for (size_t i = 0; i < 5 && i < answer["embedding"].size(); ++i) {
      out << fmt::format(" {:.4f}", answer["embedding"][i].get<double>());
    }
    out << "\n";
  } else {
    out << answer.dump(2) << "\n";
  }
  out << "model: " << answer.value("model", "?") << "\n";
  return out.str();
}

}  // namespace argus::cli
