#include "store/sqlite/legacy_import.h"

#include <filesystem>
#include <string_view>

#include "core/log.h"
#include "store/sqlite/migrations.h"

namespace argus::store::sqlite {
namespace {

struct LegacyFile {
  std::string_view name;
  std::span<const Migration> (*migrations)();
  std::string_view copy_sql;  // runs with the file attached as `legacy`
};

// Column lists are spelled out: the main tables may gain columns the legacy ones never had.
constexpr std::string_view kCopyTasks = R"sql(
INSERT INTO main.tasks(id, namespace_id, kind, queue, priority, input, idempotency_key, status,
  attempt, retry_policy, schedule_to_start_s, start_to_close_s, heartbeat_s, progress,
  progress_message, result, error_code, error_message, error_attempt, parent_id, worker_id,
  lease_id, lease_expires_at, heartbeat_at, cancel_requested, created_at, updated_at, run_at,
  started_at, finished_at, start_deadline_at, crash_count)
SELECT id, namespace_id, kind, queue, priority, input, idempotency_key, status,
  attempt, retry_policy, schedule_to_start_s, start_to_close_s, heartbeat_s, progress,
  progress_message, result, error_code, error_message, error_attempt, parent_id, worker_id,
  lease_id, lease_expires_at, heartbeat_at, cancel_requested, created_at, updated_at, run_at,
  started_at, finished_at, start_deadline_at, crash_count
FROM legacy.tasks;
INSERT INTO main.events(seq, type, namespace_id, subject_id, queue, data, created_at)
SELECT e.seq, e.type, e.namespace_id, e.task_id, COALESCE(t.queue, ''), e.data, e.created_at
FROM legacy.task_events AS e LEFT JOIN legacy.tasks AS t ON t.id = e.task_id ORDER BY e.seq;
DELETE FROM main.sqlite_sequence WHERE name = 'events';
INSERT INTO main.sqlite_sequence(name, seq)
SELECT 'events', MAX(COALESCE((SELECT MAX(seq) FROM main.events), 0),
                     COALESCE((SELECT seq FROM legacy.sqlite_sequence
                               WHERE name = 'task_events'), 0));
INSERT OR REPLACE INTO main.queue_state(queue, paused) SELECT queue, paused FROM legacy.queue_state;
INSERT OR REPLACE INTO main.kind_limits(kind, max_running, max_per_second)
SELECT kind, max_running, max_per_second FROM legacy.kind_limits;
)sql";

constexpr std::string_view kCopyWebhooks = R"sql(
INSERT INTO main.webhooks SELECT * FROM legacy.webhooks;
INSERT INTO main.webhook_deliveries SELECT * FROM legacy.webhook_deliveries;
INSERT INTO main.webhook_attempts SELECT * FROM legacy.webhook_attempts;
UPDATE main.dispatch_cursor SET seq = (SELECT seq FROM legacy.dispatch_cursor WHERE id = 1)
WHERE EXISTS (SELECT 1 FROM legacy.dispatch_cursor WHERE id = 1);
)sql";

constexpr LegacyFile kLegacyFiles[] = {
    {"tasks.db", &LegacyTaskQueueMigrations, kCopyTasks},
    {"webhooks.db", &LegacyWebhookMigrations, kCopyWebhooks},
};

Result<bool> Marked(SqliteDatabase& db, const std::string& marker) {
  ARGUS_ASSIGN_OR_RETURN(auto stmt, db.Prepare("SELECT 1 FROM system_values WHERE key = ?",
                                               "look for a legacy import marker"));
  stmt->BindText(1, marker);
  return stmt->Step();
}

Status Import(SqliteDatabase& db, const LegacyFile& legacy, const std::string& file,
              const SqliteOptions& options, TimestampUs now) {
  const std::string marker = "imported:" + std::string(legacy.name);
  ARGUS_ASSIGN_OR_RETURN(bool done, Marked(db, marker));
  if (!done) {
    {
      // Its own last version first: the copy below reads that schema.
      ARGUS_ASSIGN_OR_RETURN(auto old, SqliteDatabase::Open(file, options));
      ARGUS_RETURN_IF_ERROR(ApplyMigrations(*old, legacy.migrations(), now));
    }
    const std::string what = "import " + file;
    {
      ARGUS_ASSIGN_OR_RETURN(auto attach, db.Prepare("ATTACH DATABASE ? AS legacy", what));
      attach->BindText(1, file);
      ARGUS_RETURN_IF_ERROR(attach->Run());
    }
    Status copied = [&]() -> Status {
      ARGUS_ASSIGN_OR_RETURN(auto txn, Transaction::BeginImmediate(db, what));
      ARGUS_RETURN_IF_ERROR(db.Exec(legacy.copy_sql, what));
      ARGUS_ASSIGN_OR_RETURN(
          auto mark, db.Prepare("INSERT INTO system_values(key, value) VALUES (?, ?)", what));
      mark->BindText(1, marker);
      mark->BindText(2, std::to_string(now));
      ARGUS_RETURN_IF_ERROR(mark->Run());
      return txn.Commit();
    }();
    Status detached = db.Exec("DETACH DATABASE legacy", what);
    ARGUS_RETURN_IF_ERROR(copied);
    ARGUS_RETURN_IF_ERROR(detached);
    log::Info("imported the data of an older argus into metadata.db", {{"file", file}});
  }
  std::error_code ec;
  std::filesystem::rename(file, file + ".imported", ec);
  if (ec) {
    return InternalError("cannot rename " + file + " after importing it: " + ec.message());
  }
  for (const char* suffix : {"-wal", "-shm"}) std::filesystem::remove(file + suffix, ec);
  return OkStatus();
}

}  // namespace

Status ImportLegacyFiles(SqliteDatabase& db, const std::string& data_dir,
                         const SqliteOptions& options, TimestampUs now) {
  for (const LegacyFile& legacy : kLegacyFiles) {
    const std::string file = data_dir + "/" + std::string(legacy.name);
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) continue;
    ARGUS_RETURN_IF_ERROR(Import(db, legacy, file, options, now));
  }
  return OkStatus();
}

}  // namespace argus::store::sqlite
