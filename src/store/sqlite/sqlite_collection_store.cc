// The collections role of SqliteMetadataStore (src/store/collection_store.h) on metadata.db's
// `collections` table (schema v11). The definition's lists are JSON columns; a read joins the
// source's name in.
#include <fmt/format.h>

#include <utility>

#include "store/sqlite/sqlite_collection_rows.h"  // (defined here with the role's methods)
#include "store/sqlite/sqlite_metadata_store.h"
#include "store/sqlite/sqlite_object_rows.h"
#include "store/sqlite/sqlite_payload_values.h"
#include "store/sqlite/store_file.h"

namespace argus::store::sqlite {
namespace {

// The order ReadCollection expects; the last column is the source's name (joined).
#define ARGUS_COLLECTION_COLUMNS                                                   \
  "c.id, c.namespace_id, c.name, c.description, c.source_bucket_id, "              \
  "c.source_collection_id, c.extractors, c.field_passthrough, c.payload_indexes, " \
  "c.auto_process, c.generation, c.created_at, c.updated_at, COALESCE(b.name, p.name, '')"
#define ARGUS_COLLECTION_FROM                                            \
  " FROM collections c LEFT JOIN buckets b ON b.id = c.source_bucket_id" \
  " LEFT JOIN collections p ON p.id = c.source_collection_id"

constexpr std::string_view kInsertCollection =
    "INSERT INTO collections(id, namespace_id, name, description, source_bucket_id,"
    " source_collection_id, extractors, field_passthrough, payload_indexes, auto_process,"
    " generation, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)";
constexpr std::string_view kSelectByName = "SELECT " ARGUS_COLLECTION_COLUMNS ARGUS_COLLECTION_FROM
                                           " WHERE c.namespace_id = ? AND c.name = ?";
constexpr std::string_view kSelectById =
    "SELECT " ARGUS_COLLECTION_COLUMNS ARGUS_COLLECTION_FROM " WHERE c.id = ?";
constexpr std::string_view kList = "SELECT " ARGUS_COLLECTION_COLUMNS ARGUS_COLLECTION_FROM
                                   " WHERE c.namespace_id = ? AND c.id > ? ORDER BY c.id LIMIT ?";
constexpr std::string_view kOfBucket = "SELECT " ARGUS_COLLECTION_COLUMNS ARGUS_COLLECTION_FROM
                                       " WHERE c.source_bucket_id = ? ORDER BY c.id";
constexpr std::string_view kOfCollection = "SELECT " ARGUS_COLLECTION_COLUMNS ARGUS_COLLECTION_FROM
                                           " WHERE c.source_collection_id = ? ORDER BY c.id";
// Unset fields are bound as NULL and keep their value.
constexpr std::string_view kUpdate =
    "UPDATE collections SET description = COALESCE(?1, description),"
    " extractors = COALESCE(?2, extractors), field_passthrough = COALESCE(?3, field_passthrough),"
    " payload_indexes = COALESCE(?4, payload_indexes), auto_process = COALESCE(?5, auto_process),"
    " generation = generation + ?6, updated_at = ?7 WHERE namespace_id = ?8 AND name = ?9"
    " RETURNING id";
constexpr std::string_view kDelete = "DELETE FROM collections WHERE namespace_id = ? AND name = ?";
constexpr std::string_view kDeleteJournal = "DELETE FROM vector_changes WHERE collection_id = ?";
constexpr std::string_view kBucketInNamespace =
    "SELECT 1 FROM buckets WHERE id = ? AND namespace_id = ?";
constexpr std::string_view kCollectionInNamespace =
    "SELECT 1 FROM collections WHERE id = ? AND namespace_id = ?";

#undef ARGUS_COLLECTION_COLUMNS
#undef ARGUS_COLLECTION_FROM

Status CollectionNotFound(std::string_view name) {
  return NotFoundError("collection '" + std::string(name) + "' does not exist");
}

Result<std::string> ExtractorsJson(const std::vector<CollectionExtractor>& extractors) {
  Json out = Json::array();
  for (const auto& e : extractors) {
    out.push_back({{"name", e.name},
                   {"version", e.version},
                   {"params", e.params},
                   {"input_mappings", e.input_mappings},
                   {"vector_storage", std::string(VectorStorageName(e.vector_storage))}});
  }
  return DumpJson(out, "extractors of a collection");
}

Result<std::string> IndexesJson(const std::vector<PayloadIndex>& indexes) {
  Json out = Json::array();
  for (const auto& i : indexes) {
    out.push_back({{"field", i.field}, {"type", std::string(FieldTypeName(i.type))}});
  }
  return DumpJson(out, "payload_indexes of a collection");
}

Result<Json> StoredArray(const Statement& row, int column, std::string_view field,
                         const std::string& id, const std::string& path) {
  auto parsed = Json::parse(row.ColumnText(column), nullptr, false);
  if (parsed.is_discarded() || !parsed.is_array()) {
    return InternalError(
        fmt::format("{} of collection '{}' in {} is not a JSON array", field, id, path));
  }
  return parsed;
}

Result<Collection> ReadCollection(const Statement& row, const std::string& path) {
  Collection c;
  c.id = row.ColumnText(0);
  c.namespace_id = row.ColumnText(1);
  c.name = row.ColumnText(2);
  c.description = row.ColumnText(3);
  if (!row.ColumnIsNull(4)) c.source_bucket_id = row.ColumnText(4);
  if (!row.ColumnIsNull(5)) c.source_collection_id = row.ColumnText(5);
  try {
    ARGUS_ASSIGN_OR_RETURN(Json extractors, StoredArray(row, 6, "extractors", c.id, path));
    for (const auto& e : extractors) {
      ARGUS_ASSIGN_OR_RETURN(VectorStorage storage,
                             ParseVectorStorage(e.value("vector_storage", "f32")));
      c.extractors.push_back({.name = e.at("name").get<std::string>(),
                              .version = e.at("version").get<std::string>(),
                              .params = e.at("params"),
                              .input_mappings = e.at("input_mappings"),
                              .vector_storage = storage});
    }
    ARGUS_ASSIGN_OR_RETURN(Json passthrough, StoredArray(row, 7, "field_passthrough", c.id, path));
    c.field_passthrough = passthrough.get<std::vector<std::string>>();
    ARGUS_ASSIGN_OR_RETURN(Json indexes, StoredArray(row, 8, "payload_indexes", c.id, path));
    for (const auto& i : indexes) {
      ARGUS_ASSIGN_OR_RETURN(FieldType type, ParseFieldType(i.at("type").get<std::string>()));
      c.payload_indexes.push_back({.field = i.at("field").get<std::string>(), .type = type});
    }
  } catch (const Json::exception& e) {
    return InternalError(
        fmt::format("collection '{}' in {} is malformed: {}", c.id, path, e.what()));
  }
  c.auto_process = row.ColumnInt64(9) != 0;
  c.generation = row.ColumnInt64(10);
  c.created_at = row.ColumnInt64(11);
  c.updated_at = row.ColumnInt64(12);
  c.source_name = row.ColumnText(13);
  return c;
}

Result<std::vector<Collection>> ReadAll(Statement& stmt, const std::string& path) {
  std::vector<Collection> out;
  for (;;) {
    ARGUS_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    ARGUS_ASSIGN_OR_RETURN(Collection c, ReadCollection(stmt, path));
    out.push_back(std::move(c));
  }
  return out;
}

Result<std::optional<Collection>> FindByName(SqliteDatabase& db, std::string_view namespace_id,
                                             std::string_view name) {
  ARGUS_ASSIGN_OR_RETURN(auto stmt, db.Prepare(kSelectByName, "get collection"));
  stmt->BindText(1, namespace_id);
  stmt->BindText(2, name);
  ARGUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
  if (!row) return std::optional<Collection>();
  ARGUS_ASSIGN_OR_RETURN(Collection c, ReadCollection(*stmt, db.path()));
  return std::optional<Collection>(std::move(c));
}

Result<bool> Exists(SqliteDatabase& db, std::string_view sql, std::string_view id,
                    std::string_view namespace_id) {
  ARGUS_ASSIGN_OR_RETURN(auto stmt, db.Prepare(sql, "create collection (find source)"));
  stmt->BindText(1, id);
  stmt->BindText(2, namespace_id);
  return stmt->Step();
}

Status CheckCollection(const Collection& c) {
  if (c.name.empty()) return InvalidArgumentError("a collection needs a name");
  if (c.source_bucket_id.empty() == c.source_collection_id.empty()) {
    return InvalidArgumentError("collection '" + c.name +
                                "' needs exactly one source: a bucket or a collection");
  }
  if (c.source_collection_id == c.id) {
    return InvalidArgumentError("collection '" + c.name + "' cannot be its own source");
  }
  return OkStatus();
}

}  // namespace

Result<std::vector<std::string>> CollectionNamesOfSource(SqliteDatabase& db,
                                                         std::string_view source_id,
                                                         bool collection) {
  ARGUS_ASSIGN_OR_RETURN(auto stmt,
                         db.Prepare(collection ? kOfCollection : kOfBucket, "find collections"));
  stmt->BindText(1, source_id);
  ARGUS_ASSIGN_OR_RETURN(auto all, ReadAll(*stmt, db.path()));
  std::vector<std::string> names;
  for (auto& c : all) names.push_back(std::move(c.name));
  return names;
}

std::string QuotedList(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "'" : ", '") + n + "'";
  return out;
}

Result<Collection> SqliteMetadataStore::CreateCollection(const Collection& c) {
  ARGUS_RETURN_IF_ERROR(CheckCollection(c));
  ARGUS_ASSIGN_OR_RETURN(std::string extractors, ExtractorsJson(c.extractors));
  ARGUS_ASSIGN_OR_RETURN(std::string passthrough,
                         DumpJson(Json(c.field_passthrough), "field_passthrough"));
  ARGUS_ASSIGN_OR_RETURN(std::string indexes, IndexesJson(c.payload_indexes));
  return RunWrite(file_->writer(), [&](SqliteDatabase& w) -> Result<Collection> {
    ARGUS_ASSIGN_OR_RETURN(auto txn, Transaction::BeginImmediate(w, "create collection"));
    const bool from_bucket = !c.source_bucket_id.empty();
    ARGUS_ASSIGN_OR_RETURN(
        bool source,
        Exists(w, from_bucket ? kBucketInNamespace : kCollectionInNamespace,
               from_bucket ? c.source_bucket_id : c.source_collection_id, c.namespace_id));
    if (!source) {
      return NotFoundError(fmt::format("the source {} '{}' of collection '{}' does not exist",
                                       from_bucket ? "bucket" : "collection",
                                       from_bucket ? c.source_bucket_id : c.source_collection_id,
                                       c.name));
    }
    ARGUS_ASSIGN_OR_RETURN(auto taken, FindByName(w, c.namespace_id, c.name));
    if (taken.has_value()) {
      return AlreadyExistsError("collection '" + c.name + "' already exists");
    }
    ARGUS_ASSIGN_OR_RETURN(auto stmt, w.Prepare(kInsertCollection, "create collection"));
    stmt->BindText(1, c.id);
    stmt->BindText(2, c.namespace_id);
    stmt->BindText(3, c.name);
    stmt->BindText(4, c.description);
    if (from_bucket) {
      stmt->BindText(5, c.source_bucket_id);
      stmt->BindNull(6);
    } else {
      stmt->BindNull(5);
      stmt->BindText(6, c.source_collection_id);
    }
    stmt->BindText(7, extractors);
    stmt->BindText(8, passthrough);
    stmt->BindText(9, indexes);
    stmt->BindInt64(10, c.auto_process ? 1 : 0);
    stmt->BindInt64(11, c.created_at);
    stmt->BindInt64(12, c.updated_at);
    ARGUS_RETURN_IF_ERROR(stmt->Run());
    ARGUS_RETURN_IF_ERROR(RebuildPayloadValues(w, c.id));  // none yet: records them as made
    ARGUS_ASSIGN_OR_RETURN(auto created, FindByName(w, c.namespace_id, c.name));
    if (!created.has_value()) return InternalError("a created collection was not found");
    ARGUS_RETURN_IF_ERROR(txn.Commit());
    return std::move(*created);
  });
}

Result<Collection> SqliteMetadataStore::GetCollection(std::string_view namespace_id,
                                                      std::string_view name) {
  ARGUS_ASSIGN_OR_RETURN(auto db, readers_.Acquire());
  ARGUS_ASSIGN_OR_RETURN(auto found, FindByName(*db, namespace_id, name));
  if (!found.has_value()) return CollectionNotFound(name);
  return std::move(*found);
}

Result<Collection> SqliteMetadataStore::GetCollectionById(std::string_view id) {
  ARGUS_ASSIGN_OR_RETURN(auto db, readers_.Acquire());
  ARGUS_ASSIGN_OR_RETURN(auto stmt, db->Prepare(kSelectById, "get collection"));
  stmt->BindText(1, id);
  ARGUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
  if (!row) return NotFoundError("collection with id '" + std::string(id) + "' does not exist");
  return ReadCollection(*stmt, db->path());
}

Result<Page<Collection>> SqliteMetadataStore::ListCollections(std::string_view namespace_id,
                                                              const PageRequest& page) {
  ARGUS_RETURN_IF_ERROR(CheckPageRequest(page));
  ARGUS_ASSIGN_OR_RETURN(auto db, readers_.Acquire());
  ARGUS_ASSIGN_OR_RETURN(auto stmt, db->Prepare(kList, "list collections"));
  stmt->BindText(1, namespace_id);
  stmt->BindText(2, page.after_id);
  stmt->BindInt64(3, page.limit + 1);
  const std::string path = db->path();
  return ReadPage<Collection>(*stmt, page.limit,
                              [&path](const Statement& row) { return ReadCollection(row, path); });
}

Result<std::vector<Collection>> SqliteMetadataStore::CollectionsOfSource(std::string_view source_id,
                                                                         bool collection) {
  ARGUS_ASSIGN_OR_RETURN(auto db, readers_.Acquire());
  ARGUS_ASSIGN_OR_RETURN(auto stmt,
                         db->Prepare(collection ? kOfCollection : kOfBucket, "find collections"));
  stmt->BindText(1, source_id);
  return ReadAll(*stmt, db->path());
}

Result<Collection> SqliteMetadataStore::UpdateCollection(std::string_view namespace_id,
                                                         std::string_view name,
                                                         const CollectionUpdate& update,
                                                         TimestampUs now) {
  std::optional<std::string> extractors, passthrough, indexes;
  if (update.extractors) {
    ARGUS_ASSIGN_OR_RETURN(extractors, ExtractorsJson(*update.extractors));
  }
  if (update.field_passthrough) {
    ARGUS_ASSIGN_OR_RETURN(passthrough,
                           DumpJson(Json(*update.field_passthrough), "field_passthrough"));
  }
  if (update.payload_indexes) {
    ARGUS_ASSIGN_OR_RETURN(indexes, IndexesJson(*update.payload_indexes));
  }
  return RunWrite(file_->writer(), [&](SqliteDatabase& w) -> Result<Collection> {
    ARGUS_ASSIGN_OR_RETURN(auto txn, Transaction::BeginImmediate(w, "update collection"));
    ARGUS_ASSIGN_OR_RETURN(auto stmt, w.Prepare(kUpdate, "update collection"));
    stmt->BindOptionalText(1, update.description);
    stmt->BindOptionalText(2, extractors);
    stmt->BindOptionalText(3, passthrough);
    stmt->BindOptionalText(4, indexes);
    if (update.auto_process) {
      stmt->BindInt64(5, *update.auto_process ? 1 : 0);
    } else {
      stmt->BindNull(5);
    }
    stmt->BindInt64(6, update.extractors ? 1 : 0);
    stmt->BindInt64(7, now);
    stmt->BindText(8, namespace_id);
    stmt->BindText(9, name);
    ARGUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) return CollectionNotFound(name);
    const std::string id = stmt->ColumnText(0);
    ARGUS_RETURN_IF_ERROR(stmt->Run());
    // Other payload indexes: their values are made again, in this transaction, so no filter
    // reads values made for the old ones.
    if (update.payload_indexes) ARGUS_RETURN_IF_ERROR(RebuildPayloadValues(w, id));
    ARGUS_ASSIGN_OR_RETURN(auto updated, FindByName(w, namespace_id, name));
    if (!updated.has_value()) return CollectionNotFound(name);
    ARGUS_RETURN_IF_ERROR(txn.Commit());
    return std::move(*updated);
  });
}

Status SqliteMetadataStore::DeleteCollection(std::string_view namespace_id, std::string_view name) {
  return file_->writer().Run([&](SqliteDatabase& w) -> Status {
    ARGUS_ASSIGN_OR_RETURN(auto txn, Transaction::BeginImmediate(w, "delete collection"));
    ARGUS_ASSIGN_OR_RETURN(auto found, FindByName(w, namespace_id, name));
    if (!found.has_value()) return CollectionNotFound(name);
    ARGUS_ASSIGN_OR_RETURN(auto children, CollectionNamesOfSource(w, found->id, true));
    if (!children.empty()) {
      return FailedPreconditionError(
          fmt::format("collection '{}' is the source of collection(s) {}: delete them first", name,
                      QuotedList(children)));
    }
    ARGUS_ASSIGN_OR_RETURN(auto stmt, w.Prepare(kDelete, "delete collection"));
    stmt->BindText(1, namespace_id);
    stmt->BindText(2, name);
    ARGUS_RETURN_IF_ERROR(stmt->Run());
    // Its documents went by cascade; their journal goes with the index files.
    ARGUS_ASSIGN_OR_RETURN(auto journal, w.Prepare(kDeleteJournal, "delete vector changes"));
    journal->BindText(1, found->id);
    ARGUS_RETURN_IF_ERROR(journal->Run());
    return txn.Commit();
  });
}

}  // namespace argus::store::sqlite
