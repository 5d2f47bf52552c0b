#pragma once

#include <string>
#include <string_view>

namespace argus::api {

/// gzip (RFC 1952) of `data` at a fast level. Returns false only if zlib fails.
bool GzipCompress(std::string_view data, std::string* out);

/// True when an Accept-Encoding value admits gzip (q > 0).
bool AcceptsGzip(std::string_view accept_encoding);

}  // namespace argus::api
