// The batches role of SqliteMetadataStore (src/store/batch_store.h) on metadata.db's `batches`
// table (schema v14); batch.* events are appended in the transaction of the update they report.
#include <fmt/format.h>

#include <utility>

#include "store/event_log.h"
#include "store/sqlite/sqlite_event_rows.h"
#include "store/sqlite/sqlite_metadata_store.h"
#include "store/sqlite/sqlite_object_rows.h"
#include "store/sqlite/store_file.h"

namespace argus::store::sqlite {
namespace {

#define ARGUS_BATCH_COLUMNS                                                              \
  "t.id, t.namespace_id, t.bucket_id, b.name, t.selection, t.collection_ids, t.status, " \
  "t.objects, t.progress, t.created_at, t.updated_at, t.submitted_at, t.finished_at"
#define ARGUS_BATCH_FROM " FROM batches t JOIN buckets b ON b.id = t.bucket_id"

constexpr std::string_view kInsert =
    "INSERT INTO batches(id, namespace_id, bucket_id, selection, collection_ids, status, objects,"
    " progress, created_at, updated_at, submitted_at, finished_at)"
    " SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 0, 0"
    " WHERE EXISTS (SELECT 1 FROM buckets WHERE id = ?3 AND namespace_id = ?2)";
constexpr std::string_view kSelect =
    "SELECT " ARGUS_BATCH_COLUMNS ARGUS_BATCH_FROM " WHERE t.namespace_id = ? AND t.id = ?";
constexpr std::string_view kList = "SELECT " ARGUS_BATCH_COLUMNS ARGUS_BATCH_FROM
                                   " WHERE t.namespace_id = ? AND t.bucket_id = ? AND t.id > ?"
                                   " ORDER BY t.id LIMIT ?";
// Unset fields are bound as NULL and keep their value.
constexpr std::string_view kUpdate =
    "UPDATE batches SET status = COALESCE(?1, status), objects = COALESCE(?2, objects),"
    " progress = COALESCE(?3, progress), submitted_at = COALESCE(?4, submitted_at),"
    " finished_at = COALESCE(?5, finished_at), updated_at = ?6"
    " WHERE namespace_id = ?7 AND id = ?8";
constexpr std::string_view kDelete = "DELETE FROM batches WHERE namespace_id = ? AND id = ?";

#undef ARGUS_BATCH_COLUMNS
#undef ARGUS_BATCH_FROM

Status BatchNotFound(std::string_view id) {
  return NotFoundError("batch '" + std::string(id) + "' does not exist");
}

Result<Batch> ReadBatch(const Statement& row, const std::string& path) {
  Batch b;
  b.id = row.ColumnText(0);
  b.namespace_id = row.ColumnText(1);
  b.bucket_id = row.ColumnText(2);
  b.bucket_name = row.ColumnText(3);
  Json ids;
  int column = 4;
  for (Json* field : {&b.selection, &ids}) {
    *field = Json::parse(row.ColumnText(column), nullptr, false);
    if (field->is_discarded()) {
      return InternalError(
          fmt::format("batch '{}' in {} has malformed JSON in column {}", b.id, path, column));
    }
    ++column;
  }
  if (ids.is_array()) {
    for (const auto& id : ids) {
      if (id.is_string()) b.collection_ids.push_back(id);
    }
  }
  ARGUS_ASSIGN_OR_RETURN(b.status, ParseBatchStatus(row.ColumnText(6)));
  b.objects = row.ColumnInt64(7);
  b.progress = Json::parse(row.ColumnText(8), nullptr, false);
  if (b.progress.is_discarded()) b.progress = Json::object();
  b.created_at = row.ColumnInt64(9);
  b.updated_at = row.ColumnInt64(10);
  b.submitted_at = row.ColumnInt64(11);
  b.finished_at = row.ColumnInt64(12);
  return b;
}

Result<Batch> SelectBatch(SqliteDatabase& db, std::string_view namespace_id, std::string_view id) {
  ARGUS_ASSIGN_OR_RETURN(auto stmt, db.Prepare(kSelect, "get batch"));
  stmt->BindText(1, namespace_id);
  stmt->BindText(2, id);
  ARGUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
  if (!row) return BatchNotFound(id);
  return ReadBatch(*stmt, db.path());
}

}  // namespace

Result<Batch> SqliteMetadataStore::CreateBatch(const Batch& batch) {
  ARGUS_ASSIGN_OR_RETURN(std::string selection, DumpJson(batch.selection, "batch selection"));
  ARGUS_ASSIGN_OR_RETURN(std::string ids,
                         DumpJson(Json(batch.collection_ids), "batch collections"));
  ARGUS_ASSIGN_OR_RETURN(std::string progress, DumpJson(batch.progress, "batch progress"));
  return RunWrite(file_->writer(), [&](SqliteDatabase& w) -> Result<Batch> {
    ARGUS_ASSIGN_OR_RETURN(auto txn, Transaction::BeginImmediate(w, "create batch"));
    ARGUS_ASSIGN_OR_RETURN(auto stmt, w.Prepare(kInsert, "create batch"));
    stmt->BindText(1, batch.id);
    stmt->BindText(2, batch.namespace_id);
    stmt->BindText(3, batch.bucket_id);
    stmt->BindText(4, selection);
    stmt->BindText(5, ids);
    stmt->BindText(6, BatchStatusName(batch.status));
    stmt->BindInt64(7, batch.objects);
    stmt->BindText(8, progress);
    stmt->BindInt64(9, batch.created_at);
    stmt->BindInt64(10, batch.updated_at);
    ARGUS_RETURN_IF_ERROR(stmt->Run());
    if (stmt->Changes() == 0) {
      return NotFoundError("bucket with id '" + batch.bucket_id + "' is not in the namespace");
    }
    ARGUS_ASSIGN_OR_RETURN(Batch created, SelectBatch(w, batch.namespace_id, batch.id));
    ARGUS_RETURN_IF_ERROR(txn.Commit());
    return created;
  });
}

Result<Batch> SqliteMetadataStore::GetBatch(std::string_view namespace_id, std::string_view id) {
  ARGUS_ASSIGN_OR_RETURN(auto db, readers_.Acquire());
  return SelectBatch(*db, namespace_id, id);
}

Result<Page<Batch>> SqliteMetadataStore::ListBatches(std::string_view namespace_id,
                                                     std::string_view bucket_id,
                                                     const PageRequest& page) {
  ARGUS_RETURN_IF_ERROR(CheckPageRequest(page));
  ARGUS_ASSIGN_OR_RETURN(auto db, readers_.Acquire());
  ARGUS_ASSIGN_OR_RETURN(auto stmt, db->Prepare(kList, "list batches"));
  stmt->BindText(1, namespace_id);
  stmt->BindText(2, bucket_id);
  stmt->BindText(3, page.after_id);
  stmt->BindInt64(4, page.limit + 1);
  const std::string path = db->path();
  return ReadPage<Batch>(*stmt, page.limit,
                         [&path](const Statement& row) { return ReadBatch(row, path); });
}

Result<Batch> SqliteMetadataStore::UpdateBatch(std::string_view namespace_id, std::string_view id,
                                               const BatchUpdate& update, TimestampUs now) {
  std::optional<std::string> progress;
  if (update.progress) {
    ARGUS_ASSIGN_OR_RETURN(progress, DumpJson(*update.progress, "batch progress"));
  }
  return RunWrite(file_->writer(), [&](SqliteDatabase& w) -> Result<Batch> {
    ARGUS_ASSIGN_OR_RETURN(auto txn, Transaction::BeginImmediate(w, "update batch"));
    if (update.only_from) {
      ARGUS_ASSIGN_OR_RETURN(Batch current, SelectBatch(w, namespace_id, id));
      if (current.status != *update.only_from) {
        return FailedPreconditionError(fmt::format("batch '{}' is {}, not {}", id,
                                                   BatchStatusName(current.status),
                                                   BatchStatusName(*update.only_from)));
      }
    }
    ARGUS_ASSIGN_OR_RETURN(auto stmt, w.Prepare(kUpdate, "update batch"));
    stmt->BindOptionalText(
        1, update.status ? std::optional<std::string>(std::string(BatchStatusName(*update.status)))
                         : std::nullopt);
    stmt->BindOptionalInt64(2, update.objects);
    stmt->BindOptionalText(3, progress);
    stmt->BindOptionalInt64(4, update.submitted_at);
    stmt->BindOptionalInt64(5, update.finished_at);
    stmt->BindInt64(6, now);
    stmt->BindText(7, namespace_id);
    stmt->BindText(8, id);
    ARGUS_RETURN_IF_ERROR(stmt->Run());
    if (stmt->Changes() == 0) return BatchNotFound(id);
    ARGUS_ASSIGN_OR_RETURN(Batch updated, SelectBatch(w, namespace_id, id));
    if (!update.event_type.empty()) {
      ARGUS_RETURN_IF_ERROR(AppendEvent(w, update.event_type, updated.namespace_id, updated.id, "",
                                        BatchJson(updated).dump(), now)
                                .status());
    }
    ARGUS_RETURN_IF_ERROR(txn.Commit());
    return updated;
  });
}

Status SqliteMetadataStore::DeleteBatch(std::string_view namespace_id, std::string_view id) {
  return file_->writer().Run([&](SqliteDatabase& w) -> Status {
    ARGUS_ASSIGN_OR_RETURN(auto stmt, w.Prepare(kDelete, "delete batch"));
    stmt->BindText(1, namespace_id);
    stmt->BindText(2, id);
    ARGUS_RETURN_IF_ERROR(stmt->Run());
    return stmt->Changes() == 0 ? BatchNotFound(id) : OkStatus();
  });
}

}  // namespace argus::store::sqlite
