#pragma once

#include <string>
#include <string_view>

namespace argus {

/// The media type of content, sniffed from its first bytes with libmagic ("image/jpeg",
/// "video/mp4", "application/pdf", "text/plain"; "application/octet-stream" when unknown or
/// empty). Never trusts a name or a client's Content-Type. Thread-safe (a libmagic handle per
/// thread).
std::string SniffMediaType(std::string_view head);

/// How many leading bytes SniffMediaType needs to see.
inline constexpr size_t kSniffBytes = 64 * 1024;

/// Whether `media_type` is allowed by `pattern`: equal, or a family "image/*", or "*/*".
bool MediaTypeMatches(std::string_view pattern, std::string_view media_type);

}  // namespace argus
