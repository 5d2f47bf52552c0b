// Path helpers shared by FolderSource and FolderWatch; internal to src/store/localfs.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/str_cat.h"

namespace argus::store::localfs {

/// `dir` + "/" + `name`, without doubling the slash when `dir` is "/".
std::string JoinPath(std::string_view dir, std::string_view name);

/// Whether canonical `path` is `root` or below it, on path-component boundaries: "/data/x" is
/// below "/data", "/data2" is not.
bool IsAtOrBelow(std::string_view path, std::string_view root);
bool IsAtOrBelowAny(std::string_view path, const std::vector<std::string>& roots);

/// A name that a listing leaves out: it starts with '.'.
inline bool IsHiddenName(std::string_view name) { return !name.empty() && name.front() == '.'; }

/// realpath(3): the canonical absolute path. NotFound for ENOENT/ENOTDIR, PermissionDenied for
/// EACCES, Internal otherwise; the message names `path` and the errno text.
Result<std::string> RealPath(const std::string& path);

}  // namespace argus::store::localfs
