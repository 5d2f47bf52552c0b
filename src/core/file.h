// Small durable-file helpers shared by the stores and the composition root.
#pragma once

#include <string>

#include "core/status.h"

namespace argus {

/// Writes `content` to `path` atomically: a temporary file beside it, fsync, rename over `path`,
/// fsync of the directory. A crash leaves the old file or the new one, never a mix.
Status WriteFileAtomic(const std::string& path, const std::string& content, int mode = 0644);

/// fsyncs a file or a directory (after a rename into it). Internal with errno's text on failure.
Status SyncPath(const std::string& path);

}  // namespace argus
