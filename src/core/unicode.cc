#include "core/unicode.h"

#include <utf8proc.h>

#include <cstdlib>

namespace argus {

Status NormalizeNfc(std::string_view text, std::string* out) {
  utf8proc_uint8_t* result = nullptr;
  utf8proc_ssize_t n =
      utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                   static_cast<utf8proc_ssize_t>(text.size()), &result,
                   static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  if (n < 0) {
    return InvalidArgumentError(std::string("not valid UTF-8: ") + utf8proc_errmsg(n));
  }
  out->assign(reinterpret_cast<const char*>(result), static_cast<size_t>(n));
  std::free(result);
  return OkStatus();
}

size_t CodePointCount(std::string_view utf8) {
  size_t n = 0;
  for (char c : utf8) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

}  // namespace argus
