#include "core/json_schema.h"

#include <string_view>

#include "core/clock.h"

namespace argus {

namespace {

bool MatchesType(const Json& v, std::string_view type) {
  if (type == "object") return v.is_object();
  if (type == "array") return v.is_array();
  if (type == "string") return v.is_string();
  if (type == "boolean") return v.is_boolean();
  if (type == "null") return v.is_null();
  if (type == "integer") {
    if (v.is_number_integer()) return true;
    // 3.0 is an integer in JSON Schema.
    return v.is_number_float() && v.get<double>() == static_cast<double>(v.get<int64_t>());
  }
  if (type == "number") return v.is_number();
  return false;
}

std::string Where(const std::string& path) {
  return path.empty() ? std::string("the body") : "field '" + path + "'";
}

std::string Join(const Json& arr) {
  std::string out;
  for (const auto& e : arr) {
    if (!out.empty()) out += ", ";
    out += e.is_string() ? e.get<std::string>() : e.dump();
  }
  return out;
}

Status Validate(const Json& v, const Json& s, const std::string& path) {
  if (!s.is_object()) return OkStatus();
  if (auto t = s.find("type"); t != s.end()) {
    bool ok = false;
    if (t->is_string()) {
      ok = MatchesType(v, t->get_ref<const std::string&>());
    } else {
      for (const auto& name : *t) ok = ok || MatchesType(v, name.get_ref<const std::string&>());
    }
    if (!ok) {
      std::string want = t->is_string() ? t->get<std::string>() : Join(*t);
      return InvalidArgumentError(Where(path) + " must be " + want + ", not " +
                                  std::string(JsonTypeName(v)));
    }
  }
  if (auto e = s.find("enum"); e != s.end()) {
    bool found = false;
    for (const auto& option : *e) found = found || option == v;
    if (!found) return InvalidArgumentError(Where(path) + " must be one of: " + Join(*e));
  }
  if (auto c = s.find("const"); c != s.end() && *c != v) {
    return InvalidArgumentError(Where(path) + " must be " + c->dump());
  }
  if (v.is_string()) {
    const auto& str = v.get_ref<const std::string&>();
    if (auto m = s.find("minLength"); m != s.end() && str.size() < m->get<size_t>()) {
      return InvalidArgumentError(Where(path) + " must be at least " + m->dump() +
                                  " characters long");
    }
    if (auto m = s.find("maxLength"); m != s.end() && str.size() > m->get<size_t>()) {
      return InvalidArgumentError(Where(path) + " must be at most " + m->dump() +
                                  " characters long");
    }
    if (auto f = s.find("format"); f != s.end() && *f == "date-time") {
      TimestampUs ts;
      if (!ParseRfc3339(str, &ts)) {
        return InvalidArgumentError(Where(path) + " must be an RFC 3339 date-time");
      }
    }
  }
  if (v.is_number()) {
    double d = v.get<double>();
    if (auto m = s.find("minimum"); m != s.end() && d < m->get<double>()) {
      return InvalidArgumentError(Where(path) + " must be at least " + m->dump());
    }
    if (auto m = s.find("maximum"); m != s.end() && d > m->get<double>()) {
      return InvalidArgumentError(Where(path) + " must be at most " + m->dump());
    }
  }
  if (v.is_array()) {
    if (auto m = s.find("minItems"); m != s.end() && v.size() < m->get<size_t>()) {
      return InvalidArgumentError(Where(path) + " must have at least " + m->dump() + " items");
    }
    if (auto m = s.find("maxItems"); m != s.end() && v.size() > m->get<size_t>()) {
      return InvalidArgumentError(Where(path) + " must have at most " + m->dump() + " items");
    }
    if (auto items = s.find("items"); items != s.end()) {
      for (size_t i = 0; i < v.size(); ++i) {
        ARGUS_RETURN_IF_ERROR(Validate(v[i], *items, path + "[" + std::to_string(i) + "]"));
      }
    }
  }
  if (v.is_object()) {
    const Json* props = nullptr;
    if (auto p = s.find("properties"); p != s.end()) props = &*p;
    if (auto r = s.find("required"); r != s.end()) {
      for (const auto& name : *r) {
        if (!v.contains(name.get_ref<const std::string&>())) {
          std::string child = path.empty() ? name.get<std::string>()
                                           : path + "." + name.get<std::string>();
          return InvalidArgumentError("field '" + child + "' is required");
        }
      }
    }
    auto extra = s.find("additionalProperties");
    for (auto it = v.begin(); it != v.end(); ++it) {
      std::string child = path.empty() ? it.key() : path + "." + it.key();
      if (props != nullptr) {
        if (auto p = props->find(it.key()); p != props->end()) {
          ARGUS_RETURN_IF_ERROR(Validate(it.value(), *p, child));
          continue;
        }
      }
      if (extra == s.end()) continue;
      if (extra->is_boolean()) {
        if (!extra->get<bool>()) {
          return InvalidArgumentError("unknown field '" + child + "'");
        }
      } else {
        ARGUS_RETURN_IF_ERROR(Validate(it.value(), *extra, child));
      }
    }
  }
  return OkStatus();
}

}  // namespace

Status ValidateJson(const Json& value, const Json& schema) { return Validate(value, schema, ""); }

}  // namespace argus
