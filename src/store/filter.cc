#include "store/filter.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <optional>
#include <utility>

#include "core/clock.h"

namespace argus::store {

namespace {

constexpr std::array<std::pair<FilterOp, std::string_view>, 16> kOps = {{
    {FilterOp::kAnd, "and"},
    {FilterOp::kOr, "or"},
    {FilterOp::kNot, "not"},
    {FilterOp::kEq, "eq"},
    {FilterOp::kNe, "ne"},
    {FilterOp::kIn, "in"},
    {FilterOp::kNin, "nin"},
    {FilterOp::kGt, "gt"},
    {FilterOp::kGte, "gte"},
    {FilterOp::kLt, "lt"},
    {FilterOp::kLte, "lte"},
    {FilterOp::kExists, "exists"},
    {FilterOp::kIsNull, "is_null"},
    {FilterOp::kContains, "contains"},
    {FilterOp::kStartsWith, "starts_with"},
    {FilterOp::kText, "text"},
}};

constexpr std::string_view kOperatorList =
    "eq, ne, in, nin, gt, gte, lt, lte, exists, is_null, contains, starts_with, text";

bool IsRange(FilterOp op) {
  return op == FilterOp::kGt || op == FilterOp::kGte || op == FilterOp::kLt || op == FilterOp::kLte;
}

const FieldType* TypeOf(const FieldTypes& types, std::string_view field) {
  auto it = types.find(field);
  return it == types.end() ? nullptr : &it->second;
}

Status Bad(std::string_view where, std::string what) {
  return InvalidArgumentError(std::string(where) + ": " + what);
}

class Parser {
 public:
  Parser(const FieldTypes& types, const FilterLimits& limits) : types_(types), limits_(limits) {}

  Result<Filter> Node(const Json& json, const std::string& where, int depth) {
    if (depth > limits_.max_depth) {
      return Bad(where, "filters nest at most " + std::to_string(limits_.max_depth) + " deep");
    }
    if (!json.is_object()) {
      return Bad(where, "a filter is a JSON object such as {\"label\": \"person\"}");
    }
    Filter all{.op = FilterOp::kAnd};
    for (const auto& [key, value] : json.items()) {
      const std::string at = where + "." + key;
      if (key == "and" || key == "or") {
        if (!value.is_array() || value.empty()) {
          return Bad(at, "'" + key + "' takes a non-empty array of filters");
        }
        Filter group{.op = key == "and" ? FilterOp::kAnd : FilterOp::kOr};
        for (size_t i = 0; i < value.size(); ++i) {
          ARGUS_ASSIGN_OR_RETURN(Filter child,
                                 Node(value[i], at + "[" + std::to_string(i) + "]", depth + 1));
          group.children.push_back(std::move(child));
        }
        all.children.push_back(std::move(group));
      } else if (key == "not") {
        ARGUS_ASSIGN_OR_RETURN(Filter child, Node(value, at, depth + 1));
        Filter negated{.op = FilterOp::kNot};
        negated.children.push_back(std::move(child));
        all.children.push_back(std::move(negated));
      } else {
        ARGUS_RETURN_IF_ERROR(CheckPath(key, at));
        if (value.is_object()) {
          if (value.empty()) return Bad(at, "give an operator: " + std::string(kOperatorList));
          for (const auto& [op_name, operand] : value.items()) {
            ARGUS_ASSIGN_OR_RETURN(Filter leaf, Leaf(key, op_name, operand, at + "." + op_name));
            all.children.push_back(std::move(leaf));
          }
        } else {
          ARGUS_ASSIGN_OR_RETURN(Filter leaf, Leaf(key, "eq", value, at));
          all.children.push_back(std::move(leaf));
        }
      }
    }
    if (all.children.size() == 1) return std::move(all.children.front());
    return all;
  }

 private:
  static Status CheckPath(const std::string& path, const std::string& at) {
    if (path.empty() || path.size() > 256 || path.front() == '.' || path.back() == '.' ||
        path.find("..") != std::string::npos) {
      return Bad(at, "a field is a payload path of up to 256 characters such as metadata.camera");
    }
    return OkStatus();
  }

  Result<Filter> Leaf(const std::string& field, const std::string& op_name, const Json& operand,
                      const std::string& at) {
    if (++conditions_ > limits_.max_conditions) {
      return Bad(at,
                 "a filter has at most " + std::to_string(limits_.max_conditions) + " conditions");
    }
    auto it = std::find_if(kOps.begin() + 3, kOps.end(),
                           [&](const auto& p) { return p.second == op_name; });
    if (it == kOps.end()) {
      return Bad(at,
                 "unknown operator '" + op_name + "'; use one of " + std::string(kOperatorList));
    }
    Filter leaf{.op = it->first, .field = field};
    const FieldType* type = TypeOf(types_, field);
    switch (leaf.op) {
      case FilterOp::kExists:
      case FilterOp::kIsNull:
        if (!operand.is_boolean()) return Bad(at, "takes true or false");
        leaf.value = operand;
        return leaf;
      case FilterOp::kIn:
      case FilterOp::kNin: {
        if (!operand.is_array() || operand.empty()) {
          return Bad(at, "takes a non-empty array of values");
        }
        if (static_cast<int>(operand.size()) > limits_.max_in_values) {
          return Bad(at, "takes at most " + std::to_string(limits_.max_in_values) + " values");
        }
        leaf.value = Json::array();
        for (size_t i = 0; i < operand.size(); ++i) {
          ARGUS_ASSIGN_OR_RETURN(
              Json v, Operand(operand[i], type, leaf.op, at + "[" + std::to_string(i) + "]"));
          leaf.value.push_back(std::move(v));
        }
        return leaf;
      }
      case FilterOp::kStartsWith:
      case FilterOp::kText:
        if (type != nullptr && *type != FieldType::kKeyword) {
          return Bad(at, "'" + field + "' is indexed as " + std::string(FieldTypeName(*type)) +
                             "; " + op_name + " applies to text");
        }
        if (!operand.is_string() ||
            (leaf.op == FilterOp::kText && FilterWords(operand.get<std::string>()).empty())) {
          return Bad(at, leaf.op == FilterOp::kText ? "takes a string with at least one word"
                                                    : "takes a string");
        }
        leaf.value = operand;
        return leaf;
      default:
        ARGUS_ASSIGN_OR_RETURN(leaf.value, Operand(operand, type, leaf.op, at));
        return leaf;
    }
  }

  // One comparison operand, checked against the field's declared type.
  static Result<Json> Operand(const Json& v, const FieldType* type, FilterOp op,
                              const std::string& at) {
    if (v.is_number_float() && !std::isfinite(v.get<double>())) {
      return Bad(at, "takes a finite number");
    }
    if (!v.is_string() && !v.is_number() && !v.is_boolean()) {
      return Bad(at, "takes a string, a number or a boolean" +
                         std::string(v.is_null() ? " (for null use is_null: true)" : ""));
    }
    if (IsRange(op) && v.is_boolean()) return Bad(at, "compares numbers, datetimes or strings");
    if (type == nullptr) return v;
    switch (*type) {
      case FieldType::kKeyword:
        if (!v.is_string()) return Bad(at, "the field is indexed as keyword: give a string");
        return v;
      case FieldType::kInteger:
        if (!v.is_number_integer()) return Bad(at, "the field is indexed as integer: give one");
        return v;
      case FieldType::kFloat:
        if (!v.is_number()) return Bad(at, "the field is indexed as float: give a number");
        return v;
      case FieldType::kBool:
        if (!v.is_boolean()) return Bad(at, "the field is indexed as bool: give true or false");
        return v;
      case FieldType::kDatetime: {
        TimestampUs us = 0;
        if (!v.is_string() || !ParseRfc3339(v.get<std::string>(), &us)) {
          return Bad(at,
                     "the field is indexed as datetime: give RFC 3339 such as "
                     "2026-01-31T12:00:00Z");
        }
        return Json(us);
      }
    }
    return v;
  }

  const FieldTypes& types_;
  const FilterLimits& limits_;
  int conditions_ = 0;
};

// A payload value as the comparable the operand is: datetime strings become microseconds.
std::optional<Json> Comparable(const Json& v, const FieldType* type) {
  if (type != nullptr && *type == FieldType::kDatetime) {
    TimestampUs us = 0;
    if (v.is_string() && ParseRfc3339(v.get<std::string>(), &us)) return Json(us);
    if (v.is_number_integer()) return v;
    return std::nullopt;
  }
  return v;
}

bool Equal(const Json& a, const Json& b) {
  if (a.is_number() && b.is_number()) return a.get<double>() == b.get<double>();
  return a == b;
}

// -1, 0, 1, or nullopt when the two do not compare (a number against a string).
std::optional<int> Compare(const Json& a, const Json& b) {
  if (a.is_number() && b.is_number()) {
    const double x = a.get<double>(), y = b.get<double>();
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  if (a.is_string() && b.is_string()) {
    const int c = a.get_ref<const std::string&>().compare(b.get_ref<const std::string&>());
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  return std::nullopt;
}

bool ContainsWords(const std::string& haystack, const std::vector<std::string>& words) {
  const std::vector<std::string> have = FilterWords(haystack);
  return std::all_of(words.begin(), words.end(), [&](const std::string& w) {
    return std::find(have.begin(), have.end(), w) != have.end();
  });
}

// One element (a scalar of the payload) against a leaf.
bool ElementMatches(const Filter& f, const Json& element, const FieldType* type) {
  switch (f.op) {
    case FilterOp::kEq:
    case FilterOp::kNe: {
      auto v = Comparable(element, type);
      return v.has_value() && Equal(*v, f.value);
    }
    case FilterOp::kIn:
    case FilterOp::kNin: {
      auto v = Comparable(element, type);
      return v.has_value() && std::any_of(f.value.begin(), f.value.end(),
                                          [&](const Json& o) { return Equal(*v, o); });
    }
    case FilterOp::kGt:
    case FilterOp::kGte:
    case FilterOp::kLt:
    case FilterOp::kLte: {
      auto v = Comparable(element, type);
      if (!v.has_value()) return false;
      auto c = Compare(*v, f.value);
      if (!c.has_value()) return false;
      if (f.op == FilterOp::kGt) return *c > 0;
      if (f.op == FilterOp::kGte) return *c >= 0;
      if (f.op == FilterOp::kLt) return *c < 0;
      return *c <= 0;
    }
    case FilterOp::kContains:
      if (element.is_string() && f.value.is_string()) {
        return element.get_ref<const std::string&>().find(f.value.get_ref<const std::string&>()) !=
               std::string::npos;
      }
      return false;
    case FilterOp::kStartsWith:
      return element.is_string() && element.get_ref<const std::string&>().starts_with(
                                        f.value.get_ref<const std::string&>());
    case FilterOp::kText:
      return element.is_string() && ContainsWords(element.get_ref<const std::string&>(),
                                                  FilterWords(f.value.get<std::string>()));
    default:
      return false;
  }
}

bool LeafMatches(const Filter& f, const Json& payload, const FieldTypes& types) {
  const Json* v = FindPath(payload, f.field);
  if (f.op == FilterOp::kExists) return (v != nullptr && !v->is_null()) == f.value.get<bool>();
  if (f.op == FilterOp::kIsNull) return (v != nullptr && v->is_null()) == f.value.get<bool>();
  const FieldType* type = TypeOf(types, f.field);
  bool any = false;
  if (v != nullptr) {
    if (v->is_array()) {
      // contains on an array: one element equals the operand.
      if (f.op == FilterOp::kContains) {
        any = std::any_of(v->begin(), v->end(), [&](const Json& e) { return Equal(e, f.value); });
      } else {
        any = std::any_of(v->begin(), v->end(),
                          [&](const Json& e) { return ElementMatches(f, e, type); });
      }
    } else {
      any = ElementMatches(f, *v, type);
    }
  }
  return (f.op == FilterOp::kNe || f.op == FilterOp::kNin) ? !any : any;
}

Json CanonicalLeaf(const Filter& f) {
  return Json{{f.field, Json{{std::string(FilterOpName(f.op)), f.value}}}};
}

}  // namespace

std::string_view FieldTypeName(FieldType type) {
  switch (type) {
    case FieldType::kKeyword:
      return "keyword";
    case FieldType::kInteger:
      return "integer";
    case FieldType::kFloat:
      return "float";
    case FieldType::kBool:
      return "bool";
    case FieldType::kDatetime:
      return "datetime";
  }
  return "keyword";
}

Result<FieldType> ParseFieldType(std::string_view name) {
  for (FieldType t : {FieldType::kKeyword, FieldType::kInteger, FieldType::kFloat, FieldType::kBool,
                      FieldType::kDatetime}) {
    if (FieldTypeName(t) == name) return t;
  }
  return InvalidArgumentError("unknown field type '" + std::string(name) +
                              "': keyword, integer, float, bool or datetime");
}

std::string_view FilterOpName(FilterOp op) {
  for (const auto& [o, name] : kOps) {
    if (o == op) return name;
  }
  return "?";
}

Result<Filter> ParseFilter(const Json& json, const FieldTypes& types, std::string_view where,
                           const FilterLimits& limits) {
  if (json.is_null()) return Filter{};
  Parser parser(types, limits);
  return parser.Node(json, std::string(where), 1);
}

bool Matches(const Filter& filter, const Json& payload, const FieldTypes& types) {
  switch (filter.op) {
    case FilterOp::kAnd:
      return std::all_of(filter.children.begin(), filter.children.end(),
                         [&](const Filter& c) { return Matches(c, payload, types); });
    case FilterOp::kOr:
      return std::any_of(filter.children.begin(), filter.children.end(),
                         [&](const Filter& c) { return Matches(c, payload, types); });
    case FilterOp::kNot:
      return !Matches(filter.children.front(), payload, types);
    default:
      return LeafMatches(filter, payload, types);
  }
}

std::vector<Json> IndexedValues(const Json& payload, std::string_view path, FieldType type) {
  std::vector<Json> out;
  const Json* v = FindPath(payload, path);
  if (v == nullptr) return out;
  auto take = [&](const Json& element) {
    std::optional<Json> c = Comparable(element, &type);
    if (!c.has_value()) return;
    switch (type) {
      case FieldType::kKeyword:
        if (c->is_string()) out.push_back(std::move(*c));
        return;
      case FieldType::kInteger:
      case FieldType::kFloat:
        if (c->is_number() && std::isfinite(c->get<double>())) out.push_back(std::move(*c));
        return;
      case FieldType::kBool:
        if (c->is_boolean()) out.push_back(std::move(*c));
        return;
      case FieldType::kDatetime:
        if (c->is_number_integer()) out.push_back(std::move(*c));
        return;
    }
  };
  if (v->is_array()) {
    for (const auto& e : *v) take(e);
  } else {
    take(*v);
  }
  return out;
}

const Json* FindPath(const Json& payload, std::string_view path) {
  const Json* at = &payload;
  while (!path.empty()) {
    if (!at->is_object()) return nullptr;
    const size_t dot = path.find('.');
    const std::string_view step = path.substr(0, dot);
    auto it = at->find(step);
    if (it == at->end()) return nullptr;
    at = &*it;
    path = dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
  }
  return at;
}

Json FilterToJson(const Filter& filter) {
  switch (filter.op) {
    case FilterOp::kAnd:
    case FilterOp::kOr: {
      if (filter.op == FilterOp::kAnd && filter.children.empty()) return Json::object();
      Json children = Json::array();
      for (const auto& c : filter.children) children.push_back(FilterToJson(c));
      return Json{{std::string(FilterOpName(filter.op)), std::move(children)}};
    }
    case FilterOp::kNot:
      return Json{{"not", FilterToJson(filter.children.front())}};
    default:
      return CanonicalLeaf(filter);
  }
}

std::vector<std::string> FilterWords(std::string_view text) {
  std::vector<std::string> words;
  std::string word;
  auto flush = [&] {
    if (!word.empty()) words.push_back(std::move(word));
    word.clear();
  };
  for (unsigned char c : text) {
    if (c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')) {
      word.push_back(static_cast<char>(c));
    } else if (c >= 'A' && c <= 'Z') {
      word.push_back(static_cast<char>(c - 'A' + 'a'));
    } else {
      flush();
    }
  }
  flush();
  return words;
}

}  // namespace argus::store
