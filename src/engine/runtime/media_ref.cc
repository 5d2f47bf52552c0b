#include "engine/runtime/media_ref.h"

#include <mutex>
#include <opencv2/imgcodecs.hpp>
#include <optional>
#include <vector>

#include "core/crypto.h"

namespace argus::engine {

struct MediaRef::State {
  std::string sha256;
  std::string media_type;
  int64_t size = -1;
  Loader load;
  DecodeLimits limits;

  std::mutex mu;
  std::optional<Result<std::string>> bytes;                          // GUARDED_BY(mu)
  std::optional<Result<std::shared_ptr<const DecodedImage>>> image;  // GUARDED_BY(mu)

  // REQUIRES: mu held.
  const Result<std::string>& LoadLocked() {
    if (!bytes) {
      bytes.emplace(load ? load() : Result<std::string>(InternalError("media has no loader")));
      if (bytes->ok() && size < 0) size = static_cast<int64_t>((*bytes)->size());
    }
    return *bytes;
  }
};

MediaRef::MediaRef(std::string sha256, std::string media_type, int64_t size, Loader load,
                   DecodeLimits limits)
    : state_(std::make_shared<State>()) {
  state_->sha256 = std::move(sha256);
  state_->media_type = std::move(media_type);
  state_->size = size;
  state_->load = std::move(load);
  state_->limits = limits;
}

MediaRef MediaRef::FromBytes(std::string bytes, DecodeLimits limits, std::string media_type) {
  auto state = std::make_shared<State>();
  state->media_type = std::move(media_type);
  state->size = static_cast<int64_t>(bytes.size());
  state->limits = limits;
  state->bytes.emplace(std::move(bytes));
  return MediaRef(std::move(state));
}

MediaRef MediaRef::FromImage(std::shared_ptr<const DecodedImage> image) {
  auto state = std::make_shared<State>();
  state->media_type = "image/png";
  state->load = [image]() -> Result<std::string> {
    std::vector<uchar> png;
    try {
      if (!cv::imencode(".png", image->bgr, png)) return InternalError("cannot encode a crop");
    } catch (const cv::Exception& e) {
      return InternalError(std::string("cannot encode a crop: ") + e.what());
    }
    return std::string(png.begin(), png.end());
  };
  state->image.emplace(std::move(image));
  return MediaRef(std::move(state));
}

Result<std::string> MediaRef::Sha256() const {
  std::lock_guard lock(state_->mu);
  if (state_->sha256.empty()) {
    const Result<std::string>& bytes = state_->LoadLocked();
    if (!bytes.ok()) return bytes.status();
    state_->sha256 = HexEncode(argus::Sha256(*bytes));
  }
  return state_->sha256;
}

const std::string& MediaRef::media_type() const { return state_->media_type; }

int64_t MediaRef::size() const {
  std::lock_guard lock(state_->mu);
  return state_->size;
}

Result<std::string_view> MediaRef::Bytes() const {
  std::lock_guard lock(state_->mu);
  const Result<std::string>& bytes = state_->LoadLocked();
  if (!bytes.ok()) return bytes.status();
  return std::string_view(*bytes);  // stable: the state never replaces loaded bytes
}

Result<std::shared_ptr<const DecodedImage>> MediaRef::Image() const {
  std::lock_guard lock(state_->mu);
  if (!state_->image) {
    const Result<std::string>& bytes = state_->LoadLocked();
    if (!bytes.ok()) {
      state_->image.emplace(bytes.status());
    } else {
      auto decoded = DecodeImage(*bytes, state_->limits);
      if (decoded.ok()) {
        state_->image.emplace(std::make_shared<const DecodedImage>(std::move(decoded).value()));
      } else {
        state_->image.emplace(decoded.status());
      }
    }
  }
  return *state_->image;
}

}  // namespace argus::engine
