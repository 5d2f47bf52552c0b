#include "store/localfs/folder_paths.h"

#include <stdlib.h>

#include <cerrno>
#include <cstring>

#include "core/str_cat.h"

namespace argus::store::localfs {

std::string JoinPath(std::string_view dir, std::string_view name) {
  if (dir.ends_with('/')) return StrCat({dir, name});
  return StrCat({dir, "/", name});
}

bool IsAtOrBelow(std::string_view path, std::string_view root) {
  if (root == "/") return path.starts_with('/');
  return path.starts_with(root) && (path.size() == root.size() || path[root.size()] == '/');
}

bool IsAtOrBelowAny(std::string_view path, const std::vector<std::string>& roots) {
  for (const std::string& root : roots) {
    if (IsAtOrBelow(path, root)) return true;
  }
  return false;
}

Result<std::string> RealPath(const std::string& path) {
  char* resolved = ::realpath(path.c_str(), nullptr);
  if (resolved == nullptr) {
    int err = errno;
    std::string message = StrCat({"cannot resolve ", path, ": ", std::strerror(err)});
    if (err == ENOENT || err == ENOTDIR) return NotFoundError(std::move(message));
    if (err == EACCES) return PermissionDeniedError(std::move(message));
    return InternalError(std::move(message));
  }
  std::string out(resolved);
  ::free(resolved);
  return out;
}

}  // namespace argus::store::localfs
