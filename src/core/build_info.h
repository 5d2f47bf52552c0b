#pragma once

#include <string_view>

namespace argus {

/// What this binary is: the project version, the git commit it was built from (or "unknown"),
/// and the compiler. Filled in by CMake at configure time.
struct BuildInfo {
  std::string_view version;
  std::string_view commit;
  std::string_view compiler;
};

const BuildInfo& GetBuildInfo();

}  // namespace argus
