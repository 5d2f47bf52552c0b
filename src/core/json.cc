#include "core/json.h"

#include <string>

namespace argus {

namespace {

// One pass over the raw text, before any parsing: rejects documents that nest too deep or hold
// an over-long string without building them, and lets the parse itself run without a
// per-value callback. Escape sequences count as one character.
Status CheckLimits(std::string_view text, const JsonLimits& limits) {
  int depth = 0;
  bool in_string = false;
  size_t length = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') {
        if (i + 1 < text.size() && text[i + 1] == 'u') i += 4;
        ++i;
        ++length;
      } else if (c == '"') {
        in_string = false;
      } else {
        ++length;
      }
      if (length > limits.max_string_bytes) {
        return InvalidArgumentError("a JSON string is longer than " +
                                    std::to_string(limits.max_string_bytes) + " bytes");
      }
    } else if (c == '"') {
      in_string = true;
      length = 0;
    } else if (c == '[' || c == '{') {
      if (++depth > limits.max_depth) {
        return InvalidArgumentError("JSON nests deeper than " + std::to_string(limits.max_depth) +
                                    " levels");
      }
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return OkStatus();
}

}  // namespace

Result<Json> ParseJson(std::string_view text, const JsonLimits& limits) {
  ARGUS_RETURN_IF_ERROR(CheckLimits(text, limits));
  try {
    return Json::parse(text.begin(), text.end());
  } catch (const Json::parse_error& e) {
    // e.what() names the byte position and what was expected; it never echoes the input.
    return InvalidArgumentError(std::string("malformed JSON: ") + e.what());
  } catch (const std::exception& e) {
    return InvalidArgumentError(std::string("malformed JSON: ") + e.what());
  }
}

std::string_view JsonTypeName(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null: return "null";
    case Json::value_t::boolean: return "boolean";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned: return "integer";
    case Json::value_t::number_float: return "number";
    case Json::value_t::string: return "string";
    case Json::value_t::array: return "array";
    case Json::value_t::object: return "object";
    default: return "binary";
  }
}

}  // namespace argus
