#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "core/json.h"
#include "core/result.h"
#include "store/object_source.h"
#include "store/s3/s3_client.h"

namespace argus::store::s3 {

/// The "s3" source: the objects under a prefix of an S3 bucket (AWS or S3-compatible), settings
/// {"endpoint", "region" = "us-east-1", "bucket", "prefix" = "", "access_key_id",
/// "secret_access_key", "path_style" = true}. A non-empty prefix is a folder: "photos" and
/// "photos/" both mean the keys under "photos/", and an entry's path is its key without it.
///
/// The endpoint is the user's: unless the operator allows private endpoints, the client connects
/// only to public addresses (S3Options::public_addresses_only, checked on every connection after
/// DNS resolution), and the factory already refuses a literal loopback, private or link-local IP.
///
/// List is one ListObjectsV2 request per page (start-after = prefix + cursor, max-keys = limit up
/// to 1000). Keys ending in "/" (folder markers) and keys with a hidden segment are left out
/// silently; keys that cannot be paths (an empty segment, such as "a//b" or a leading "/") are
/// reported in `skipped`. next_cursor is the path of the last key S3 returned while the listing
/// is truncated, so a page of only left-out keys still advances. version is the ETag.
///
/// Open returns a reader that GETs the object in ranges of `range_size` (8 MiB) bytes with
/// If-Match: "<etag>", each answer streamed (S3ObjectReader), so memory stays at one piece of at
/// most 1 MiB whatever the range, and a server that ignores Range is read once, from the start,
/// not once per range; an answer that carries another ETag (for servers that ignore If-Match,
/// like s3rver) is FailedPrecondition too. The first piece is read by Open itself, so a gone or
/// changed object fails there.
///
/// Thread safety: the source is thread-safe (the client is); readers are not, and share the
/// client, so they may outlive the source. No retries: Unavailable for network errors and 5xx.
class S3Source final : public ObjectSource {
 public:
  static constexpr size_t kRangeSize = 8 << 20;
  static constexpr int kMaxKeysPerList = 1000;

  /// From `args.config`; InvalidArgument for bad settings or a literal private endpoint address
  /// (unless args.allow_private_endpoints). Sends no request.
  static Result<std::unique_ptr<ObjectSource>> Create(const SourceArgs& args);
  /// Checks the settings and turns them into client options (prefix normalized to end in "/";
  /// public_addresses_only = !allow_private_endpoints).
  static Result<S3Options> ParseSettings(const Json& config, bool allow_private_endpoints);
  /// From ready options (tests); `range_size` > 0.
  static Result<std::unique_ptr<ObjectSource>> CreateWithOptions(S3Options options,
                                                                 size_t range_size = kRangeSize);
  /// Not watchable; secret_access_key is a secret; the settings schema.
  static SourceCapabilities Capabilities();
  /// The page a ListObjectsV2 answer `listing` (a parsed ListBucketResult) makes, for keys under
  /// `prefix` listed after `cursor`. Internal for a malformed entry or a truncated listing whose
  /// last key does not advance past the cursor.
  static Result<SourcePage> PageFromListing(const XmlElement& listing, std::string_view prefix,
                                            std::string_view cursor);

  /// InvalidArgument when `limit` < 1; NotFound when the bucket does not exist; PermissionDenied
  /// for a refused endpoint address; Unavailable when the endpoint cannot be reached.
  Result<SourcePage> List(std::string_view cursor, int limit) override;
  /// NotFound when the object is gone; FailedPrecondition when its ETag is no longer
  /// `entry.version`; InvalidArgument for an empty path.
  Result<std::unique_ptr<SourceReader>> Open(const SourceEntry& entry) override;

 private:
  S3Source(std::shared_ptr<S3Client> client, size_t range_size);

  std::shared_ptr<S3Client> client_;
  size_t range_size_;
};

}  // namespace argus::store::s3
