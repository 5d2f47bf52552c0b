// A place files are read from to become objects: a folder on the server, a prefix of an S3
// bucket. Syncs (engine/syncs) list a source page by page and read the files that are new.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/json.h"
#include "core/registry.h"
#include "core/result.h"

namespace argus::store {

/// One file of a source.
struct SourceEntry {
  std::string path;  ///< relative to the source root, '/'-separated, no leading '/'
  int64_t size = 0;
  /// Changes whenever the content may have changed: "<size>-<mtime ns>-<inode>" for a folder,
  /// the ETag for S3.
  std::string version;
  TimestampUs modified_at = 0;
};

/// Something found while listing that is not offered as an entry, and why.
struct SourceSkip {
  std::string path;
  std::string reason;  ///< "a symlink leading outside the allowed roots", ...
};

struct SourcePage {
  std::vector<SourceEntry> entries;  ///< bytewise path order, all greater than the cursor
  std::vector<SourceSkip> skipped;
  std::string next_cursor;  ///< pass it to the next List; "" when the listing is complete
};

/// Reads one file from the start. Not thread-safe.
class SourceReader {
 public:
  virtual ~SourceReader() = default;
  /// Up to `n` bytes into `buf`; 0 at the end. FailedPrecondition when the file changed while
  /// being read (its version is no longer the listed one).
  virtual Result<size_t> Read(char* buf, size_t n) = 0;
};

/// An open watch: while it lives, the source calls back when files may have changed. Destroying
/// it stops the callbacks (none runs after the destructor returns).
class SourceWatch {
 public:
  virtual ~SourceWatch() = default;
};

/// A source of files. Implementations are thread-safe. Errors: Unavailable when the source
/// cannot be reached (retry later), PermissionDenied when it refuses access, NotFound when its
/// root is gone.
class ObjectSource {
 public:
  virtual ~ObjectSource() = default;

  /// Up to `limit` entries with paths greater than `cursor` ("" from the start), in bytewise
  /// path order. Hidden files (a path segment starting with '.') are not listed.
  virtual Result<SourcePage> List(std::string_view cursor, int limit) = 0;
  /// Opens `entry` as listed. FailedPrecondition when its version changed since (the caller
  /// lists again later); NotFound when it is gone.
  virtual Result<std::unique_ptr<SourceReader>> Open(const SourceEntry& entry) = 0;
  /// Starts watching for changes; `on_change` runs on another thread, possibly often (callers
  /// debounce). nullptr when the source cannot be watched: the caller polls.
  virtual Result<std::unique_ptr<SourceWatch>> Watch(std::function<void()> on_change) {
    (void)on_change;
    return std::unique_ptr<SourceWatch>();
  }
};

/// What a source factory gets: the source's settings as the user gave them ({"path": ...} or
/// {"endpoint", "bucket", ...}) and the operator's limits.
struct SourceArgs {
  Json config = Json::object();
  /// Folder sources: canonical directories a source may read below (syncs.allowed_roots).
  std::vector<std::string> allowed_roots;
  /// Network sources: may connect to loopback, private and link-local addresses.
  bool allow_private_endpoints = false;
  const Clock* clock = &SystemClock::Get();
};

struct SourceCapabilities {
  bool watchable = false;  ///< Watch can report changes (else the sync only polls)
  /// Settings that are secrets: stored, never returned by the API.
  std::vector<std::string> secret_fields;
  /// JSON Schema of the settings (the API validates them with it before the factory runs).
  Json config_schema = Json::object();
  /// What this host lacks that weakens the source, probed once when it is registered, one
  /// sentence each: `argus serve` logs them as warnings at start-up and `argus config print`
  /// lists them, so a weaker fallback is never silent. Empty: nothing to report.
  std::vector<std::string> host_warnings;
};

/// Factories keyed by source type ("folder", "s3"); a factory checks the settings
/// (InvalidArgument, or PermissionDenied for a folder outside the allowed roots) without
/// reaching the source.
using ObjectSourceRegistry = Registry<ObjectSource, SourceArgs, SourceCapabilities>;

}  // namespace argus::store
