#include "core/json_schema.h"

#include <optional>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/unicode.h"

namespace argus {

namespace {

enum TypeBit : uint8_t {
  kObject = 1,
  kArray = 2,
  kString = 4,
  kBoolean = 8,
  kNull = 16,
  kInteger = 32,
  kNumber = 64,
};

std::optional<uint8_t> TypeBitOf(std::string_view name) {
  if (name == "object") return kObject;
  if (name == "array") return kArray;
  if (name == "string") return kString;
  if (name == "boolean") return kBoolean;
  if (name == "null") return kNull;
  if (name == "integer") return kInteger;
  if (name == "number") return kNumber;
  return std::nullopt;
}

bool MatchesTypes(const Json& v, uint8_t mask) {
  switch (v.type()) {
    case Json::value_t::object:
      return mask & kObject;
    case Json::value_t::array:
      return mask & kArray;
    case Json::value_t::string:
      return mask & kString;
    case Json::value_t::boolean:
      return mask & kBoolean;
    case Json::value_t::null:
      return mask & kNull;
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
      return mask & (kInteger | kNumber);
    case Json::value_t::number_float: {
      if (mask & kNumber) return true;
      // 3.0 is an integer in JSON Schema.
      double d = v.get<double>();
      return (mask & kInteger) && d == static_cast<double>(static_cast<int64_t>(d));
    }
    default:
      return false;
  }
}

std::string Join(const Json& arr) {
  std::string out;
  for (const auto& e : arr) {
    if (!out.empty()) out += ", ";
    out += e.is_string() ? e.get<std::string>() : e.dump();
  }
  return out;
}

// The path to the value being checked, kept on the stack: built into a string only for an
// error message.
struct Path {
  const Path* parent = nullptr;
  std::string_view key;
  size_t index = 0;
  bool is_index = false;

  std::string ToString() const {
    std::string prefix = parent ? parent->ToString() : "";
    if (is_index) return prefix + "[" + std::to_string(index) + "]";
    if (key.empty()) return prefix;
    return prefix.empty() ? std::string(key) : prefix + "." + std::string(key);
  }
  std::string Where() const {
    std::string p = ToString();
    return p.empty() ? std::string("the body") : "field '" + p + "'";
  }
};

}  // namespace

struct JsonSchema::Node {
  bool never = false;  // the schema `false`: nothing is valid
  uint8_t types = 0;   // 0: any
  std::string type_text;
  std::optional<Json> enum_values;
  std::optional<Json> const_value;
  std::optional<size_t> min_length, max_length, min_items, max_items;
  std::optional<double> minimum, maximum;
  std::string minimum_text, maximum_text;
  bool date_time = false;
  std::unique_ptr<Node> items;
  std::vector<std::pair<std::string, std::unique_ptr<Node>>> properties;
  std::vector<std::string> required;
  enum class Extra { kAllow, kForbid, kSchema } extra = Extra::kAllow;
  std::unique_ptr<Node> extra_schema;

  static Result<std::unique_ptr<Node>> Compile(const Json& s);
  Status Check(const Json& v, const Path& path) const;
};

Result<std::unique_ptr<JsonSchema::Node>> JsonSchema::Node::Compile(const Json& s) {
  auto n = std::make_unique<Node>();
  if (s.is_boolean()) {
    n->never = !s.get<bool>();
    return n;
  }
  if (!s.is_object()) return InvalidArgumentError("a schema must be an object");
  for (auto it = s.begin(); it != s.end(); ++it) {
    const std::string& k = it.key();
    const Json& v = it.value();
    if (k == "type") {
      std::vector<std::string> names;
      if (v.is_string())
        names.push_back(v.get<std::string>());
      else
        for (const auto& t : v) names.push_back(t.get<std::string>());
      for (const auto& name : names) {
        auto bit = TypeBitOf(name);
        if (!bit) return InvalidArgumentError("unknown schema type '" + name + "'");
        n->types |= *bit;
        n->type_text += (n->type_text.empty() ? "" : ", ") + name;
      }
    } else if (k == "enum") {
      n->enum_values = v;
    } else if (k == "const") {
      n->const_value = v;
    } else if (k == "minLength") {
      n->min_length = v.get<size_t>();
    } else if (k == "maxLength") {
      n->max_length = v.get<size_t>();
    } else if (k == "minItems") {
      n->min_items = v.get<size_t>();
    } else if (k == "maxItems") {
      n->max_items = v.get<size_t>();
    } else if (k == "minimum") {
      n->minimum = v.get<double>();
      n->minimum_text = v.dump();
    } else if (k == "maximum") {
      n->maximum = v.get<double>();
      n->maximum_text = v.dump();
    } else if (k == "format") {
      if (v != "date-time") return InvalidArgumentError("unsupported format " + v.dump());
      n->date_time = true;
    } else if (k == "items") {
      if (v.is_array()) {
        return InvalidArgumentError("unsupported schema keyword 'items' with a list of schemas");
      }
      ARGUS_ASSIGN_OR_RETURN(n->items, Compile(v));
    } else if (k == "properties") {
      for (auto p = v.begin(); p != v.end(); ++p) {
        ARGUS_ASSIGN_OR_RETURN(auto child, Compile(p.value()));
        n->properties.emplace_back(p.key(), std::move(child));
      }
    } else if (k == "required") {
      n->required = v.get<std::vector<std::string>>();
    } else if (k == "additionalProperties") {
      if (v.is_boolean()) {
        n->extra = v.get<bool>() ? Extra::kAllow : Extra::kForbid;
      } else {
        n->extra = Extra::kSchema;
        ARGUS_ASSIGN_OR_RETURN(n->extra_schema, Compile(v));
      }
    } else if (k != "description" && k != "title" && k != "examples" && k != "default" &&
               k != "$comment") {
      return InvalidArgumentError("unsupported schema keyword '" + k + "'");
    }
  }
  return n;
}

Status JsonSchema::Node::Check(const Json& v, const Path& path) const {
  if (never) return InvalidArgumentError(path.Where() + " is not allowed");
  if (types != 0 && !MatchesTypes(v, types)) {
    return InvalidArgumentError(path.Where() + " must be " + type_text + ", not " +
                                std::string(JsonTypeName(v)));
  }
  if (enum_values) {
    bool found = false;
    for (const auto& option : *enum_values) found = found || option == v;
    if (!found) {
      return InvalidArgumentError(path.Where() + " must be one of: " + Join(*enum_values));
    }
  }
  if (const_value && *const_value != v) {
    return InvalidArgumentError(path.Where() + " must be " + const_value->dump());
  }
  switch (v.type()) {
    case Json::value_t::string: {
      const auto& str = v.get_ref<const std::string&>();
      // Lengths count characters (code points), as JSON Schema defines them, not bytes.
      const size_t chars = min_length || max_length ? CodePointCount(str) : 0;
      if (min_length && chars < *min_length) {
        return InvalidArgumentError(path.Where() + " must be at least " +
                                    std::to_string(*min_length) + " characters long");
      }
      if (max_length && chars > *max_length) {
        return InvalidArgumentError(path.Where() + " must be at most " +
                                    std::to_string(*max_length) + " characters long");
      }
      TimestampUs ts;
      if (date_time && !ParseRfc3339(str, &ts)) {
        return InvalidArgumentError(path.Where() + " must be an RFC 3339 date-time");
      }
      break;
    }
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float: {
      double d = v.get<double>();
      if (minimum && d < *minimum) {
        return InvalidArgumentError(path.Where() + " must be at least " + minimum_text);
      }
      if (maximum && d > *maximum) {
        return InvalidArgumentError(path.Where() + " must be at most " + maximum_text);
      }
      break;
    }
    case Json::value_t::array: {
      if (min_items && v.size() < *min_items) {
        return InvalidArgumentError(path.Where() + " must have at least " +
                                    std::to_string(*min_items) + " items");
      }
      if (max_items && v.size() > *max_items) {
        return InvalidArgumentError(path.Where() + " must have at most " +
                                    std::to_string(*max_items) + " items");
      }
      if (items) {
        for (size_t i = 0; i < v.size(); ++i) {
          Path child{&path, {}, i, true};
          ARGUS_RETURN_IF_ERROR(items->Check(v[i], child));
        }
      }
      break;
    }
    case Json::value_t::object: {
      for (const auto& name : required) {
        if (!v.contains(name)) {
          Path child{&path, name};
          return InvalidArgumentError("field '" + child.ToString() + "' is required");
        }
      }
      for (auto it = v.begin(); it != v.end(); ++it) {
        Path child{&path, it.key()};
        const Node* target = nullptr;
        for (const auto& [name, node] : properties) {
          if (name == it.key()) {
            target = node.get();
            break;
          }
        }
        if (target == nullptr) {
          if (extra == Extra::kForbid) {
            return InvalidArgumentError("unknown field '" + child.ToString() + "'");
          }
          if (extra == Extra::kSchema) target = extra_schema.get();
        }
        if (target != nullptr) ARGUS_RETURN_IF_ERROR(target->Check(it.value(), child));
      }
      break;
    }
    default:
      break;
  }
  return OkStatus();
}

Result<JsonSchema> JsonSchema::Compile(const Json& schema) {
  JsonSchema s;
  try {
    ARGUS_ASSIGN_OR_RETURN(auto root, Node::Compile(schema));
    s.root_ = std::move(root);
  } catch (const Json::exception& e) {
    return InvalidArgumentError(std::string("malformed schema: ") + e.what());
  }
  s.source_ = std::make_shared<const Json>(schema);
  return s;
}

Status JsonSchema::Validate(const Json& value) const { return root_->Check(value, Path{}); }

Status ValidateJson(const Json& value, const Json& schema) {
  ARGUS_ASSIGN_OR_RETURN(auto compiled, JsonSchema::Compile(schema));
  return compiled.Validate(value);
}

}  // namespace argus
