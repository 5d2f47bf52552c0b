// The documents role of SqliteMetadataStore (src/store/document_store.h) on metadata.db's
// `documents`, `document_vectors` and `vector_changes` tables (schema v12). Vectors are rows of
// little-endian f32 blobs; triggers on document_vectors journal every change (cascades from an
// object, a collection or a namespace included) in the same transaction.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "store/sqlite/sqlite_metadata_store.h"
#include "store/sqlite/sqlite_object_rows.h"
#include "store/sqlite/sqlite_payload_values.h"
#include "store/sqlite/store_file.h"

namespace argus::store::sqlite {
namespace {

#define ARGUS_DOCUMENT_COLUMNS                                                                  \
  "key, id, namespace_id, collection_id, source_id, unit, object_id, parent_id, tier, region, " \
  "payload, versions, text, created_at, updated_at"

constexpr std::string_view kCollectionRow =
    "SELECT namespace_id, payload_indexes, payload_values_of FROM collections WHERE id = ?";
constexpr std::string_view kObjectExists = "SELECT 1 FROM objects WHERE id = ?";
constexpr std::string_view kSourceUnits =
    "SELECT unit, key, id, created_at FROM documents WHERE collection_id = ? AND source_id = ?";
constexpr std::string_view kInsert =
    "INSERT INTO documents(" ARGUS_DOCUMENT_COLUMNS
    ") VALUES (NULL, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15) RETURNING key";
constexpr std::string_view kUpdate =
    "UPDATE documents SET object_id = ?7, parent_id = ?8, tier = ?9, region = ?10, payload = ?11,"
    " versions = ?12, text = ?13, updated_at = ?15 WHERE key = ?1";
constexpr std::string_view kDeleteVectorsOf = "DELETE FROM document_vectors WHERE key = ?";
constexpr std::string_view kInsertVector =
    "INSERT INTO document_vectors(key, feature, collection_id, vector) VALUES (?, ?, ?, ?)";
constexpr std::string_view kDeleteByKey = "DELETE FROM documents WHERE key = ?";
constexpr std::string_view kBumpGeneration =
    "UPDATE collections SET generation = generation + 1 WHERE id = ?";
constexpr std::string_view kSelectById =
    "SELECT " ARGUS_DOCUMENT_COLUMNS " FROM documents WHERE collection_id = ? AND id = ?";
constexpr std::string_view kSelectByKey =
    "SELECT " ARGUS_DOCUMENT_COLUMNS " FROM documents WHERE collection_id = ? AND key = ?";
constexpr std::string_view kScan = "SELECT " ARGUS_DOCUMENT_COLUMNS
                                   " FROM documents WHERE collection_id = ? AND key > ?"
                                   " ORDER BY key";
constexpr std::string_view kOfObject = "SELECT " ARGUS_DOCUMENT_COLUMNS
                                       " FROM documents WHERE object_id = ? AND collection_id = ?"
                                       " ORDER BY key";
constexpr std::string_view kOfSource = "SELECT " ARGUS_DOCUMENT_COLUMNS
                                       " FROM documents WHERE collection_id = ? AND source_id = ?"
                                       " ORDER BY unit";
constexpr std::string_view kVectorsOf =
    "SELECT feature, vector FROM document_vectors WHERE key = ? ORDER BY feature";
constexpr std::string_view kVectorOf =
    "SELECT vector FROM document_vectors WHERE key = ? AND feature = ? AND collection_id = ?";
constexpr std::string_view kDeleteById = "DELETE FROM documents WHERE collection_id = ? AND id = ?";
constexpr std::string_view kChanges =
    "SELECT seq, key, feature, removed FROM vector_changes WHERE collection_id = ? AND seq > ?"
    " ORDER BY seq LIMIT ?";
constexpr std::string_view kJournalFloor =
    "SELECT seq FROM vector_journal_floors WHERE collection_id = ?";
constexpr std::string_view kJournalHead =
    "SELECT seq FROM sqlite_sequence WHERE name = 'vector_changes'";
constexpr std::string_view kTrimChanges =
    "DELETE FROM vector_changes WHERE collection_id = ? AND seq <= ?";
constexpr std::string_view kRaiseFloor =
    "INSERT INTO vector_journal_floors(collection_id, seq) VALUES (?1, ?2)"
    " ON CONFLICT(collection_id) DO UPDATE SET seq = max(seq, excluded.seq)";
constexpr std::string_view kScanVectors =
    "SELECT key, vector FROM document_vectors WHERE key > ? AND feature = ? AND collection_id = ?"
    " ORDER BY key LIMIT ?";

constexpr std::string_view kDocumentColumns = ARGUS_DOCUMENT_COLUMNS;

#undef ARGUS_DOCUMENT_COLUMNS

std::string VectorBlob(const std::vector<float>& values) {
  std::string blob(values.size() * sizeof(float), '\0');
  std::memcpy(blob.data(), values.data(), blob.size());
  return blob;
}

Result<std::vector<float>> BlobVector(const std::string& blob, std::string_view where) {
  if (blob.size() % sizeof(float) != 0) {
    return InternalError(
        fmt::format("the vector {} is {} bytes, no whole floats", where, blob.size()));
  }
  std::vector<float> values(blob.size() / sizeof(float));
  std::memcpy(values.data(), blob.data(), blob.size());
  return values;
}

Status CheckDocuments(const std::vector<Document>& docs) {
  std::set<std::string> units;
  for (const auto& d : docs) {
    if (!units.insert(d.unit).second) {
      return InvalidArgumentError("two documents of unit '" + d.unit + "'");
    }
    if (d.id.empty()) return InvalidArgumentError("a document needs an id");
    std::set<std::string> features;
    for (const auto& v : d.vectors) {
      if (v.feature.empty() || v.values.empty() || !features.insert(v.feature).second) {
        return InvalidArgumentError("document of unit '" + d.unit +
                                    "': each vector needs a feature of its own and values");
      }
      for (float x : v.values) {
        if (!std::isfinite(x)) {
          return InvalidArgumentError("vector '" + v.feature + "' of unit '" + d.unit +
                                      "' holds a value that is not finite");
        }
      }
    }
  }
  return OkStatus();
}

// A list's scan in a DocumentOrder, resumable after a cursor. Without a field: by key, the
// cursor a key in decimal. With one: by the field's value (a payload path read by json_extract,
// or a time column), documents without it last, then by key; the cursor is the JSON
// {"order", "descending", "value", "key"} of the last document listed, so a cursor of another
// order is refused rather than misread.
struct OrderedScan {
  DocumentOrder order;
  std::string sql;
  std::string json_path;  // "$.\"a\".\"b\"" for a payload path, "" for a column
  int64_t after_key = 0;
  std::optional<Json> after_value;  // set when resuming after a document with a value
  bool after_null = false;          // resuming among the documents without one

  static Result<OrderedScan> Of(const DocumentOrder& order, const std::string& after) {
    OrderedScan scan;
    scan.order = order;
    if (order.field.empty()) {
      if (!after.empty()) {
        try {
          scan.after_key = std::stoll(after);
        } catch (const std::exception&) {
          return InvalidArgumentError("a document cursor is a key, not '" + after + "'");
        }
      }
      scan.sql = std::string(kScan);
      return scan;
    }
    std::string expr;
    if (order.field == "created_at" || order.field == "updated_at") {
      expr = order.field;
    } else {
      scan.json_path = "$";
      size_t at = 0;
      for (;;) {
        const size_t dot = std::min(order.field.find('.', at), order.field.size());
        const std::string part = order.field.substr(at, dot - at);
        if (part.empty() || part.find('"') != std::string::npos) {
          return InvalidArgumentError("order_by: '" + order.field +
                                      "' is not a payload path (name.name..., no quotes)");
        }
        scan.json_path += ".\"" + part + "\"";
        if (dot == order.field.size()) break;
        at = dot + 1;
      }
      expr = "json_extract(payload, ?2)";
    }
    const char* cmp = order.descending ? "<" : ">";
    std::string resume = "1";
    if (!after.empty()) {
      const Json c = Json::parse(after, nullptr, false);
      if (!c.is_object() || c.value("order", "") != order.field ||
          c.value("descending", !order.descending) != order.descending || !c.contains("key") ||
          !c["key"].is_number_integer() || !c.contains("value")) {
        return InvalidArgumentError("cursor: it was not issued for order_by '" + order.field +
                                    "' of this list");
      }
      scan.after_key = c["key"].get<int64_t>();
      if (c["value"].is_null()) {
        scan.after_null = true;
        resume = fmt::format("(v IS NULL AND key > ?4)");
      } else {
        scan.after_value = c["value"];
        resume = fmt::format("(v IS NULL OR v {} ?3 OR (v = ?3 AND key > ?4))", cmp);
      }
    }
    scan.sql = fmt::format(
        "SELECT * FROM (SELECT {cols}, {expr} AS v FROM documents WHERE collection_id = ?1)"
        " WHERE {resume} ORDER BY v IS NULL, v {dir}, key",
        fmt::arg("cols", kDocumentColumns), fmt::arg("expr", expr), fmt::arg("resume", resume),
        fmt::arg("dir", order.descending ? "DESC" : "ASC"));
    return scan;
  }

  void Bind(Statement& stmt) const {
    if (order.field.empty()) {
      stmt.BindInt64(2, after_key);
      return;
    }
    if (!json_path.empty()) stmt.BindText(2, json_path);
    if (after_value.has_value()) {
      const Json& v = *after_value;
      if (v.is_number_integer()) {
        stmt.BindInt64(3, v.get<int64_t>());
      } else if (v.is_number()) {
        stmt.BindDouble(3, v.get<double>());
      } else if (v.is_string()) {
        stmt.BindText(3, v.get<std::string>());
      } else if (v.is_boolean()) {
        stmt.BindInt64(3, v.get<bool>() ? 1 : 0);
      } else {
        stmt.BindText(3, v.dump());
      }
    }
    if (after_value.has_value() || after_null) stmt.BindInt64(4, after_key);
  }

  // The value the scan sorted `d` by, as json_extract reads it (true/false as 1/0, arrays and
  // objects as their JSON text).
  Json ValueOf(const Document& d) const {
    if (order.field == "created_at") return d.created_at;
    if (order.field == "updated_at") return d.updated_at;
    const Json* v = FindPath(d.payload, order.field);
    if (v == nullptr || v->is_null()) return nullptr;
    if (v->is_boolean()) return v->get<bool>() ? 1 : 0;
    if (v->is_structured()) return v->dump();
    return *v;
  }

  std::string CursorAfter(const Document& d) const {
    if (order.field.empty()) return std::to_string(d.key);
    return Json{{"order", order.field},
                {"descending", order.descending},
                {"value", ValueOf(d)},
                {"key", d.key}}
        .dump();
  }
};

struct CollectionInfo {
  std::string namespace_id;
  FieldTypes types;
  bool indexed = false;  ///< its payload values are up to date for `types`
};

Result<CollectionInfo> FindCollection(SqliteDatabase& db, std::string_view collection_id) {
  ARGUS_ASSIGN_OR_RETURN(auto stmt, db.Prepare(kCollectionRow, "find collection"));
  stmt->BindText(1, collection_id);
  ARGUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
  if (!row) {
    return NotFoundError("collection with id '" + std::string(collection_id) + "' does not exist");
  }
  const std::string indexes = stmt->ColumnText(1);
  return CollectionInfo{.namespace_id = stmt->ColumnText(0),
                        .types = PayloadIndexTypes(indexes),
                        .indexed = stmt->ColumnText(2) == indexes};
}

Result<Document> ReadDocument(const Statement& row, const std::string& path) {
  Document d;
  d.key = static_cast<uint64_t>(row.ColumnInt64(0));
  d.id = row.ColumnText(1);
  d.namespace_id = row.ColumnText(2);
  d.collection_id = row.ColumnText(3);
  d.source_id = row.ColumnText(4);
  d.unit = row.ColumnText(5);
  d.object_id = row.ColumnText(6);
  d.parent_id = row.ColumnText(7);
  d.tier = static_cast<int>(row.ColumnInt64(8));
  int column = 9;
  for (Json* field : {&d.region, &d.payload, &d.versions}) {
    auto parsed = Json::parse(row.ColumnText(column), nullptr, false);
    if (parsed.is_discarded()) {
      return InternalError(
          fmt::format("document '{}' in {} has malformed JSON in column {}", d.id, path, column));
    }
    *field = std::move(parsed);
    ++column;
  }
  d.text = row.ColumnText(12);
  d.created_at = row.ColumnInt64(13);
  d.updated_at = row.ColumnInt64(14);
  return d;
}

Status ReadVectorsOf(SqliteDatabase& db, Document& d) {
  ARGUS_ASSIGN_OR_RETURN(auto stmt, db.Prepare(kVectorsOf, "read document vectors"));
  stmt->BindInt64(1, static_cast<int64_t>(d.key));
  for (;;) {
    ARGUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    DocumentVector v{.feature = stmt->ColumnText(0)};
    ARGUS_ASSIGN_OR_RETURN(v.values, BlobVector(stmt->ColumnBlob(1), "of document " + d.id));
    d.vectors.push_back(std::move(v));
  }
  return OkStatus();
}

// Every row of `sql` (two text parameters) as documents, with their vectors when asked.
Result<std::vector<Document>> ReadDocuments(SqliteDatabase& db, std::string_view sql,
                                            std::string_view first, std::string_view second,
                                            bool with_vectors) {
  ARGUS_ASSIGN_OR_RETURN(auto stmt, db.Prepare(sql, "read documents"));
  stmt->BindText(1, first);
  stmt->BindText(2, second);
  std::vector<Document> out;
  for (;;) {
    ARGUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    ARGUS_ASSIGN_OR_RETURN(Document d, ReadDocument(*stmt, db.path()));
    out.push_back(std::move(d));
  }
  if (with_vectors) {
    for (Document& d : out) ARGUS_RETURN_IF_ERROR(ReadVectorsOf(db, d));
  }
  return out;
}

// Writes one document's row and vectors; `existing` is its unit's row when there is one.
Status WriteDocument(SqliteDatabase& w, const CollectionInfo& info, std::string_view collection_id,
                     std::string_view source_id, Document& d,
                     const std::optional<std::tuple<int64_t, std::string, TimestampUs>>& existing,
                     TimestampUs now) {
  ARGUS_ASSIGN_OR_RETURN(std::string region, DumpJson(d.region, "region of a document"));
  ARGUS_ASSIGN_OR_RETURN(std::string payload, DumpJson(d.payload, "payload of a document"));
  ARGUS_ASSIGN_OR_RETURN(std::string versions, DumpJson(d.versions, "versions of a document"));
  d.namespace_id = info.namespace_id;
  d.collection_id = std::string(collection_id);
  d.source_id = std::string(source_id);
  d.updated_at = now;
  if (existing.has_value()) {
    d.key = static_cast<uint64_t>(std::get<0>(*existing));
    d.id = std::get<1>(*existing);
    d.created_at = std::get<2>(*existing);
  } else {
    d.created_at = now;
  }
  ARGUS_ASSIGN_OR_RETURN(auto stmt, w.Prepare(existing ? kUpdate : kInsert, "write document"));
  if (existing) stmt->BindInt64(1, static_cast<int64_t>(d.key));
  if (!existing) {
    stmt->BindText(2, d.id);
    stmt->BindText(3, d.namespace_id);
    stmt->BindText(4, collection_id);
    stmt->BindText(5, source_id);
    stmt->BindText(6, d.unit);
    stmt->BindInt64(14, d.created_at);
  }
  stmt->BindText(7, d.object_id);
  stmt->BindText(8, d.parent_id);
  stmt->BindInt64(9, d.tier);
  stmt->BindText(10, region);
  stmt->BindText(11, payload);
  stmt->BindText(12, versions);
  stmt->BindText(13, d.text);
  stmt->BindInt64(15, now);
  if (existing) {
    ARGUS_RETURN_IF_ERROR(stmt->Run());
    ARGUS_ASSIGN_OR_RETURN(auto drop, w.Prepare(kDeleteVectorsOf, "replace document vectors"));
    drop->BindInt64(1, static_cast<int64_t>(d.key));
    ARGUS_RETURN_IF_ERROR(drop->Run());
  } else {
    ARGUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) return InternalError("inserting a document returned no key");
    d.key = static_cast<uint64_t>(stmt->ColumnInt64(0));
    ARGUS_RETURN_IF_ERROR(stmt->Run());
  }
  ARGUS_ASSIGN_OR_RETURN(auto put, w.Prepare(kInsertVector, "write document vectors"));
  for (const auto& v : d.vectors) {
    put->BindInt64(1, static_cast<int64_t>(d.key));
    put->BindText(2, v.feature);
    put->BindText(3, collection_id);
    put->BindBlob(4, VectorBlob(v.values));
    ARGUS_RETURN_IF_ERROR(put->Run());
    put->Reset();
  }
  return WritePayloadValues(w, collection_id, d.key, DocumentFilterView(d), info.types);
}

Status BumpGeneration(SqliteDatabase& w, std::string_view collection_id) {
  ARGUS_ASSIGN_OR_RETURN(auto stmt, w.Prepare(kBumpGeneration, "bump collection generation"));
  stmt->BindText(1, collection_id);
  return stmt->Run();
}

}  // namespace

Result<std::vector<Document>> SqliteMetadataStore::ReplaceSourceDocuments(
    std::string_view collection_id, std::string_view source_id, const std::vector<Document>& docs,
    TimestampUs now) {
  ARGUS_RETURN_IF_ERROR(CheckDocuments(docs));
  return RunWrite(file_->writer(), [&](SqliteDatabase& w) -> Result<std::vector<Document>> {
    ARGUS_ASSIGN_OR_RETURN(auto txn, Transaction::BeginImmediate(w, "replace documents"));
    ARGUS_ASSIGN_OR_RETURN(CollectionInfo info, FindCollection(w, collection_id));
    // An object deleted while its documents were being made: nothing to write them for.
    std::set<std::string> objects;
    for (const auto& d : docs) objects.insert(d.object_id);
    ARGUS_ASSIGN_OR_RETURN(auto object_exists, w.Prepare(kObjectExists, "find object"));
    for (const auto& id : objects) {
      object_exists->BindText(1, id);
      ARGUS_ASSIGN_OR_RETURN(bool found, object_exists->Step());
      object_exists->Reset();
      if (!found) return NotFoundError("object with id '" + id + "' does not exist (deleted?)");
    }
    std::map<std::string, std::tuple<int64_t, std::string, TimestampUs>> existing;
    {
      ARGUS_ASSIGN_OR_RETURN(auto stmt, w.Prepare(kSourceUnits, "read a source's documents"));
      stmt->BindText(1, collection_id);
      stmt->BindText(2, source_id);
      for (;;) {
        ARGUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
        if (!row) break;
        existing.emplace(
            stmt->ColumnText(0),
            std::make_tuple(stmt->ColumnInt64(1), stmt->ColumnText(2), stmt->ColumnInt64(3)));
      }
    }
    std::vector<Document> written = docs;
    for (Document& d : written) {
      auto it = existing.find(d.unit);
      std::optional<std::tuple<int64_t, std::string, TimestampUs>> found;
      if (it != existing.end()) {
        found = it->second;
        existing.erase(it);
      }
      ARGUS_RETURN_IF_ERROR(WriteDocument(w, info, collection_id, source_id, d, found, now));
    }
    // Units no longer found: their vectors go by cascade (the trigger journals them).
    ARGUS_ASSIGN_OR_RETURN(auto drop, w.Prepare(kDeleteByKey, "delete stale documents"));
    for (const auto& [unit, row] : existing) {
      drop->BindInt64(1, std::get<0>(row));
      ARGUS_RETURN_IF_ERROR(drop->Run());
      drop->Reset();
    }
    ARGUS_RETURN_IF_ERROR(BumpGeneration(w, collection_id));
    ARGUS_RETURN_IF_ERROR(txn.Commit());
    return written;
  });
}

Result<Document> SqliteMetadataStore::GetDocument(std::string_view collection_id,
                                                  std::string_view id, bool with_vectors) {
  ARGUS_ASSIGN_OR_RETURN(auto db, readers_.Acquire());
  ARGUS_ASSIGN_OR_RETURN(auto stmt, db->Prepare(kSelectById, "get document"));
  stmt->BindText(1, collection_id);
  stmt->BindText(2, id);
  ARGUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
  if (!row) return NotFoundError("document '" + std::string(id) + "' does not exist");
  ARGUS_ASSIGN_OR_RETURN(Document d, ReadDocument(*stmt, db->path()));
  if (with_vectors) ARGUS_RETURN_IF_ERROR(ReadVectorsOf(*db, d));
  return d;
}

Result<std::vector<Document>> SqliteMetadataStore::GetDocumentsByKey(
    std::string_view collection_id, const std::vector<uint64_t>& keys, bool with_vectors) {
  ARGUS_ASSIGN_OR_RETURN(auto db, readers_.Acquire());
  ARGUS_ASSIGN_OR_RETURN(auto stmt, db->Prepare(kSelectByKey, "get documents"));
  std::vector<Document> out;
  for (uint64_t key : keys) {
    stmt->BindText(1, collection_id);
    stmt->BindInt64(2, static_cast<int64_t>(key));
    ARGUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (row) {
      ARGUS_ASSIGN_OR_RETURN(Document d, ReadDocument(*stmt, db->path()));
      out.push_back(std::move(d));
    }
    stmt->Reset();
  }
  if (with_vectors) {
    for (Document& d : out) ARGUS_RETURN_IF_ERROR(ReadVectorsOf(*db, d));
  }
  return out;
}

Result<std::vector<Document>> SqliteMetadataStore::DocumentsOfObject(std::string_view collection_id,
                                                                     std::string_view object_id,
                                                                     bool with_vectors) {
  ARGUS_ASSIGN_OR_RETURN(auto db, readers_.Acquire());
  return ReadDocuments(*db, kOfObject, object_id, collection_id, with_vectors);
}

namespace {

// The keys of the documents that match `filter`, read through the payload indexes; nullopt when
// they do not narrow it (the caller scans). The documents of a superset are checked one by one.
Result<std::optional<KeySet>> IndexedMatches(SqliteDatabase& db, const CollectionInfo& info,
                                             std::string_view collection_id, const Filter& filter) {
  if (filter.MatchesAll() || !info.indexed) return std::optional<KeySet>();
  ARGUS_ASSIGN_OR_RETURN(KeyPlan plan, PlanKeys(db, collection_id, filter, info.types));
  if (plan.kind == KeyPlan::Kind::kUnknown) return std::optional<KeySet>();
  if (plan.kind == KeyPlan::Kind::kSuperset) {
    ARGUS_ASSIGN_OR_RETURN(auto stmt, db.Prepare(kSelectByKey, "check documents"));
    KeySet matching;
    for (uint64_t key : plan.keys) {
      stmt->BindText(1, collection_id);
      stmt->BindInt64(2, static_cast<int64_t>(key));
      ARGUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
      if (row) {
        ARGUS_ASSIGN_OR_RETURN(Document d, ReadDocument(*stmt, db.path()));
        if (Matches(filter, DocumentFilterView(d), info.types)) matching.add(key);
      }
      stmt->Reset();
    }
    plan.keys = std::move(matching);
  }
  return std::optional<KeySet>(std::move(plan.keys));
}

}  // namespace

Result<Page<Document>> SqliteMetadataStore::ListDocuments(std::string_view collection_id,
                                                          const Filter& filter,
                                                          const PageRequest& page,
                                                          bool with_vectors,
                                                          const DocumentOrder& order) {
  ARGUS_RETURN_IF_ERROR(CheckPageRequest(page));
  ARGUS_ASSIGN_OR_RETURN(OrderedScan scan, OrderedScan::Of(order, page.after_id));
  ARGUS_ASSIGN_OR_RETURN(auto db, readers_.Acquire());
  ARGUS_ASSIGN_OR_RETURN(CollectionInfo info, FindCollection(*db, collection_id));
  ARGUS_ASSIGN_OR_RETURN(auto indexed, IndexedMatches(*db, info, collection_id, filter));
  Page<Document> out;
  if (indexed.has_value() && order.field.empty()) {
    // In key order: read only the matching documents, from the cursor on.
    ARGUS_ASSIGN_OR_RETURN(auto stmt, db->Prepare(kSelectByKey, "list documents"));
    for (uint64_t key : *indexed) {
      if (static_cast<int64_t>(key) <= scan.after_key) continue;
      if (static_cast<int>(out.items.size()) == page.limit) {
        out.next_after_id = scan.CursorAfter(out.items.back());
        break;
      }
      stmt->BindText(1, collection_id);
      stmt->BindInt64(2, static_cast<int64_t>(key));
      ARGUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
      if (row) {
        ARGUS_ASSIGN_OR_RETURN(Document d, ReadDocument(*stmt, db->path()));
        out.items.push_back(std::move(d));
      }
      stmt->Reset();
    }
    if (with_vectors) {
      for (Document& d : out.items) ARGUS_RETURN_IF_ERROR(ReadVectorsOf(*db, d));
    }
    return out;
  }
  ARGUS_ASSIGN_OR_RETURN(auto stmt, db->Prepare(scan.sql, "list documents"));
  stmt->BindText(1, collection_id);
  scan.Bind(*stmt);
  for (;;) {
    ARGUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    ARGUS_ASSIGN_OR_RETURN(Document d, ReadDocument(*stmt, db->path()));
    const bool match = indexed.has_value() ? indexed->contains(d.key)
                                           : filter.MatchesAll() ||
                                                 Matches(filter, DocumentFilterView(d), info.types);
    if (!match) continue;
    if (static_cast<int>(out.items.size()) == page.limit) {
      out.next_after_id = scan.CursorAfter(out.items.back());
      break;
    }
    out.items.push_back(std::move(d));
  }
  if (with_vectors) {
    for (Document& d : out.items) ARGUS_RETURN_IF_ERROR(ReadVectorsOf(*db, d));
  }
  return out;
}

Result<std::vector<uint64_t>> SqliteMetadataStore::MatchingKeys(std::string_view collection_id,
                                                                const Filter& filter) {
  ARGUS_ASSIGN_OR_RETURN(auto db, readers_.Acquire());
  ARGUS_ASSIGN_OR_RETURN(CollectionInfo info, FindCollection(*db, collection_id));
  std::optional<KeySet> indexed;
  if (filter.MatchesAll()) {
    ARGUS_ASSIGN_OR_RETURN(indexed, AllKeys(*db, collection_id));
  } else {
    ARGUS_ASSIGN_OR_RETURN(indexed, IndexedMatches(*db, info, collection_id, filter));
  }
  std::vector<uint64_t> keys;
  if (indexed.has_value()) {
    keys.resize(indexed->cardinality());
    indexed->toUint64Array(keys.data());
    return keys;
  }
  ARGUS_ASSIGN_OR_RETURN(auto stmt, db->Prepare(kScan, "select document keys"));
  stmt->BindText(1, collection_id);
  stmt->BindInt64(2, 0);
  for (;;) {
    ARGUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    ARGUS_ASSIGN_OR_RETURN(Document d, ReadDocument(*stmt, db->path()));
    if (Matches(filter, DocumentFilterView(d), info.types)) keys.push_back(d.key);
  }
  return keys;
}

Result<std::vector<Document>> SqliteMetadataStore::DocumentsOfSource(std::string_view collection_id,
                                                                     std::string_view source_id) {
  ARGUS_ASSIGN_OR_RETURN(auto db, readers_.Acquire());
  return ReadDocuments(*db, kOfSource, collection_id, source_id, false);
}

Result<std::map<std::string, std::vector<FacetValue>>> SqliteMetadataStore::Facets(
    std::string_view collection_id, const Filter& filter, const std::vector<std::string>& fields,
    int max_values) {
  ARGUS_ASSIGN_OR_RETURN(auto db, readers_.Acquire());
  ARGUS_ASSIGN_OR_RETURN(CollectionInfo info, FindCollection(*db, collection_id));
  ARGUS_ASSIGN_OR_RETURN(auto indexed, IndexedMatches(*db, info, collection_id, filter));
  // The matching documents by key when the payload indexes know them, else the whole scan.
  ARGUS_ASSIGN_OR_RETURN(auto stmt,
                         db->Prepare(indexed.has_value() ? kSelectByKey : kScan, "count facets"));
  std::optional<KeySet::const_iterator> next;
  if (indexed.has_value()) next = indexed->begin();
  auto step = [&]() -> Result<bool> {
    if (!indexed.has_value()) return stmt->Step();
    for (;;) {
      stmt->Reset();
      if (*next == indexed->end()) return false;
      stmt->BindText(1, collection_id);
      stmt->BindInt64(2, static_cast<int64_t>(**next));
      ++*next;
      ARGUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
      if (row) return true;
    }
  };
  if (!indexed.has_value()) {
    stmt->BindText(1, collection_id);
    stmt->BindInt64(2, 0);
  }
  // Values keyed by their JSON text: 1 and "1" are different values.
  std::map<std::string, std::map<std::string, int64_t>> counts;
  for (;;) {
    ARGUS_ASSIGN_OR_RETURN(bool row, step());
    if (!row) break;
    ARGUS_ASSIGN_OR_RETURN(Document d, ReadDocument(*stmt, db->path()));
    const Json view = DocumentFilterView(d);
    if (!indexed.has_value() && !filter.MatchesAll() && !Matches(filter, view, info.types)) {
      continue;
    }
    for (const auto& field : fields) {
      const Json* v = FindPath(view, field);
      if (v == nullptr) continue;
      auto count = [&](const Json& x) {
        if (x.is_primitive() && !x.is_null()) ++counts[field][x.dump()];
      };
      if (v->is_array()) {
        for (const auto& x : *v) count(x);
      } else {
        count(*v);
      }
    }
  }
  std::map<std::string, std::vector<FacetValue>> out;
  for (const auto& field : fields) {
    std::vector<FacetValue>& values = out[field];
    for (const auto& [text, n] : counts[field]) values.push_back({Json::parse(text), n});
    std::stable_sort(values.begin(), values.end(),
                     [](const FacetValue& a, const FacetValue& b) { return a.count > b.count; });
    if (static_cast<int>(values.size()) > max_values) values.resize(max_values);
  }
  return out;
}

Status SqliteMetadataStore::DeleteDocument(std::string_view collection_id, std::string_view id) {
  return file_->writer().Run([&](SqliteDatabase& w) -> Status {
    ARGUS_ASSIGN_OR_RETURN(auto txn, Transaction::BeginImmediate(w, "delete document"));
    ARGUS_ASSIGN_OR_RETURN(auto stmt, w.Prepare(kDeleteById, "delete document"));
    stmt->BindText(1, collection_id);
    stmt->BindText(2, id);
    ARGUS_RETURN_IF_ERROR(stmt->Run());
    if (stmt->Changes() == 0) {
      return NotFoundError("document '" + std::string(id) + "' does not exist");
    }
    return txn.Commit();  // the removal trigger moved the collection's generation
  });
}

Result<std::vector<VectorChange>> SqliteMetadataStore::VectorChangesSince(
    std::string_view collection_id, int64_t after_seq, int limit) {
  ARGUS_ASSIGN_OR_RETURN(auto db, readers_.Acquire());
  ARGUS_ASSIGN_OR_RETURN(auto stmt, db->Prepare(kChanges, "read vector changes"));
  stmt->BindText(1, collection_id);
  stmt->BindInt64(2, after_seq);
  stmt->BindInt64(3, limit);
  std::vector<VectorChange> out;
  for (;;) {
    ARGUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    out.push_back({.seq = stmt->ColumnInt64(0),
                   .key = static_cast<uint64_t>(stmt->ColumnInt64(1)),
                   .feature = stmt->ColumnText(2),
                   .removed = stmt->ColumnInt64(3) != 0});
  }
  // The floor is read after the changes: a trim before or while they were read shows here.
  ARGUS_ASSIGN_OR_RETURN(auto floor, db->Prepare(kJournalFloor, "read vector journal floor"));
  floor->BindText(1, collection_id);
  ARGUS_ASSIGN_OR_RETURN(bool trimmed, floor->Step());
  if (trimmed && floor->ColumnInt64(0) > after_seq) {
    return OutOfRangeError(
        fmt::format("the vector journal of collection {} was trimmed through {}, after {}: rebuild",
                    collection_id, floor->ColumnInt64(0), after_seq));
  }
  return out;
}

Result<std::vector<std::pair<uint64_t, std::vector<float>>>> SqliteMetadataStore::ReadVectors(
    std::string_view collection_id, std::string_view feature, const std::vector<uint64_t>& keys) {
  ARGUS_ASSIGN_OR_RETURN(auto db, readers_.Acquire());
  ARGUS_ASSIGN_OR_RETURN(auto stmt, db->Prepare(kVectorOf, "read vectors"));
  std::vector<std::pair<uint64_t, std::vector<float>>> out;
  for (uint64_t key : keys) {
    stmt->BindInt64(1, static_cast<int64_t>(key));
    stmt->BindText(2, feature);
    stmt->BindText(3, collection_id);
    ARGUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (row) {
      ARGUS_ASSIGN_OR_RETURN(auto values,
                             BlobVector(stmt->ColumnBlob(0), "of key " + std::to_string(key)));
      out.emplace_back(key, std::move(values));
    }
    stmt->Reset();
  }
  return out;
}

Result<int64_t> SqliteMetadataStore::VectorJournalHead() {
  ARGUS_ASSIGN_OR_RETURN(auto db, readers_.Acquire());
  ARGUS_ASSIGN_OR_RETURN(auto stmt, db->Prepare(kJournalHead, "read vector journal head"));
  ARGUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
  return row ? stmt->ColumnInt64(0) : 0;
}

Status SqliteMetadataStore::TrimVectorChanges(std::string_view collection_id, int64_t through_seq) {
  return file_->writer().Run([&](SqliteDatabase& w) -> Status {
    ARGUS_ASSIGN_OR_RETURN(auto txn, Transaction::BeginImmediate(w, "trim vector changes"));
    ARGUS_ASSIGN_OR_RETURN(auto trim, w.Prepare(kTrimChanges, "trim vector changes"));
    trim->BindText(1, collection_id);
    trim->BindInt64(2, through_seq);
    ARGUS_RETURN_IF_ERROR(trim->Run());
    ARGUS_ASSIGN_OR_RETURN(auto floor, w.Prepare(kRaiseFloor, "raise vector journal floor"));
    floor->BindText(1, collection_id);
    floor->BindInt64(2, through_seq);
    ARGUS_RETURN_IF_ERROR(floor->Run());
    return txn.Commit();
  });
}

Result<std::vector<std::pair<uint64_t, std::vector<float>>>> SqliteMetadataStore::ScanVectors(
    std::string_view collection_id, std::string_view feature, uint64_t after_key, int limit) {
  ARGUS_ASSIGN_OR_RETURN(auto db, readers_.Acquire());
  ARGUS_ASSIGN_OR_RETURN(auto stmt, db->Prepare(kScanVectors, "scan vectors"));
  stmt->BindInt64(1, static_cast<int64_t>(after_key));
  stmt->BindText(2, feature);
  stmt->BindText(3, collection_id);
  stmt->BindInt64(4, limit);
  std::vector<std::pair<uint64_t, std::vector<float>>> out;
  for (;;) {
    ARGUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    const auto key = static_cast<uint64_t>(stmt->ColumnInt64(0));
    ARGUS_ASSIGN_OR_RETURN(auto values,
                           BlobVector(stmt->ColumnBlob(1), "of key " + std::to_string(key)));
    out.emplace_back(key, std::move(values));
  }
  return out;
}

}  // namespace argus::store::sqlite
