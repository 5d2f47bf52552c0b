#include "store/sqlite/sqlite_task_rows.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <utility>

#include "store/sqlite/multi_row_sql.h"
#include "store/sqlite/sqlite_event_rows.h"

namespace argus::store::sqlite {
namespace {

// Column list as a macro so each statement below is one constexpr literal (the SQL text is the
// statement-cache key). The order is the one ReadTaskRow expects.
#define ARGUS_TASK_COLUMNS                                                                       \
  "id, namespace_id, kind, queue, priority, input, idempotency_key, status, attempt, "           \
  "retry_policy, schedule_to_start_s, start_to_close_s, heartbeat_s, progress, "                 \
  "progress_message, result, error_code, error_message, error_attempt, parent_id, worker_id, "   \
  "lease_id, lease_expires_at, heartbeat_at, cancel_requested, created_at, updated_at, run_at, " \
  "started_at, finished_at, crash_count"

constexpr std::string_view kSelectTask = "SELECT " ARGUS_TASK_COLUMNS " FROM tasks WHERE id = ?";
// `idempotency_key <> ''` repeats the partial index's condition so the planner may use it.
constexpr std::string_view kSelectByIdempotencyKey =
    "SELECT " ARGUS_TASK_COLUMNS
    " FROM tasks WHERE namespace_id = ? AND idempotency_key = ? AND idempotency_key <> ''";
// Followed by rows of kInsertColumns parameters (InsertTasksSql).
constexpr std::string_view kInsertTasksHead =
    "INSERT INTO tasks(" ARGUS_TASK_COLUMNS ", start_deadline_at) VALUES ";
constexpr int kInsertColumns = 32;
constexpr std::string_view kSaveTask =
    "UPDATE tasks SET status = ?2, attempt = ?3, progress = ?4, progress_message = ?5, "
    "result = ?6, error_code = ?7, error_message = ?8, error_attempt = ?9, worker_id = ?10, "
    "lease_id = ?11, lease_expires_at = ?12, heartbeat_at = ?13, cancel_requested = ?14, "
    "updated_at = ?15, run_at = ?16, started_at = ?17, finished_at = ?18, crash_count = ?20, "
    "start_deadline_at = CASE WHEN ?2 IN ('pending', 'scheduled') "
    "THEN COALESCE(?19, start_deadline_at) ELSE NULL END WHERE id = ?1";
// `head` + "(VALUES (?,...,?), ...) AS v" with `rows` rows of `columns` parameters + `tail`.
std::string ValuesSql(std::string_view head, size_t rows, size_t columns, std::string_view tail) {
  std::string sql(head);
  sql += "(VALUES ";
  sql += ParameterRows(rows, columns);
  sql += ") AS v";
  sql += tail;
  return sql;
}

const std::string& InsertTasksSql(size_t rows) {
  return SqlForChunk(rows, [](size_t n) {
    return std::string(kInsertTasksHead) + ParameterRows(n, kInsertColumns);
  });
}

// Lease: only the columns a new attempt changes, so that SQLite leaves alone the indexes on the
// others (result, error, run_at, finished_at, ...). v: id, attempt, started_at, worker_id,
// lease_id, lease_expires_at, heartbeat_at (= updated_at).
const std::string& StartAttemptsSql(size_t rows) {
  return SqlForChunk(rows, [](size_t n) {
    return ValuesSql(
        "UPDATE tasks SET status = 'running', attempt = v.column2, started_at = v.column3, "
        "worker_id = v.column4, lease_id = v.column5, lease_expires_at = v.column6, "
        "heartbeat_at = v.column7, progress = 0, progress_message = '', updated_at = v.column7, "
        "start_deadline_at = NULL FROM ",
        n, 7, " WHERE tasks.id = v.column1");
  });
}

// running → succeeded for rows still under the lease they were leased with. v: id, result,
// finished_at (= updated_at), lease_id, leased updated_at, started_at (NULL: keep).
const std::string& CompleteUnchangedSql(size_t rows) {
  return SqlForChunk(rows, [](size_t n) {
    return ValuesSql(
        "UPDATE tasks SET status = 'succeeded', result = v.column2, progress = 1, "
        "lease_id = '', lease_expires_at = 0, finished_at = v.column3, updated_at = v.column3, "
        "start_deadline_at = NULL, started_at = COALESCE(v.column6, tasks.started_at) FROM ",
        n, 6,
        " WHERE tasks.id = v.column1 AND tasks.status = 'running' AND tasks.lease_id = "
        "v.column4 AND tasks.updated_at = v.column5 RETURNING tasks.id");
  });
}

// List: one statement per index that serves the filter best (tasks_by_namespace,
// tasks_by_namespace_status, tasks_by_parent); the `?N = ''` forms keep the other filters
// optional without more statements.
#define ARGUS_TASK_LIST_FILTERS                                                          \
  " AND (?3 = '' OR status = ?3) AND (?4 = '' OR kind = ?4) AND (?5 = '' OR queue = ?5)" \
  " AND (?6 = '' OR parent_id = ?6) ORDER BY id LIMIT ?7"
constexpr std::string_view kListByNamespace =
    "SELECT " ARGUS_TASK_COLUMNS
    " FROM tasks WHERE namespace_id = ?1 AND id > ?2" ARGUS_TASK_LIST_FILTERS;
constexpr std::string_view kListByStatus = "SELECT " ARGUS_TASK_COLUMNS
                                           " FROM tasks WHERE namespace_id = ?1 AND status = ?3"
                                           " AND id > ?2" ARGUS_TASK_LIST_FILTERS;
constexpr std::string_view kListByParent =
    "SELECT " ARGUS_TASK_COLUMNS
    " FROM tasks WHERE namespace_id = ?1 AND parent_id = ?6"
    " AND parent_id <> '' AND id > ?2" ARGUS_TASK_LIST_FILTERS;
constexpr std::string_view kMatchingLiveIds =
    "SELECT id FROM tasks WHERE namespace_id = ?1 AND status IN ('pending', 'scheduled', "
    "'running') AND (?2 = '' OR status = ?2) AND (?3 = '' OR kind = ?3) AND (?4 = '' OR queue = "
    "?4) AND (?5 = '' OR parent_id = ?5) ORDER BY id";

#undef ARGUS_TASK_LIST_FILTERS

// Kinds are passed as JSON arrays, so one statement serves any number of them. Without ANALYZE
// statistics the planner would serve the scheduled query (and the sweep and purge queries below)
// from tasks_ready, scanning every row of that status; INDEXED BY pins the narrow partial index.
#define ARGUS_RUNNABLE_FILTERS                                    \
  " AND (?2 = '[]' OR kind IN (SELECT value FROM json_each(?2)))" \
  " AND kind NOT IN (SELECT value FROM json_each(?3))"            \
  " ORDER BY priority DESC, id LIMIT ?4"
// Pending tasks come from tasks_ready, or tasks_ready_in_namespace for a namespace's workers
// (two statements, so that the planner sees which equality it has).
constexpr std::string_view kRunnablePending = "SELECT " ARGUS_TASK_COLUMNS
                                              " FROM tasks WHERE status = 'pending' AND queue = "
                                              "?1" ARGUS_RUNNABLE_FILTERS;
constexpr std::string_view kRunnablePendingInNamespace =
    "SELECT " ARGUS_TASK_COLUMNS
    " FROM tasks WHERE namespace_id = ?6 AND status = 'pending'"
    " AND queue = ?1" ARGUS_RUNNABLE_FILTERS;
constexpr std::string_view kRunnableScheduled =
    "SELECT " ARGUS_TASK_COLUMNS
    " FROM tasks INDEXED BY tasks_due"
    " WHERE status = 'scheduled' AND run_at <= ?5 AND queue = ?1"
    " AND (?6 = '' OR namespace_id = ?6)" ARGUS_RUNNABLE_FILTERS;
#undef ARGUS_RUNNABLE_FILTERS
#undef ARGUS_TASK_COLUMNS

constexpr std::string_view kAttemptTimedOut =
    "SELECT id FROM tasks INDEXED BY tasks_lease_expiry WHERE status = 'running' AND ("
    "(start_to_close_s > 0 AND ?1 - started_at > start_to_close_s * 1000000.0) OR "
    "(heartbeat_s > 0 AND ?1 - heartbeat_at > heartbeat_s * 1000000.0)) ORDER BY id";

Result<Json> ParseStoredJson(const std::string& text, std::string_view column, std::string_view id,
                             const std::string& path) {
  // Stored JSON was validated on the way in: parse it with the fast reader and no request
  // limits (only a corrupt file fails here).
  static const JsonLimits kStored{.max_depth = 1024, .max_string_bytes = SIZE_MAX};
  // What most rows hold (no input, no result yet), without the parser.
  if (text == "{}") return Json::object();
  if (text == "null") return Json(nullptr);
  auto value = ParseJson(text, kStored);
  if (!value.ok()) {
    return InternalError(fmt::format("task '{}' in {} has corrupt {} JSON", id, path, column));
  }
  return std::move(value).value();
}

// Never throws: strings that are not valid UTF-8 are replaced (callers that must refuse them
// check before, where they can answer InvalidArgument).
std::string DumpJson(const Json& value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Json RetryToJson(const RetryPolicy& retry) {
  return {{"initial_interval_s", retry.initial_interval_s},
          {"backoff_coefficient", retry.backoff_coefficient},
          {"max_interval_s", retry.max_interval_s},
          {"max_attempts", retry.max_attempts},
          {"non_retryable_codes", retry.non_retryable_codes}};
}

Result<RetryPolicy> RetryFromJson(const Json& j) {
  RetryPolicy retry;
  if (!j.is_object() || !j.value("initial_interval_s", Json()).is_number() ||
      !j.value("backoff_coefficient", Json()).is_number() ||
      !j.value("max_interval_s", Json()).is_number() ||
      !j.value("max_attempts", Json()).is_number_integer() ||
      !j.value("non_retryable_codes", Json()).is_array()) {
    return InternalError("malformed retry policy");
  }
  retry.initial_interval_s = j["initial_interval_s"].get<double>();
  retry.backoff_coefficient = j["backoff_coefficient"].get<double>();
  retry.max_interval_s = j["max_interval_s"].get<double>();
  retry.max_attempts = j["max_attempts"].get<int>();
  for (const Json& code : j["non_retryable_codes"]) {
    if (!code.is_string()) return InternalError("malformed retry policy");
    retry.non_retryable_codes.push_back(code.get<std::string>());
  }
  return retry;
}

Result<Task> ReadTaskRow(const Statement& row, const std::string& path) {
  Task t;
  t.id = row.ColumnText(0);
  t.namespace_id = row.ColumnText(1);
  t.kind = row.ColumnText(2);
  t.queue = row.ColumnText(3);
  t.priority = static_cast<int>(row.ColumnInt64(4));
  ARGUS_ASSIGN_OR_RETURN(t.input, ParseStoredJson(row.ColumnText(5), "input", t.id, path));
  t.idempotency_key = row.ColumnText(6);
  auto status = ParseTaskStatus(row.ColumnText(7));
  if (!status.ok()) {
    return InternalError(fmt::format("task '{}' in {} has a corrupt status", t.id, path));
  }
  t.status = *status;
  t.attempt = static_cast<int>(row.ColumnInt64(8));
  // Most tasks share a few policies (the default above all): the last one read on this thread
  // is reused when the text is the same.
  thread_local std::string last_retry_text;
  thread_local RetryPolicy last_retry;
  std::string retry_text = row.ColumnText(9);
  if (retry_text != last_retry_text) {
    ARGUS_ASSIGN_OR_RETURN(Json retry, ParseStoredJson(retry_text, "retry", t.id, path));
    auto policy = RetryFromJson(retry);
    if (!policy.ok()) {
      return InternalError(fmt::format("task '{}' in {} has a malformed retry policy", t.id, path));
    }
    last_retry = std::move(policy).value();
    last_retry_text = std::move(retry_text);
  }
  t.retry = last_retry;
  t.timeouts = {.schedule_to_start_s = row.ColumnDouble(10),
                .start_to_close_s = row.ColumnDouble(11),
                .heartbeat_s = row.ColumnDouble(12)};
  t.progress = row.ColumnDouble(13);
  t.progress_message = row.ColumnText(14);
  ARGUS_ASSIGN_OR_RETURN(t.result, ParseStoredJson(row.ColumnText(15), "result", t.id, path));
  if (!row.ColumnIsNull(16)) {
    t.error = TaskError{.code = row.ColumnText(16),
                        .message = row.ColumnText(17),
                        .attempt = static_cast<int>(row.ColumnInt64(18))};
  }
  t.parent_id = row.ColumnText(19);
  t.worker_id = row.ColumnText(20);
  t.lease_id = row.ColumnText(21);
  t.lease_expires_at = row.ColumnInt64(22);
  t.heartbeat_at = row.ColumnInt64(23);
  t.cancel_requested = row.ColumnInt64(24) != 0;
  t.created_at = row.ColumnInt64(25);
  t.updated_at = row.ColumnInt64(26);
  t.run_at = row.ColumnInt64(27);
  t.started_at = row.ColumnOptionalInt64(28);
  t.finished_at = row.ColumnOptionalInt64(29);
  t.crash_count = static_cast<int>(row.ColumnInt64(30));
  return t;
}

Result<std::optional<Task>> ReadOptionalTask(Statement& stmt, const std::string& path) {
  ARGUS_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return std::optional<Task>();
  ARGUS_ASSIGN_OR_RETURN(Task task, ReadTaskRow(stmt, path));
  return std::optional<Task>(std::move(task));
}

Result<std::vector<std::string>> ReadIds(Statement& stmt) {
  std::vector<std::string> ids;
  for (;;) {
    ARGUS_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return ids;
    ids.push_back(stmt.ColumnText(0));
  }
}

Result<int64_t> ReadCount(Statement& stmt) {
  ARGUS_ASSIGN_OR_RETURN(bool row, stmt.Step());
  return row ? stmt.ColumnInt64(0) : 0;
}

std::string JsonArray(const std::vector<std::string>& values) { return DumpJson(Json(values)); }

Status AppendRunnable(Statement& stmt, const std::string& path, std::vector<Task>& out) {
  for (;;) {
    ARGUS_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return OkStatus();
    ARGUS_ASSIGN_OR_RETURN(Task task, ReadTaskRow(stmt, path));
    out.push_back(std::move(task));
  }
}

}  // namespace

Result<std::optional<Task>> LoadTask(SqliteDatabase& db, std::string_view id) {
  ARGUS_ASSIGN_OR_RETURN(auto stmt, db.Prepare(kSelectTask, "get task"));
  stmt->BindText(1, id);
  return ReadOptionalTask(*stmt, db.path());
}

Result<std::optional<Task>> FindTaskByIdempotencyKey(SqliteDatabase& db,
                                                     std::string_view namespace_id,
                                                     std::string_view key) {
  ARGUS_ASSIGN_OR_RETURN(auto stmt,
                         db.Prepare(kSelectByIdempotencyKey, "find task by idempotency key"));
  stmt->BindText(1, namespace_id);
  stmt->BindText(2, key);
  return ReadOptionalTask(*stmt, db.path());
}

std::string DumpStoredJson(const Json& value) { return DumpJson(value); }

PreparedTask PrepareNewTask(Task task, std::optional<TimestampUs> start_deadline) {
  PreparedTask p;
  p.input_json = DumpJson(task.input);
  p.retry_json = DumpJson(RetryToJson(task.retry));
  p.result_json = DumpJson(task.result);
  p.event_json = TaskJsonText(task);
  p.start_deadline = start_deadline;
  p.task = std::move(task);
  return p;
}

namespace {

// Binds `prepared` as the row of an INSERT (InsertTasksSql) whose parameters start after `base`.
void BindNewTaskRow(Statement& stmt, int base, const PreparedTask& prepared) {
  const Task& t = prepared.task;
  stmt.BindText(base + 1, t.id);
  stmt.BindText(base + 2, t.namespace_id);
  stmt.BindText(base + 3, t.kind);
  stmt.BindText(base + 4, t.queue);
  stmt.BindInt64(base + 5, t.priority);
  stmt.BindText(base + 6, prepared.input_json);
  stmt.BindText(base + 7, t.idempotency_key);
  stmt.BindText(base + 8, TaskStatusName(t.status));
  stmt.BindInt64(base + 9, t.attempt);
  stmt.BindText(base + 10, prepared.retry_json);
  stmt.BindDouble(base + 11, t.timeouts.schedule_to_start_s);
  stmt.BindDouble(base + 12, t.timeouts.start_to_close_s);
  stmt.BindDouble(base + 13, t.timeouts.heartbeat_s);
  stmt.BindDouble(base + 14, t.progress);
  stmt.BindText(base + 15, t.progress_message);
  stmt.BindText(base + 16, prepared.result_json);
  if (t.error) {
    stmt.BindText(base + 17, t.error->code);
    stmt.BindText(base + 18, t.error->message);
    stmt.BindInt64(base + 19, t.error->attempt);
  } else {
    stmt.BindNull(base + 17);
    stmt.BindNull(base + 18);
    stmt.BindNull(base + 19);
  }
  stmt.BindText(base + 20, t.parent_id);
  stmt.BindText(base + 21, t.worker_id);
  stmt.BindText(base + 22, t.lease_id);
  stmt.BindInt64(base + 23, t.lease_expires_at);
  stmt.BindInt64(base + 24, t.heartbeat_at);
  stmt.BindInt64(base + 25, t.cancel_requested ? 1 : 0);
  stmt.BindInt64(base + 26, t.created_at);
  stmt.BindInt64(base + 27, t.updated_at);
  stmt.BindInt64(base + 28, t.run_at);
  stmt.BindOptionalInt64(base + 29, t.started_at);
  stmt.BindOptionalInt64(base + 30, t.finished_at);
  stmt.BindInt64(base + 31, t.crash_count);
  stmt.BindOptionalInt64(base + 32, prepared.start_deadline);
}

}  // namespace

Status InsertTasks(SqliteDatabase& db, std::span<const PreparedTask* const> tasks) {
  for (size_t next = 0; next < tasks.size();) {
    const size_t chunk = ChunkSize(tasks.size() - next);
    ARGUS_ASSIGN_OR_RETURN(auto stmt, db.Prepare(InsertTasksSql(chunk), "enqueue tasks"));
    for (size_t r = 0; r < chunk; ++r) {
      BindNewTaskRow(*stmt, static_cast<int>(r) * kInsertColumns, *tasks[next + r]);
    }
    ARGUS_RETURN_IF_ERROR(stmt->Run());
    next += chunk;
  }
  return OkStatus();
}

Status SaveTask(SqliteDatabase& db, const Task& t, std::optional<TimestampUs> new_start_deadline) {
  ARGUS_ASSIGN_OR_RETURN(auto stmt, db.Prepare(kSaveTask, "update task"));
  stmt->BindText(1, t.id);
  stmt->BindText(2, TaskStatusName(t.status));
  stmt->BindInt64(3, t.attempt);
  stmt->BindDouble(4, t.progress);
  stmt->BindText(5, t.progress_message);
  stmt->BindText(6, DumpJson(t.result));
  if (t.error) {
    stmt->BindText(7, t.error->code);
    stmt->BindText(8, t.error->message);
    stmt->BindInt64(9, t.error->attempt);
  } else {
    stmt->BindNull(7);
    stmt->BindNull(8);
    stmt->BindNull(9);
  }
  stmt->BindText(10, t.worker_id);
  stmt->BindText(11, t.lease_id);
  stmt->BindInt64(12, t.lease_expires_at);
  stmt->BindInt64(13, t.heartbeat_at);
  stmt->BindInt64(14, t.cancel_requested ? 1 : 0);
  stmt->BindInt64(15, t.updated_at);
  stmt->BindInt64(16, t.run_at);
  stmt->BindOptionalInt64(17, t.started_at);
  stmt->BindOptionalInt64(18, t.finished_at);
  stmt->BindOptionalInt64(19, new_start_deadline);
  stmt->BindInt64(20, t.crash_count);
  ARGUS_RETURN_IF_ERROR(stmt->Run());
  if (stmt->Changes() != 1) {
    return InternalError(
        fmt::format("task '{}' vanished from {} while being updated", t.id, db.path()));
  }
  return OkStatus();
}

Status SaveStartedTasks(SqliteDatabase& db, std::span<const Task> tasks) {
  for (size_t next = 0; next < tasks.size();) {
    const size_t chunk = ChunkSize(tasks.size() - next);
    ARGUS_ASSIGN_OR_RETURN(auto stmt, db.Prepare(StartAttemptsSql(chunk), "start task attempts"));
    for (size_t r = 0; r < chunk; ++r) {
      const Task& t = tasks[next + r];
      const int base = static_cast<int>(r) * 7;
      stmt->BindText(base + 1, t.id);
      stmt->BindInt64(base + 2, t.attempt);
      stmt->BindOptionalInt64(base + 3, t.started_at);
      stmt->BindText(base + 4, t.worker_id);
      stmt->BindText(base + 5, t.lease_id);
      stmt->BindInt64(base + 6, t.lease_expires_at);
      stmt->BindInt64(base + 7, t.heartbeat_at);
    }
    ARGUS_RETURN_IF_ERROR(stmt->Run());
    if (stmt->Changes() != static_cast<int64_t>(chunk)) {
      return InternalError(fmt::format("{} of {} tasks vanished from {} while being leased",
                                       static_cast<int64_t>(chunk) - stmt->Changes(), chunk,
                                       db.path()));
    }
    next += chunk;
  }
  return OkStatus();
}

Result<std::vector<bool>> SaveSucceededIfUnchanged(SqliteDatabase& db,
                                                   std::span<const SucceededRow> rows) {
  std::vector<bool> saved(rows.size(), false);
  std::map<std::string_view, size_t> index;  // id → position, to read RETURNING back
  for (size_t next = 0; next < rows.size();) {
    const size_t chunk = ChunkSize(rows.size() - next);
    ARGUS_ASSIGN_OR_RETURN(auto stmt,
                           db.Prepare(CompleteUnchangedSql(chunk), "complete unchanged tasks"));
    index.clear();
    for (size_t r = 0; r < chunk; ++r) {
      const SucceededRow& row = rows[next + r];
      const int base = static_cast<int>(r) * 6;
      stmt->BindText(base + 1, row.done->id);
      stmt->BindText(base + 2, row.result_json);
      stmt->BindInt64(base + 3, row.done->updated_at);
      stmt->BindText(base + 4, row.lease_id);
      stmt->BindInt64(base + 5, row.leased_updated_at);
      stmt->BindOptionalInt64(base + 6, row.done->started_at);
      index.emplace(row.done->id, next + r);
    }
    for (;;) {
      ARGUS_ASSIGN_OR_RETURN(bool returned, stmt->Step());
      if (!returned) break;
      auto it = index.find(stmt->ColumnText(0));
      if (it != index.end()) saved[it->second] = true;
    }
    next += chunk;
  }
  return saved;
}

Status AppendTaskEventText(SqliteDatabase& db, std::string_view type, const Task& task,
                           std::string_view data_json, TimestampUs at) {
  return AppendEvent(db, type, task.namespace_id, task.id, task.queue, data_json, at).status();
}

Status AppendTaskEvent(SqliteDatabase& db, std::string_view type, const Task& task,
                       TimestampUs at) {
  return AppendTaskEventText(db, type, task, TaskJsonText(task), at);
}

Result<Page<Task>> ListTaskRows(SqliteDatabase& db, const TaskFilter& filter,
                                const PageRequest& page) {
  std::string_view sql = filter.status              ? kListByStatus
                         : filter.parent_id.empty() ? kListByNamespace
                                                    : kListByParent;
  ARGUS_ASSIGN_OR_RETURN(auto stmt, db.Prepare(sql, "list tasks"));
  stmt->BindText(1, filter.namespace_id);
  stmt->BindText(2, page.after_id);
  stmt->BindText(3, filter.status ? TaskStatusName(*filter.status) : "");
  stmt->BindText(4, filter.kind);
  stmt->BindText(5, filter.queue);
  stmt->BindText(6, filter.parent_id);
  stmt->BindInt64(7, page.limit + 1);
  // The extra row only says that another page follows.
  Page<Task> out;
  for (;;) {
    ARGUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    if (static_cast<int>(out.items.size()) == page.limit) {
      out.next_after_id = out.items.back().id;
      break;
    }
    ARGUS_ASSIGN_OR_RETURN(Task task, ReadTaskRow(*stmt, db.path()));
    out.items.push_back(std::move(task));
  }
  return out;
}

Result<std::vector<std::string>> MatchingLiveTaskIds(SqliteDatabase& db, const TaskFilter& filter) {
  ARGUS_ASSIGN_OR_RETURN(auto stmt, db.Prepare(kMatchingLiveIds, "find tasks to cancel"));
  stmt->BindText(1, filter.namespace_id);
  stmt->BindText(2, filter.status ? TaskStatusName(*filter.status) : "");
  stmt->BindText(3, filter.kind);
  stmt->BindText(4, filter.queue);
  stmt->BindText(5, filter.parent_id);
  return ReadIds(*stmt);
}

Result<std::vector<Task>> FindRunnableTasks(SqliteDatabase& db, std::string_view namespace_id,
                                            std::string_view queue,
                                            const std::vector<std::string>& kinds,
                                            const std::vector<std::string>& excluded_kinds,
                                            TimestampUs now, int limit) {
  std::vector<Task> out;
  const std::string kinds_json = JsonArray(kinds);
  const std::string excluded_json = JsonArray(excluded_kinds);
  const std::string_view pending =
      namespace_id.empty() ? kRunnablePending : kRunnablePendingInNamespace;
  for (std::string_view sql : {pending, kRunnableScheduled}) {
    ARGUS_ASSIGN_OR_RETURN(auto stmt, db.Prepare(sql, "find runnable tasks"));
    stmt->BindText(1, queue);
    stmt->BindText(2, kinds_json);
    stmt->BindText(3, excluded_json);
    stmt->BindInt64(4, limit);
    // Each statement has only the parameters it uses (binding another would fail).
    if (sql == kRunnableScheduled) stmt->BindInt64(5, now);
    if (sql != kRunnablePending) stmt->BindText(6, namespace_id);
    ARGUS_RETURN_IF_ERROR(AppendRunnable(*stmt, db.path(), out));
  }
  return out;
}

Result<std::optional<TimestampUs>> NextSweepDeadline(SqliteDatabase& db) {
  // Running tasks are few (tasks_lease_expiry holds only them); start deadlines are indexed.
  ARGUS_ASSIGN_OR_RETURN(
      auto stmt,
      db.Prepare("SELECT MIN(lease_expires_at) FROM tasks INDEXED BY tasks_lease_expiry "
                 "WHERE status = 'running' "
                 "UNION ALL SELECT MIN(heartbeat_at + heartbeat_s * 1000000) FROM tasks "
                 "INDEXED BY tasks_lease_expiry WHERE status = 'running' AND heartbeat_s > 0 "
                 "UNION ALL SELECT MIN(started_at + start_to_close_s * 1000000) FROM tasks "
                 "INDEXED BY tasks_lease_expiry WHERE status = 'running' "
                 "AND start_to_close_s > 0 AND started_at IS NOT NULL "
                 "UNION ALL SELECT MIN(start_deadline_at) FROM tasks INDEXED BY "
                 "tasks_start_deadline WHERE start_deadline_at IS NOT NULL",
                 "find the next sweep deadline"));
  std::optional<TimestampUs> earliest;
  for (;;) {
    ARGUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) return earliest;
    if (stmt->ColumnIsNull(0)) continue;
    const auto at = static_cast<TimestampUs>(stmt->ColumnDouble(0));
    if (!earliest || at < *earliest) earliest = at;
  }
}

Result<std::optional<TimestampUs>> NextScheduledRunAt(SqliteDatabase& db,
                                                      std::string_view namespace_id,
                                                      std::string_view queue) {
  // tasks_due is in run_at order: the first row that matches is the answer.
  ARGUS_ASSIGN_OR_RETURN(auto stmt,
                         db.Prepare("SELECT run_at FROM tasks INDEXED BY tasks_due "
                                    "WHERE status = 'scheduled' AND (?1 = '' OR queue = ?1) "
                                    "AND (?2 = '' OR namespace_id = ?2) ORDER BY run_at LIMIT 1",
                                    "find the next scheduled task"));
  stmt->BindText(1, queue);
  stmt->BindText(2, namespace_id);
  ARGUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
  if (!row) return std::optional<TimestampUs>();
  return std::optional<TimestampUs>(stmt->ColumnInt64(0));
}

Result<int64_t> CountWaitingTasks(SqliteDatabase& db, std::string_view namespace_id) {
  ARGUS_ASSIGN_OR_RETURN(auto stmt,
                         db.Prepare("SELECT count(*) FROM tasks WHERE namespace_id = ? AND "
                                    "status IN ('pending', 'scheduled')",
                                    "count waiting tasks"));
  stmt->BindText(1, namespace_id);
  return ReadCount(*stmt);
}

Result<int64_t> CountRunningOfKind(SqliteDatabase& db, std::string_view kind) {
  ARGUS_ASSIGN_OR_RETURN(auto stmt,
                         db.Prepare("SELECT count(*) FROM tasks INDEXED BY tasks_lease_expiry "
                                    "WHERE status = 'running' AND kind = ?",
                                    "count running tasks"));
  stmt->BindText(1, kind);
  return ReadCount(*stmt);
}

Result<std::vector<std::string>> AttemptTimedOutIds(SqliteDatabase& db, TimestampUs now) {
  ARGUS_ASSIGN_OR_RETURN(auto stmt, db.Prepare(kAttemptTimedOut, "find timed-out attempts"));
  stmt->BindInt64(1, now);
  return ReadIds(*stmt);
}

Result<std::vector<std::string>> LeaseExpiredIds(SqliteDatabase& db, TimestampUs now) {
  ARGUS_ASSIGN_OR_RETURN(auto stmt, db.Prepare("SELECT id FROM tasks INDEXED BY tasks_lease_expiry "
                                               "WHERE status = 'running' AND "
                                               "lease_expires_at <= ? ORDER BY id",
                                               "find expired leases"));
  stmt->BindInt64(1, now);
  return ReadIds(*stmt);
}

Result<std::vector<std::string>> StartDeadlinePassedIds(SqliteDatabase& db, TimestampUs now) {
  ARGUS_ASSIGN_OR_RETURN(auto stmt,
                         db.Prepare("SELECT id FROM tasks INDEXED BY tasks_start_deadline WHERE "
                                    "start_deadline_at < ? AND status IN ('pending', "
                                    "'scheduled') ORDER BY id",
                                    "find tasks past their start deadline"));
  stmt->BindInt64(1, now);
  return ReadIds(*stmt);
}

Result<std::vector<std::string>> RunningIdsOfWorker(SqliteDatabase& db,
                                                    std::string_view worker_id) {
  ARGUS_ASSIGN_OR_RETURN(
      auto stmt,
      db.Prepare("SELECT id FROM tasks INDEXED BY tasks_lease_expiry WHERE status = 'running' "
                 "AND worker_id = ? ORDER BY id",
                 "find a worker's tasks"));
  stmt->BindText(1, worker_id);
  return ReadIds(*stmt);
}

Status RegisterQueue(SqliteDatabase& db, std::string_view queue) {
  ARGUS_ASSIGN_OR_RETURN(
      auto stmt, db.Prepare("INSERT OR IGNORE INTO queue_state(queue, paused) VALUES (?, 0)",
                            "register queue"));
  stmt->BindText(1, queue);
  return stmt->Run();
}

Status SetQueuePausedRow(SqliteDatabase& db, std::string_view queue, bool paused) {
  ARGUS_ASSIGN_OR_RETURN(auto stmt, db.Prepare("INSERT INTO queue_state(queue, paused) VALUES "
                                               "(?, ?) ON CONFLICT(queue) DO UPDATE SET "
                                               "paused = excluded.paused",
                                               "pause or resume queue"));
  stmt->BindText(1, queue);
  stmt->BindInt64(2, paused ? 1 : 0);
  return stmt->Run();
}

Result<std::vector<std::string>> UnpausedQueues(SqliteDatabase& db) {
  ARGUS_ASSIGN_OR_RETURN(
      auto stmt,
      db.Prepare("SELECT queue FROM queue_state WHERE paused = 0 ORDER BY queue", "list queues"));
  return ReadIds(*stmt);
}

Result<std::map<std::string, KindLimits>> LoadKindLimits(SqliteDatabase& db) {
  ARGUS_ASSIGN_OR_RETURN(
      auto stmt,
      db.Prepare("SELECT kind, max_running, max_per_second FROM kind_limits", "read kind limits"));
  std::map<std::string, KindLimits> limits;
  for (;;) {
    ARGUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) return limits;
    limits[stmt->ColumnText(0)] = {.max_running = static_cast<int>(stmt->ColumnInt64(1)),
                                   .max_per_second = stmt->ColumnDouble(2)};
  }
}

Status SaveKindLimits(SqliteDatabase& db, std::string_view kind, const KindLimits& limits) {
  if (limits.max_running == 0 && limits.max_per_second == 0) {
    ARGUS_ASSIGN_OR_RETURN(
        auto stmt, db.Prepare("DELETE FROM kind_limits WHERE kind = ?", "clear kind limits"));
    stmt->BindText(1, kind);
    return stmt->Run();
  }
  ARGUS_ASSIGN_OR_RETURN(
      auto stmt, db.Prepare("INSERT INTO kind_limits(kind, max_running, max_per_second) VALUES "
                            "(?, ?, ?) ON CONFLICT(kind) DO UPDATE SET max_running = "
                            "excluded.max_running, max_per_second = excluded.max_per_second",
                            "set kind limits"));
  stmt->BindText(1, kind);
  stmt->BindInt64(2, limits.max_running);
  stmt->BindDouble(3, limits.max_per_second);
  return stmt->Run();
}

Result<std::vector<QueueStats>> ReadQueueStats(SqliteDatabase& db, std::string_view namespace_id,
                                               TimestampUs now) {
  std::map<std::string, QueueStats> by_queue;
  // One statement per status, each reading only that status's index (partial where it can):
  // the cost follows the backlog, never the number of finished tasks kept.
  constexpr std::string_view kAll[] = {
      "SELECT queue, count(*), min(run_at) FROM tasks INDEXED BY tasks_pending_age"
      " WHERE status = 'pending' GROUP BY queue",
      "SELECT queue, count(*), 0 FROM tasks INDEXED BY tasks_due WHERE status = 'scheduled'"
      " GROUP BY queue",
      "SELECT queue, count(*), 0 FROM tasks INDEXED BY tasks_lease_expiry"
      " WHERE status = 'running' GROUP BY queue"};
  constexpr std::string_view kOfNamespace[] = {
      "SELECT queue, count(*), min(run_at) FROM tasks INDEXED BY tasks_ready_in_namespace"
      " WHERE namespace_id = ?1 AND status = 'pending' GROUP BY queue",
      "SELECT queue, count(*), 0 FROM tasks INDEXED BY tasks_by_namespace_status"
      " WHERE namespace_id = ?1 AND status = 'scheduled' GROUP BY queue",
      "SELECT queue, count(*), 0 FROM tasks INDEXED BY tasks_by_namespace_status"
      " WHERE namespace_id = ?1 AND status = 'running' GROUP BY queue"};
  for (int i = 0; i < 3; ++i) {
    ARGUS_ASSIGN_OR_RETURN(auto stmt, db.Prepare(namespace_id.empty() ? kAll[i] : kOfNamespace[i],
                                                 "read queue stats"));
    if (!namespace_id.empty()) stmt->BindText(1, namespace_id);
    for (;;) {
      ARGUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
      if (!row) break;
      QueueStats& stats = by_queue[stmt->ColumnText(0)];
      const int64_t count = stmt->ColumnInt64(1);
      if (i == 0) {
        stats.pending = count;
        stats.oldest_pending_s = std::max<double>(0, (now - stmt->ColumnInt64(2)) / 1e6);
      } else if (i == 1) {
        stats.scheduled = count;
      } else {
        stats.running = count;
      }
    }
  }
  ARGUS_ASSIGN_OR_RETURN(
      auto stmt, db.Prepare("SELECT queue FROM queue_state WHERE paused = 1", "read queue stats"));
  ARGUS_ASSIGN_OR_RETURN(std::vector<std::string> paused, ReadIds(*stmt));
  for (const std::string& queue : paused) {
    if (namespace_id.empty()) {
      by_queue[queue].paused = true;
    } else if (auto it = by_queue.find(queue); it != by_queue.end()) {
      it->second.paused = true;  // only queues the namespace has tasks in
    }
  }
  std::vector<QueueStats> out;
  for (auto& [queue, stats] : by_queue) {
    stats.queue = queue;
    out.push_back(std::move(stats));
  }
  return out;
}

Result<int64_t> PurgeRows(SqliteDatabase& db, TimestampUs before) {
  int64_t tasks = 0;
  {
    ARGUS_ASSIGN_OR_RETURN(auto stmt, db.Prepare("DELETE FROM tasks INDEXED BY tasks_finished "
                                                 "WHERE finished_at < ? AND status IN "
                                                 "('succeeded', 'failed', 'cancelled')",
                                                 "purge finished tasks"));
    stmt->BindInt64(1, before);
    ARGUS_RETURN_IF_ERROR(stmt->Run());
    tasks = stmt->Changes();
  }
  return tasks;
}

void ClearLease(Task& task) {
  task.lease_id.clear();
  task.lease_expires_at = 0;
}

}  // namespace argus::store::sqlite
