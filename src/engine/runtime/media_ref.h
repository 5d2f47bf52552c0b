// What an extractor works on: a media item by reference, not a decoded image.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"
#include "engine/image/image_decode.h"

namespace argus::engine {

/// A media item: which blob it is (SHA-256, media type, size) with lazy access to its bytes and
/// to its decoded image, each made once and shared by every extractor that runs on the item (a
/// chain of extractors decodes an image once). Video frames and audio samples join the same way.
///
/// Cheap to copy (copies share the item). Thread-safe: the first caller loads or decodes, the
/// others wait for and share the result (an error included).
class MediaRef {
 public:
  /// Reads the item's bytes (from the blob store), called at most once.
  using Loader = std::function<Result<std::string>()>;

  /// An item whose bytes `load` reads when first needed. `sha256`, `media_type` and `size` are
  /// what the caller knows of it ("" / -1 when unknown).
  MediaRef(std::string sha256, std::string media_type, int64_t size, Loader load,
           DecodeLimits limits = {});
  /// An item already in memory (a body sent for real-time inference, a test).
  static MediaRef FromBytes(std::string bytes, DecodeLimits limits = {},
                            std::string media_type = "");

  /// An image already decoded (a region cropped from a decoded item): Image() is `image`, and
  /// Bytes() encode it as PNG when first asked.
  static MediaRef FromImage(std::shared_ptr<const DecodedImage> image);

  /// The blob's SHA-256 (hex), computed from the bytes when it was not given.
  Result<std::string> Sha256() const;
  const std::string& media_type() const;
  /// The size in bytes: as given, else from the bytes once they are loaded (-1 before).
  int64_t size() const;

  /// The encoded bytes.
  Result<std::string_view> Bytes() const;
  /// The image, decoded upright within the limits. InvalidArgument for media that is no image
  /// or over the limits (DecodeImage).
  Result<std::shared_ptr<const DecodedImage>> Image() const;

 private:
  struct State;
  explicit MediaRef(std::shared_ptr<State> state) : state_(std::move(state)) {}
  std::shared_ptr<State> state_;
};

}  // namespace argus::engine
