#include "core/json.h"

#include <string>

namespace argus {

namespace {

// Thrown from the parser callback to stop a parse early; never leaves ParseJson.
struct LimitExceeded {
  std::string message;
};

}  // namespace

Result<Json> ParseJson(std::string_view text, const JsonLimits& limits) {
  auto check = [&limits](int depth, Json::parse_event_t event, Json& parsed) -> bool {
    if ((event == Json::parse_event_t::object_start ||
         event == Json::parse_event_t::array_start) &&
        depth >= limits.max_depth) {
      throw LimitExceeded{"JSON nests deeper than " + std::to_string(limits.max_depth) +
                          " levels"};
    }
    if ((event == Json::parse_event_t::value || event == Json::parse_event_t::key) &&
        parsed.is_string() && parsed.get_ref<const std::string&>().size() > limits.max_string_bytes) {
      throw LimitExceeded{"a JSON string is longer than " +
                          std::to_string(limits.max_string_bytes) + " bytes"};
    }
    return true;
  };
  try {
    return Json::parse(text.begin(), text.end(), check, /*allow_exceptions=*/true,
                       /*ignore_comments=*/false);
  } catch (const LimitExceeded& e) {
    return InvalidArgumentError(e.message);
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
