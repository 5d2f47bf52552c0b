// The filter language that document listing, vector search and text search share, so a filter
// means the same wherever it is applied. Its JSON form:
//
//   {"label": "person", "score": {"gte": 0.5}}          fields and their conditions, all must hold
//   {"or": [{"label": "dog"}, {"metadata.camera": {"in": ["a", "b"]}}]}
//   {"not": {"ocr.text": {"text": "invoice"}}}
//
// A key is `and` / `or` (an array of filters), `not` (a filter), or a payload path (dots descend
// into objects: `metadata.camera`). A path maps to a value (shorthand for `eq`) or to an object
// of operators, all of which must hold: eq, ne, in, nin, gt, gte, lt, lte, exists, is_null,
// contains, starts_with, text. `{}` matches everything.
//
// Semantics on a payload (Matches): a path whose value is an array matches when any element does;
// numbers compare by value (1 == 1.0); ne and nin are the negations of eq and in, so a missing
// field matches them; exists: the path holds a value other than null; is_null: the path holds
// null; contains: a substring of a string, or an element of an array; text: every word of the
// operand appears in the field as a word, case-insensitively (ASCII case folding). Fields that a
// payload index declares a type for take operands of that type only (a datetime as RFC 3339).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/result.h"

namespace argus::store {

/// The type a payload index gives a field.
enum class FieldType { kKeyword, kInteger, kFloat, kBool, kDatetime };
std::string_view FieldTypeName(FieldType type);
/// "keyword", "integer", "float", "bool", "datetime"; InvalidArgument otherwise.
Result<FieldType> ParseFieldType(std::string_view name);

/// Declared field types by payload path (a collection's payload indexes).
using FieldTypes = std::map<std::string, FieldType, std::less<>>;

enum class FilterOp {
  kAnd,
  kOr,
  kNot,  // children
  kEq,
  kNe,
  kIn,
  kNin,
  kGt,
  kGte,
  kLt,
  kLte,
  kExists,
  kIsNull,
  kContains,
  kStartsWith,
  kText,
};
std::string_view FilterOpName(FilterOp op);

/// A parsed, checked filter. A leaf holds `field` and its operand `value` (an array for in/nin,
/// a bool for exists/is_null; a datetime field's operands as microseconds since the epoch).
struct Filter {
  FilterOp op = FilterOp::kAnd;
  std::string field;
  Json value;
  std::vector<Filter> children;

  /// Whether it matches every payload (`{}`).
  bool MatchesAll() const { return op == FilterOp::kAnd && children.empty(); }
};

/// Bounds that keep one filter cheap to check.
struct FilterLimits {
  int max_depth = 16;
  int max_conditions = 256;
  int max_in_values = 1024;
};

/// Parses and checks `json` against the declared types. InvalidArgument naming the path in the
/// request (`where`, e.g. "filter.or[1].score.gte") and what to send instead.
Result<Filter> ParseFilter(const Json& json, const FieldTypes& types = {},
                           std::string_view where = "filter", const FilterLimits& limits = {});

/// Whether `payload` (a JSON object) satisfies the filter. Datetime fields (by `types`) are
/// compared as instants.
bool Matches(const Filter& filter, const Json& payload, const FieldTypes& types = {});

/// The values a payload index of `type` holds for `path` of `payload`: each element of an array
/// (or the one value) that an eq, in or range condition on the field can match, as the operand
/// it is compared with: strings for keyword, finite numbers for integer and float, booleans for
/// bool, microseconds since the epoch for datetime (RFC 3339 strings and integers). Of `view`,
/// exactly those elements satisfy such a leaf (Matches) for which one of these values does.
std::vector<Json> IndexedValues(const Json& payload, std::string_view path, FieldType type);

/// The value at a dotted path of `payload`, or null when a step is missing.
const Json* FindPath(const Json& payload, std::string_view path);

/// The filter in a canonical JSON form (`and` of conditions, one operator each, keys sorted):
/// equal filters give equal dumps, so it can key a cache.
Json FilterToJson(const Filter& filter);

/// The lower-cased words of `text` as the `text` operator and the text index split them:
/// runs of ASCII letters and digits, and of bytes >= 0x80 (UTF-8 sequences kept whole).
std::vector<std::string> FilterWords(std::string_view text);

}  // namespace argus::store
