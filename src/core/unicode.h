#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace argus {

/// `text` in Unicode Normalization Form C (utf8proc), into `out`. InvalidArgument when it is not
/// valid UTF-8. (An out-parameter: GCC 12 warns falsely on a Result<std::string> here.)
Status NormalizeNfc(std::string_view text, std::string* out);

/// The number of Unicode code points in `utf8`, which must be valid UTF-8 (as every string in
/// a parsed Json is): what JSON Schema's minLength/maxLength count. Continuation bytes are not
/// counted, so "é" (2 bytes) and "😀" (4 bytes) each count 1.
size_t CodePointCount(std::string_view utf8);

}  // namespace argus
