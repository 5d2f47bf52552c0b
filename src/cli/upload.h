#pragma once

#include <string>
#include <vector>

#include "cli/http_client.h"

namespace argus::cli {

/// What `argus upload` was asked to do.
struct UploadOptions {
  std::vector<std::string> paths;  ///< files and directories (walked recursively)
  std::string bucket;
  std::string metadata;  ///< a JSON object given to every object, or empty
  std::string prefix;    ///< prepended as is to every key ("photos/" for a folder)
  int parallel = 4;      ///< uploads in flight at once
  bool json = false;     ///< print the summary as JSON on stdout
};

/// `argus upload`: streams every file under `options.paths` into the bucket, `parallel` at a
/// time, each checked by its sha256. A file whose key already holds the same bytes (and the same
/// metadata, when --metadata is given) is skipped, so a re-run resumes where one stopped.
/// Keys: the path relative to the directory given, with '/' separators; a file given by itself
/// is keyed by its name. Symbolic links to files are uploaded; those to directories are not
/// followed.
///
/// Prints failures as they happen and a progress line on a terminal's stderr (otherwise one
/// summary line at the end). Returns the exit code: 0 when every file was uploaded or skipped,
/// 1 when any failed, 2 for bad arguments.
int RunUpload(const ClientOptions& client, const UploadOptions& options);

}  // namespace argus::cli
