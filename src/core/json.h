#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string_view>

#include "core/result.h"

namespace argus {

/// The one JSON type (nlohmann-json: docs/adr/0002-json-library.md; untrusted text is parsed by
/// RapidJSON, docs/adr/0012-untrusted-json-parsed-by-rapidjson-sax.md).
using Json = nlohmann::json;

/// Limits applied while parsing untrusted JSON. Both are checked during the parse, so an
/// oversized document is refused before it is fully built.
struct JsonLimits {
  int max_depth = 32;                   ///< nesting of objects/arrays
  size_t max_string_bytes = 64 * 1024;  ///< any one string or object key, in bytes
};

/// Parses `text` under `limits`. InvalidArgument with the position for malformed JSON, and for a
/// document that nests too deep or holds an over-long string.
Result<Json> ParseJson(std::string_view text, const JsonLimits& limits = {});

/// Serialises `value` compactly into `*out` (replacing its content, keeping its capacity), with
/// invalid UTF-8 replaced: dump(-1, ' ', false, replace) without a new string per call (a
/// response buffer reused across the requests of a connection).
void DumpJsonTo(const Json& value, std::string* out);

/// The JSON type name as used in schemas and messages ("object", "integer", ...).
std::string_view JsonTypeName(const Json& value);

}  // namespace argus
