#include "core/media_type.h"

#include <magic.h>

#include <memory>

namespace argus {

namespace {

struct MagicCloser {
  void operator()(magic_t m) const {
    if (m != nullptr) magic_close(m);
  }
};
using Magic = std::unique_ptr<std::remove_pointer_t<magic_t>, MagicCloser>;

// One cookie per thread: libmagic handles are not thread-safe. Loaded once, from the system's
// compiled database (Debian's libmagic-mgc).
magic_t ThreadMagic() {
  thread_local Magic cookie = [] {
    Magic m(
        magic_open(MAGIC_MIME_TYPE | MAGIC_NO_CHECK_COMPRESS | MAGIC_NO_CHECK_ELF | MAGIC_ERROR));
    if (m && magic_load(m.get(), nullptr) != 0) m.reset();
    return m;
  }();
  return cookie.get();
}

}  // namespace

std::string SniffMediaType(std::string_view head) {
  constexpr std::string_view kUnknown = "application/octet-stream";
  if (head.empty()) return std::string(kUnknown);
  magic_t m = ThreadMagic();
  if (m == nullptr) return std::string(kUnknown);
  const char* type = magic_buffer(m, head.data(), head.size());
  if (type == nullptr) return std::string(kUnknown);
  std::string out(type);
  // libmagic says "application/x-empty" or "inode/x-empty" for nothing useful.
  if (out.empty() || out.find('/') == std::string::npos) return std::string(kUnknown);
  return out;
}

bool MediaTypeMatches(std::string_view pattern, std::string_view media_type) {
  if (pattern == "*/*" || pattern == media_type) return true;
  if (pattern.size() >= 2 && pattern.substr(pattern.size() - 2) == "/*") {
    std::string_view family = pattern.substr(0, pattern.size() - 1);  // "image/"
    return media_type.substr(0, family.size()) == family;
  }
  return false;
}

}  // namespace argus
