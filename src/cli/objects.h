#pragma once

#include <string>
#include <string_view>

#include "cli/http_client.h"
#include "core/json.h"
#include "core/result.h"

namespace argus::cli {

/// "/v1/buckets/<bucket>/<what>/<key>" with both parts percent-encoded (the key segment by
/// segment); `what` is "objects" (the record) or "content" (the bytes).
std::string ObjectPath(std::string_view bucket, std::string_view what, std::string_view key);

/// GETs every page of a list endpoint (`path` may carry a query already) and returns
/// {"items": [...all pages...], "common_prefixes": [...]} (the latter empty when the endpoint
/// has none).
Result<Json> ListAll(HttpClient& http, const std::string& path);

/// Streams an object's bytes into `out_file` ("" or "-": stdout), never holding them whole,
/// and checks them against the object's sha256 (the ETag). A regular file is written under a
/// temporary name and renamed into place when complete, so a failure leaves no partial file
/// behind (and an existing file untouched).
Status Download(HttpClient& http, std::string_view bucket, std::string_view key,
                const std::string& out_file);

}  // namespace argus::cli
