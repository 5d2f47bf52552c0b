#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

namespace argus {

/// Concatenates `pieces` into one string with a single allocation. Also the way around GCC 12's
/// false -Warray-bounds / -Wstringop-overflow warnings on `"a" + std::string(x) + "b"` chains.
inline std::string StrCat(std::initializer_list<std::string_view> pieces) {
  size_t size = 0;
  for (std::string_view piece : pieces) size += piece.size();
  std::string out;
  out.reserve(size);
  for (std::string_view piece : pieces) out.append(piece);
  return out;
}

}  // namespace argus
