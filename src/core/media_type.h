#pragma once

#include <string>
#include <string_view>

namespace argus {

/// How SniffMediaType decides (ADR 0011).
struct SniffOptions {
  /// Binary content that starts with none of the signatures Argus knows is asked of libmagic too
  /// (0.3-0.4 ms of CPU, to find a rare format or, mostly, "application/octet-stream") instead of
  /// being "application/octet-stream" at once.
  bool libmagic_for_unknown_binary = false;
};

/// The media type of content, sniffed from its first bytes ("image/jpeg", "video/mp4",
/// "application/pdf", "text/plain"; "application/octet-stream" when unknown or empty). Never
/// trusts a name or a client's Content-Type. A table of exact signatures answers for the common
/// media (the same types libmagic names); libmagic decides for text and for the formats whose
/// signature needs a deeper look (containers such as ZIP, MP4 or Ogg, fonts, executables); other
/// binary content is "application/octet-stream" (see SniffOptions). Thread-safe (a libmagic
/// handle per thread).
std::string SniffMediaType(std::string_view head, const SniffOptions& options = {});

/// What libmagic alone says of `head` (as SniffMediaType does when it asks): for tests and tools.
std::string LibmagicMediaType(std::string_view head);

/// How many leading bytes SniffMediaType needs to see.
inline constexpr size_t kSniffBytes = 64 * 1024;

/// Whether `media_type` is allowed by `pattern`: equal, or a family "image/*", or "*/*".
bool MediaTypeMatches(std::string_view pattern, std::string_view media_type);

}  // namespace argus
