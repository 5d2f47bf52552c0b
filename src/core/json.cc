#include "core/json.h"

#include <rapidjson/error/en.h>
#include <rapidjson/reader.h>

#include <string>
#include <vector>

namespace argus {

namespace {

// Builds a Json straight from RapidJSON's SAX events: RapidJSON's iterative reader parses
// (and validates UTF-8) several times faster than nlohmann's own parser, never recurses, and
// lets the limits be enforced while reading, before anything oversized is built.
class Builder : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, Builder> {
 public:
  explicit Builder(const JsonLimits& limits) : limits_(limits) {}

  bool Null() { return Add(Json(nullptr)); }
  bool Bool(bool b) { return Add(Json(b)); }
  bool Int(int i) { return Add(Json(static_cast<int64_t>(i))); }
  bool Uint(unsigned u) { return Add(Json(static_cast<uint64_t>(u))); }
  bool Int64(int64_t i) { return Add(Json(i)); }
  bool Uint64(uint64_t u) { return Add(Json(u)); }
  bool Double(double d) { return Add(Json(d)); }
  bool String(const char* s, rapidjson::SizeType n, bool) {
    return CheckString(n) && Add(Json(std::string(s, n)));
  }
  bool Key(const char* s, rapidjson::SizeType n, bool) {
    if (!CheckString(n)) return false;
    key_.assign(s, n);
    return true;
  }
  bool StartObject() { return Open(Json::object()); }
  bool EndObject(rapidjson::SizeType) { return Close(); }
  bool StartArray() { return Open(Json::array()); }
  bool EndArray(rapidjson::SizeType) { return Close(); }

  Json& root() { return root_; }
  const std::string& limit_error() const { return limit_error_; }

 private:
  bool CheckString(size_t n) {
    if (n <= limits_.max_string_bytes) return true;
    limit_error_ =
        "a JSON string is longer than " + std::to_string(limits_.max_string_bytes) + " bytes";
    return false;
  }
  Json* Place(Json v) {
    if (stack_.empty()) {
      root_ = std::move(v);
      return &root_;
    }
    Json* top = stack_.back();
    if (top->is_array()) {
      top->push_back(std::move(v));
      return &top->back();
    }
    // A repeated key keeps its last value, as nlohmann's own parser does.
    Json& slot = (*top)[key_];
    slot = std::move(v);
    return &slot;
  }
  bool Add(Json v) {
    Place(std::move(v));
    return true;
  }
  bool Open(Json container) {
    if (static_cast<int>(stack_.size()) >= limits_.max_depth) {
      limit_error_ = "JSON nests deeper than " + std::to_string(limits_.max_depth) + " levels";
      return false;
    }
    // Pointers stay valid: a container on the stack is only appended to, never moved, until
    // every child opened after it has closed.
    stack_.push_back(Place(std::move(container)));
    return true;
  }
  bool Close() {
    stack_.pop_back();
    return true;
  }

  const JsonLimits& limits_;
  Json root_;
  std::vector<Json*> stack_;
  std::string key_;
  std::string limit_error_;
};

}  // namespace

void DumpJsonTo(const Json& value, std::string* out) {
  out->clear();
  // What Json::dump does, writing into the caller's string instead of a fresh one.
  nlohmann::detail::serializer<Json> serializer(
      nlohmann::detail::output_adapter<char, std::string>(*out), ' ',
      Json::error_handler_t::replace);
  serializer.dump(value, /*pretty_print=*/false, /*ensure_ascii=*/false, /*indent_step=*/0);
}

Result<Json> ParseJson(std::string_view text, const JsonLimits& limits) {
  Builder builder(limits);
  rapidjson::Reader reader;
  rapidjson::MemoryStream stream(text.data(), text.size());
  constexpr unsigned kFlags = rapidjson::kParseIterativeFlag |
                              rapidjson::kParseValidateEncodingFlag |
                              rapidjson::kParseFullPrecisionFlag;
  rapidjson::ParseResult ok;
  try {
    ok = reader.Parse<kFlags>(stream, builder);
  } catch (const std::exception& e) {  // bad_alloc, or nlohmann on an impossible value
    return InvalidArgumentError(std::string("malformed JSON: ") + e.what());
  }
  if (!ok) {
    if (!builder.limit_error().empty()) return InvalidArgumentError(builder.limit_error());
    return InvalidArgumentError("malformed JSON at byte " + std::to_string(ok.Offset()) + ": " +
                                rapidjson::GetParseError_En(ok.Code()));
  }
  return std::move(builder.root());
}

std::string_view JsonTypeName(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::boolean:
      return "boolean";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
      return "integer";
    case Json::value_t::number_float:
      return "number";
    case Json::value_t::string:
      return "string";
    case Json::value_t::array:
      return "array";
    case Json::value_t::object:
      return "object";
    default:
      return "binary";
  }
}

}  // namespace argus
