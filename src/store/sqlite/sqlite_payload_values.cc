#include "store/sqlite/sqlite_payload_values.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "core/log.h"

namespace argus::store::sqlite {
namespace {

constexpr std::string_view kDeleteOfKey = "DELETE FROM payload_values WHERE key = ?";
constexpr std::string_view kInsertValue =
    "INSERT OR IGNORE INTO payload_values(collection_id, field, value, key) VALUES (?, ?, ?, ?)";
constexpr std::string_view kDeleteOfCollection =
    "DELETE FROM payload_values WHERE collection_id = ?";
constexpr std::string_view kIndexesOf = "SELECT payload_indexes FROM collections WHERE id = ?";
constexpr std::string_view kMarkMade =
    "UPDATE collections SET payload_values_of = payload_indexes WHERE id = ?";
constexpr std::string_view kStale =
    "SELECT id FROM collections WHERE payload_values_of <> payload_indexes ORDER BY id";
constexpr std::string_view kViewsOf =
    "SELECT key, payload, object_id, parent_id, tier, unit FROM documents"
    " WHERE collection_id = ? ORDER BY key";
constexpr std::string_view kAllKeys = "SELECT key FROM documents WHERE collection_id = ?";

// An indexed value (or an operand of a condition on an indexed field) as the column holds it.
void BindValue(Statement& stmt, int index, const Json& v, FieldType type) {
  switch (type) {
    case FieldType::kKeyword:
      stmt.BindText(index, v.get_ref<const std::string&>());
      return;
    case FieldType::kInteger:
    case FieldType::kFloat:
      stmt.BindDouble(index, v.get<double>());
      return;
    case FieldType::kBool:
      stmt.BindInt64(index, v.get<bool>() ? 1 : 0);
      return;
    case FieldType::kDatetime:
      stmt.BindInt64(index, v.get<int64_t>());
      return;
  }
}

// The smallest string above every string that starts with `prefix`, or nullopt when there is
// none (the prefix is empty or all 0xff bytes).
std::optional<std::string> PrefixEnd(std::string prefix) {
  while (!prefix.empty() && static_cast<unsigned char>(prefix.back()) == 0xff) prefix.pop_back();
  if (prefix.empty()) return std::nullopt;
  prefix.back() = static_cast<char>(static_cast<unsigned char>(prefix.back()) + 1);
  return prefix;
}

// Adds the keys of the statement's first column. Keys below 2^32 (every key until a store has
// made four billion documents) are gathered in a 32-bit bitmap and added in bulk: the 64-bit
// map of CRoaring 0.2 looks each key's high half up in a std::map.
Status AddKeys(Statement& stmt, KeySet& out) {
  Roaring low;
  std::vector<uint32_t> buffer;
  buffer.reserve(4096);
  for (;;) {
    ARGUS_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (row) {
      const auto key = static_cast<uint64_t>(stmt.ColumnInt64(0));
      if (key <= std::numeric_limits<uint32_t>::max()) {
        buffer.push_back(static_cast<uint32_t>(key));
      } else {
        out.add(key);
      }
    }
    if (!row || buffer.size() == buffer.capacity()) {
      low.addMany(buffer.size(), buffer.data());
      buffer.clear();
    }
    if (!row) break;
  }
  if (!low.isEmpty()) out |= KeySet(low);
  return OkStatus();
}

class Planner {
 public:
  Planner(SqliteDatabase& db, std::string_view collection_id, const FieldTypes& types)
      : db_(db), collection_id_(collection_id), types_(types) {}

  Result<KeyPlan> Plan(const Filter& f) {
    switch (f.op) {
      case FilterOp::kAnd:
        return And(f);
      case FilterOp::kOr:
        return Or(f);
      case FilterOp::kNot: {
        ARGUS_ASSIGN_OR_RETURN(KeyPlan inner, Plan(f.children.front()));
        if (inner.kind != KeyPlan::Kind::kExact) return KeyPlan{};
        return Complement(std::move(inner.keys));
      }
      default:
        return Leaf(f);
    }
  }

 private:
  Result<KeyPlan> And(const Filter& f) {
    if (f.children.empty()) {
      ARGUS_ASSIGN_OR_RETURN(const KeySet* all, All());
      return KeyPlan{KeyPlan::Kind::kExact, *all};
    }
    // Range conditions on one indexed field (a window such as gte/lt) are one index range.
    std::map<std::string, std::vector<const Filter*>> ranges;
    for (const Filter& child : f.children) {
      if (IsRangeOp(child.op) && types_.count(child.field)) ranges[child.field].push_back(&child);
    }
    std::vector<KeyPlan> plans;
    std::set<const Filter*> merged;
    for (const auto& [field, leaves] : ranges) {
      if (leaves.size() < 2) continue;
      ARGUS_ASSIGN_OR_RETURN(std::optional<KeyPlan> p, Range(field, leaves));
      if (!p.has_value()) continue;
      plans.push_back(std::move(*p));
      merged.insert(leaves.begin(), leaves.end());
    }
    for (const Filter& child : f.children) {
      if (merged.count(&child)) continue;
      ARGUS_ASSIGN_OR_RETURN(KeyPlan p, Plan(child));
      plans.push_back(std::move(p));
    }
    std::optional<KeyPlan> out;
    bool exact = true;
    for (KeyPlan& p : plans) {
      if (p.kind == KeyPlan::Kind::kUnknown) {
        exact = false;
        continue;
      }
      exact = exact && p.kind == KeyPlan::Kind::kExact;
      if (!out.has_value()) {
        out = std::move(p);
      } else {
        out->keys &= p.keys;
      }
    }
    if (!out.has_value()) return KeyPlan{};
    out->kind = exact ? KeyPlan::Kind::kExact : KeyPlan::Kind::kSuperset;
    return std::move(*out);
  }

  static bool IsRangeOp(FilterOp op) {
    return op == FilterOp::kGt || op == FilterOp::kGte || op == FilterOp::kLt ||
           op == FilterOp::kLte;
  }

  Result<KeyPlan> Or(const Filter& f) {
    KeyPlan out{KeyPlan::Kind::kExact, {}};
    for (const Filter& child : f.children) {
      ARGUS_ASSIGN_OR_RETURN(KeyPlan p, Plan(child));
      if (p.kind == KeyPlan::Kind::kUnknown) return KeyPlan{};
      if (p.kind == KeyPlan::Kind::kSuperset) out.kind = KeyPlan::Kind::kSuperset;
      out.keys |= p.keys;
    }
    return out;
  }

  Result<KeyPlan> Complement(KeySet keys) {
    ARGUS_ASSIGN_OR_RETURN(const KeySet* all, All());
    return KeyPlan{KeyPlan::Kind::kExact, *all - keys};
  }

  // A comparison of the value column with an operand.
  struct Bound {
    std::string_view op;  // "=", ">", ">=", "<", "<="
    Json operand;
  };

  static std::string_view SqlOp(FilterOp op) {
    switch (op) {
      case FilterOp::kGt:
        return ">";
      case FilterOp::kGte:
        return ">=";
      case FilterOp::kLt:
        return "<";
      case FilterOp::kLte:
        return "<=";
      default:
        return "=";
    }
  }

  Result<KeyPlan> Leaf(const Filter& f) {
    auto typed = types_.find(f.field);
    if (typed == types_.end()) return KeyPlan{};
    const FieldType type = typed->second;
    KeyPlan out{KeyPlan::Kind::kExact, {}};
    switch (f.op) {
      case FilterOp::kEq:
      case FilterOp::kNe:
        ARGUS_RETURN_IF_ERROR(Read(f.field, type, {{"=", f.value}}, out.keys));
        break;
      case FilterOp::kIn:
      case FilterOp::kNin:
        for (const Json& v : f.value) {
          ARGUS_RETURN_IF_ERROR(Read(f.field, type, {{"=", v}}, out.keys));
        }
        break;
      case FilterOp::kGt:
      case FilterOp::kGte:
      case FilterOp::kLt:
      case FilterOp::kLte:
        ARGUS_RETURN_IF_ERROR(Read(f.field, type, {{SqlOp(f.op), f.value}}, out.keys));
        break;
      case FilterOp::kStartsWith: {
        if (type != FieldType::kKeyword) return KeyPlan{};
        // Byte-wise, as std::string::starts_with: the strings in [prefix, PrefixEnd(prefix)).
        std::vector<Bound> bounds = {{">=", f.value}};
        if (auto end = PrefixEnd(f.value.get<std::string>())) bounds.push_back({"<", *end});
        ARGUS_RETURN_IF_ERROR(Read(f.field, type, bounds, out.keys));
        break;
      }
      default:
        return KeyPlan{};  // exists, is_null, contains, text: checked on the documents
    }
    // ne and nin hold for every document without a matching value, those without the field too.
    if (f.op == FilterOp::kNe || f.op == FilterOp::kNin) return Complement(std::move(out.keys));
    return out;
  }

  // Several range conditions of one field under `and` as one index range, when no document
  // holds more than one value of the field (else two values may meet one condition each, and
  // each condition is read on its own). nullopt when they are read one by one.
  Result<std::optional<KeyPlan>> Range(const std::string& field,
                                       const std::vector<const Filter*>& leaves) {
    const FieldType type = types_.at(field);
    KeySet many;
    ARGUS_RETURN_IF_ERROR(Read(field, type, {}, many, /*many=*/true));
    if (!many.isEmpty()) return std::optional<KeyPlan>();
    std::vector<Bound> bounds;
    for (const Filter* leaf : leaves) bounds.push_back({SqlOp(leaf->op), leaf->value});
    KeyPlan out{KeyPlan::Kind::kExact, {}};
    ARGUS_RETURN_IF_ERROR(Read(field, type, bounds, out.keys));
    return std::optional<KeyPlan>(std::move(out));
  }

  // The keys of the field's values that satisfy every bound, or (`many`) of the documents that
  // hold more than one value of it (their marker row: an empty blob, above every other value).
  Status Read(const std::string& field, FieldType type, const std::vector<Bound>& bounds,
              KeySet& out, bool many = false) {
    std::string sql = "SELECT key FROM payload_values WHERE collection_id = ?1 AND field = ?2";
    // Without an upper bound of its own a range would run into the marker rows: stop below them
    // (only then: SQLite takes one upper bound for the index range, and it might take this one).
    const bool bounded = std::any_of(bounds.begin(), bounds.end(), [](const Bound& b) {
      return b.op == "=" || b.op == "<" || b.op == "<=";
    });
    if (many) {
      sql += " AND value = x''";
    } else if (!bounded) {
      sql += " AND value < x''";
    }
    for (size_t i = 0; i < bounds.size(); ++i) {
      sql += fmt::format(" AND value {} ?{}", bounds[i].op, i + 3);
    }
    ARGUS_ASSIGN_OR_RETURN(auto stmt, db_.Prepare(sql, "read payload index"));
    stmt->BindText(1, collection_id_);
    stmt->BindText(2, field);
    for (size_t i = 0; i < bounds.size(); ++i) {
      BindValue(*stmt, static_cast<int>(i) + 3, bounds[i].operand, type);
    }
    return AddKeys(*stmt, out);
  }

  Result<const KeySet*> All() {
    if (!all_.has_value()) {
      ARGUS_ASSIGN_OR_RETURN(all_, AllKeys(db_, collection_id_));
    }
    return &*all_;
  }

  SqliteDatabase& db_;
  std::string collection_id_;
  const FieldTypes& types_;
  std::optional<KeySet> all_;
};

}  // namespace

Json DocumentFilterView(const Document& d) {
  Json view = d.payload.is_object() ? d.payload : Json::object();
  view["object_id"] = d.object_id;
  view["parent_id"] = d.parent_id;
  view["tier"] = d.tier;
  view["unit"] = d.unit;
  return view;
}

FieldTypes PayloadIndexTypes(std::string_view payload_indexes_json) {
  FieldTypes types;
  auto indexes = Json::parse(payload_indexes_json, nullptr, false);
  if (!indexes.is_array()) return types;
  for (const auto& i : indexes) {
    if (!i.is_object()) continue;
    auto type = ParseFieldType(i.value("type", ""));
    if (type.ok()) types.emplace(i.value("field", ""), *type);
  }
  return types;
}

Status WritePayloadValues(SqliteDatabase& w, std::string_view collection_id, uint64_t key,
                          const Json& view, const FieldTypes& types) {
  ARGUS_ASSIGN_OR_RETURN(auto drop, w.Prepare(kDeleteOfKey, "replace payload values"));
  drop->BindInt64(1, static_cast<int64_t>(key));
  ARGUS_RETURN_IF_ERROR(drop->Run());
  if (types.empty()) return OkStatus();
  ARGUS_ASSIGN_OR_RETURN(auto put, w.Prepare(kInsertValue, "write payload values"));
  for (const auto& [field, type] : types) {
    const std::vector<Json> values = IndexedValues(view, field, type);
    for (const Json& v : values) {
      put->BindText(1, collection_id);
      put->BindText(2, field);
      BindValue(*put, 3, v, type);
      put->BindInt64(4, static_cast<int64_t>(key));
      ARGUS_RETURN_IF_ERROR(put->Run());
      put->Reset();
    }
    if (values.size() > 1) {
      // More than one value: an empty blob row says so (every range read stops below it).
      put->BindText(1, collection_id);
      put->BindText(2, field);
      put->BindBlob(3, "");
      put->BindInt64(4, static_cast<int64_t>(key));
      ARGUS_RETURN_IF_ERROR(put->Run());
      put->Reset();
    }
  }
  return OkStatus();
}

Status RebuildPayloadValues(SqliteDatabase& w, std::string_view collection_id) {
  ARGUS_ASSIGN_OR_RETURN(auto indexes, w.Prepare(kIndexesOf, "read payload indexes"));
  indexes->BindText(1, collection_id);
  ARGUS_ASSIGN_OR_RETURN(bool found, indexes->Step());
  if (!found) return OkStatus();  // deleted meanwhile
  const FieldTypes types = PayloadIndexTypes(indexes->ColumnText(0));
  indexes->Reset();
  ARGUS_ASSIGN_OR_RETURN(auto drop, w.Prepare(kDeleteOfCollection, "drop payload values"));
  drop->BindText(1, collection_id);
  ARGUS_RETURN_IF_ERROR(drop->Run());
  if (!types.empty()) {
    ARGUS_ASSIGN_OR_RETURN(auto scan, w.Prepare(kViewsOf, "read payloads"));
    scan->BindText(1, collection_id);
    for (;;) {
      ARGUS_ASSIGN_OR_RETURN(bool row, scan->Step());
      if (!row) break;
      Document d;
      d.payload = Json::parse(scan->ColumnText(1), nullptr, false);
      d.object_id = scan->ColumnText(2);
      d.parent_id = scan->ColumnText(3);
      d.tier = static_cast<int>(scan->ColumnInt64(4));
      d.unit = scan->ColumnText(5);
      ARGUS_RETURN_IF_ERROR(WritePayloadValues(w, collection_id,
                                               static_cast<uint64_t>(scan->ColumnInt64(0)),
                                               DocumentFilterView(d), types));
    }
  }
  ARGUS_ASSIGN_OR_RETURN(auto mark, w.Prepare(kMarkMade, "record payload values"));
  mark->BindText(1, collection_id);
  return mark->Run();
}

Status CatchUpPayloadValues(SqliteDatabase& w) {
  std::vector<std::string> stale;
  {
    ARGUS_ASSIGN_OR_RETURN(auto stmt, w.Prepare(kStale, "find stale payload indexes"));
    for (;;) {
      ARGUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
      if (!row) break;
      stale.push_back(stmt->ColumnText(0));
    }
  }
  for (const std::string& id : stale) {
    ARGUS_ASSIGN_OR_RETURN(auto txn, Transaction::BeginImmediate(w, "build payload indexes"));
    ARGUS_RETURN_IF_ERROR(RebuildPayloadValues(w, id));
    ARGUS_RETURN_IF_ERROR(txn.Commit());
  }
  if (!stale.empty()) {
    log::Info("payload indexes built",
              {{"collections", static_cast<int>(stale.size())}, {"path", w.path()}});
  }
  return OkStatus();
}

Result<KeyPlan> PlanKeys(SqliteDatabase& db, std::string_view collection_id, const Filter& filter,
                         const FieldTypes& types) {
  Planner planner(db, collection_id, types);
  return planner.Plan(filter);
}

Result<KeySet> AllKeys(SqliteDatabase& db, std::string_view collection_id) {
  ARGUS_ASSIGN_OR_RETURN(auto stmt, db.Prepare(kAllKeys, "read document keys"));
  stmt->BindText(1, collection_id);
  KeySet out;
  ARGUS_RETURN_IF_ERROR(AddKeys(*stmt, out));
  return out;
}

}  // namespace argus::store::sqlite
