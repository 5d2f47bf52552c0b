#include "store/sqlite/sqlite_task_catalog.h"

#include <optional>
#include <utility>

#include "core/json.h"

namespace argus::store::sqlite {
namespace {

constexpr std::string_view kUpsertKind =
    "INSERT INTO task_kinds(kind, description, input_schema, internal, queues, updated_at,"
    " external) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(kind) DO UPDATE SET"
    " description = excluded.description, input_schema = excluded.input_schema,"
    " internal = excluded.internal, queues = excluded.queues, updated_at = excluded.updated_at,"
    " external = excluded.external";
constexpr std::string_view kListKinds =
    "SELECT kind, description, input_schema, internal, queues, updated_at, external"
    " FROM task_kinds ORDER BY kind";
constexpr std::string_view kKindIsExternal = "SELECT external FROM task_kinds WHERE kind = ?";
constexpr std::string_view kDeleteKind = "DELETE FROM task_kinds WHERE kind = ?";

#define ARGUS_WORKER_COLUMNS                                                                    \
  "namespace_id, id, namespace_name, host, external, queues, state, slots, running, completed," \
  " started_at, last_heartbeat"
constexpr std::string_view kUpsertWorker =
    "INSERT INTO workers(" ARGUS_WORKER_COLUMNS
    ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(namespace_id, id) DO UPDATE SET"
    " namespace_name = excluded.namespace_name, host = excluded.host,"
    " external = excluded.external, queues = excluded.queues, state = excluded.state,"
    " slots = excluded.slots, running = excluded.running, completed = excluded.completed,"
    " last_heartbeat = excluded.last_heartbeat";
constexpr std::string_view kDeleteWorker = "DELETE FROM workers WHERE namespace_id = ? AND id = ?";
constexpr std::string_view kListWorkers = "SELECT " ARGUS_WORKER_COLUMNS
                                          " FROM workers WHERE last_heartbeat >= ?"
                                          " ORDER BY namespace_id, id";
constexpr std::string_view kListNamespaceWorkers =
    "SELECT " ARGUS_WORKER_COLUMNS
    " FROM workers WHERE namespace_id = ? AND last_heartbeat >= ?"
    " ORDER BY id";
constexpr std::string_view kForgetWorkers = "DELETE FROM workers WHERE last_heartbeat < ?";
#undef ARGUS_WORKER_COLUMNS

std::string QueuesJson(const std::vector<std::string>& queues) { return Json(queues).dump(); }

Result<std::vector<std::string>> ParseQueues(const std::string& text, std::string_view what) {
  auto parsed = Json::parse(text, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_array()) {
    return InternalError(std::string(what) + ": stored queues are not a JSON array");
  }
  std::vector<std::string> queues;
  for (const auto& q : parsed) {
    if (!q.is_string()) return InternalError(std::string(what) + ": a stored queue is no string");
    queues.push_back(q.get<std::string>());
  }
  return queues;
}

Status CheckKind(const TaskKindEntry& k) {
  if (k.kind.empty()) return InvalidArgumentError("a task kind needs a name");
  auto schema = Json::parse(k.input_schema_json, nullptr, false);
  if (schema.is_discarded() || !schema.is_object()) {
    return InvalidArgumentError("task kind '" + k.kind +
                                "': input_schema must be a JSON object (a JSON Schema)");
  }
  return OkStatus();
}

Status UpsertKind(SqliteDatabase& w, const TaskKindEntry& k, bool external, TimestampUs now) {
  ARGUS_ASSIGN_OR_RETURN(auto stmt, w.Prepare(kUpsertKind, "publish task kinds"));
  stmt->BindText(1, k.kind);
  stmt->BindText(2, k.description);
  stmt->BindText(3, k.input_schema_json);
  stmt->BindInt64(4, k.internal ? 1 : 0);
  stmt->BindText(5, QueuesJson(k.queues));
  stmt->BindInt64(6, now);
  stmt->BindInt64(7, external ? 1 : 0);
  return stmt->Run();
}

// Whether the kind is published by external workers; nullopt when it is not published.
Result<std::optional<bool>> KindIsExternal(SqliteDatabase& db, std::string_view kind) {
  ARGUS_ASSIGN_OR_RETURN(auto stmt, db.Prepare(kKindIsExternal, "read a task kind"));
  stmt->BindText(1, kind);
  ARGUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
  if (!row) return std::optional<bool>();
  return std::optional<bool>(stmt->ColumnInt64(0) != 0);
}

Status OwnKindError(std::string_view kind) {
  return FailedPreconditionError("task kind '" + std::string(kind) +
                                 "' is run by Argus's own workers: an external worker publishes "
                                 "kinds of other names");
}

}  // namespace

Result<std::unique_ptr<TaskCatalog>> SqliteTaskCatalog::Create(const StoreArgs& args) {
  ARGUS_ASSIGN_OR_RETURN(auto file, SqliteStoreFile::Open(args));
  return std::unique_ptr<TaskCatalog>(new SqliteTaskCatalog(std::move(file)));
}

Status SqliteTaskCatalog::PublishKinds(const std::vector<TaskKindEntry>& kinds) {
  for (const auto& k : kinds) ARGUS_RETURN_IF_ERROR(CheckKind(k));
  const TimestampUs now = file_->clock().NowUs();
  return file_->writer().Run([&](SqliteDatabase& w) -> Status {
    for (const auto& k : kinds) ARGUS_RETURN_IF_ERROR(UpsertKind(w, k, false, now));
    return OkStatus();
  });
}

Result<bool> SqliteTaskCatalog::PublishExternalKind(const TaskKindEntry& kind) {
  ARGUS_RETURN_IF_ERROR(CheckKind(kind));
  const TimestampUs now = file_->clock().NowUs();
  bool created = false;
  ARGUS_RETURN_IF_ERROR(file_->writer().Run([&](SqliteDatabase& w) -> Status {
    ARGUS_ASSIGN_OR_RETURN(auto external, KindIsExternal(w, kind.kind));
    if (external.has_value() && !*external) return OwnKindError(kind.kind);
    created = !external.has_value();
    return UpsertKind(w, kind, true, now);
  }));
  return created;
}

Status SqliteTaskCatalog::RemoveExternalKind(std::string_view kind) {
  return file_->writer().Run([&](SqliteDatabase& w) -> Status {
    ARGUS_ASSIGN_OR_RETURN(auto external, KindIsExternal(w, kind));
    if (!external.has_value()) {
      return NotFoundError("no task kind '" + std::string(kind) + "' is published");
    }
    if (!*external) return OwnKindError(kind);
    ARGUS_ASSIGN_OR_RETURN(auto stmt, w.Prepare(kDeleteKind, "remove a task kind"));
    stmt->BindText(1, kind);
    return stmt->Run();
  });
}

Result<std::vector<TaskKindEntry>> SqliteTaskCatalog::ListKinds() {
  ARGUS_ASSIGN_OR_RETURN(auto db, file_->readers().Acquire());
  ARGUS_ASSIGN_OR_RETURN(auto stmt, db->Prepare(kListKinds, "list task kinds"));
  std::vector<TaskKindEntry> kinds;
  for (;;) {
    ARGUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    TaskKindEntry k;
    k.kind = stmt->ColumnText(0);
    k.description = stmt->ColumnText(1);
    k.input_schema_json = stmt->ColumnText(2);
    k.internal = stmt->ColumnInt64(3) != 0;
    ARGUS_ASSIGN_OR_RETURN(k.queues, ParseQueues(stmt->ColumnText(4), "task kind " + k.kind));
    k.updated_at = stmt->ColumnInt64(5);
    k.external = stmt->ColumnInt64(6) != 0;
    kinds.push_back(std::move(k));
  }
  return kinds;
}

Status SqliteTaskCatalog::Heartbeat(const std::vector<WorkerRecord>& workers) {
  for (const auto& w : workers) {
    if (w.id.empty()) return InvalidArgumentError("a worker needs an id");
  }
  const TimestampUs now = file_->clock().NowUs();
  return file_->writer().Run([&](SqliteDatabase& db) -> Status {
    ARGUS_ASSIGN_OR_RETURN(auto stmt, db.Prepare(kUpsertWorker, "record worker heartbeats"));
    for (const auto& w : workers) {
      stmt->BindText(1, w.namespace_id);
      stmt->BindText(2, w.id);
      stmt->BindText(3, w.namespace_name);
      stmt->BindText(4, w.host);
      stmt->BindInt64(5, w.external ? 1 : 0);
      stmt->BindText(6, QueuesJson(w.queues));
      stmt->BindText(7, w.state);
      stmt->BindInt64(8, w.slots);
      stmt->BindInt64(9, w.running);
      stmt->BindInt64(10, w.completed);
      stmt->BindInt64(11, now);
      stmt->BindInt64(12, now);
      ARGUS_RETURN_IF_ERROR(stmt->Run());
      stmt->Reset();
    }
    return OkStatus();
  });
}

Status SqliteTaskCatalog::Deregister(std::string_view namespace_id,
                                     const std::vector<std::string>& ids) {
  return file_->writer().Run([&](SqliteDatabase& db) -> Status {
    ARGUS_ASSIGN_OR_RETURN(auto stmt, db.Prepare(kDeleteWorker, "deregister workers"));
    for (const auto& id : ids) {
      stmt->BindText(1, namespace_id);
      stmt->BindText(2, id);
      ARGUS_RETURN_IF_ERROR(stmt->Run());
      stmt->Reset();
    }
    return OkStatus();
  });
}

Result<std::vector<WorkerRecord>> SqliteTaskCatalog::ListWorkers(
    std::optional<std::string_view> namespace_id, TimestampUs since) {
  ARGUS_ASSIGN_OR_RETURN(auto db, file_->readers().Acquire());
  ARGUS_ASSIGN_OR_RETURN(
      auto stmt, db->Prepare(namespace_id ? kListNamespaceWorkers : kListWorkers, "list workers"));
  int bound = 1;
  if (namespace_id) stmt->BindText(bound++, *namespace_id);
  stmt->BindInt64(bound, since);
  std::vector<WorkerRecord> workers;
  for (;;) {
    ARGUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    WorkerRecord w;
    w.namespace_id = stmt->ColumnText(0);
    w.id = stmt->ColumnText(1);
    w.namespace_name = stmt->ColumnText(2);
    w.host = stmt->ColumnText(3);
    w.external = stmt->ColumnInt64(4) != 0;
    ARGUS_ASSIGN_OR_RETURN(w.queues, ParseQueues(stmt->ColumnText(5), "worker " + w.id));
    w.state = stmt->ColumnText(6);
    w.slots = static_cast<int>(stmt->ColumnInt64(7));
    w.running = stmt->ColumnInt64(8);
    w.completed = stmt->ColumnInt64(9);
    w.started_at = stmt->ColumnInt64(10);
    w.last_heartbeat = stmt->ColumnInt64(11);
    workers.push_back(std::move(w));
  }
  return workers;
}

Result<int64_t> SqliteTaskCatalog::ForgetWorkers(TimestampUs before) {
  return RunWrite(file_->writer(), [&](SqliteDatabase& db) -> Result<int64_t> {
    ARGUS_ASSIGN_OR_RETURN(auto stmt, db.Prepare(kForgetWorkers, "forget workers"));
    stmt->BindInt64(1, before);
    ARGUS_RETURN_IF_ERROR(stmt->Run());
    return stmt->Changes();
  });
}

}  // namespace argus::store::sqlite
