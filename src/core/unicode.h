#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace argus {

/// `text` in Unicode Normalization Form C (utf8proc), into `out`. InvalidArgument when it is not
/// valid UTF-8. (An out-parameter: GCC 12 warns falsely on a Result<std::string> here.)
Status NormalizeNfc(std::string_view text, std::string* out);

}  // namespace argus
