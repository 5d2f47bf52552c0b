#include "store/sqlite/migrations.h"

#include <string>

#include "store/sqlite/schema_search.h"

namespace argus::store::sqlite {
namespace {

// STRICT tables make SQLite reject a value of the wrong type instead of storing it silently.
// api_keys_by_namespace serves ListApiKeys' keyset scan for one namespace, and for the global keys
// (namespace_id IS NULL) as well.
constexpr std::string_view kSchemaV1 = R"sql(
CREATE TABLE namespaces (
  id TEXT PRIMARY KEY NOT NULL,
  name TEXT NOT NULL UNIQUE,
  settings TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE api_keys (
  id TEXT PRIMARY KEY NOT NULL,
  namespace_id TEXT NULL REFERENCES namespaces(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
  prefix TEXT NOT NULL UNIQUE,
  hash BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  expires_at INTEGER NULL,
  revoked_at INTEGER NULL
) STRICT;

CREATE INDEX api_keys_by_namespace ON api_keys(namespace_id, id);

CREATE TABLE system_values (
  key TEXT PRIMARY KEY NOT NULL,
  value TEXT NOT NULL
) STRICT;
)sql";

// Buckets and their objects. Deleting a namespace cascades to its buckets and deleting a bucket to
// its objects (foreign_keys is on for every connection); the unique constraints' indexes serve
// those cascades. JSON columns hold nlohmann dumps: buckets.allowed_media_types is an array of
// strings, buckets.metadata_schema any value ('null': none), objects.metadata an object.
// objects.key uses the BINARY collation, so keys compare and sort bytewise (ListObjects' order).
// Indexes, by the call they serve:
//   buckets_by_namespace   ListBuckets (keyset by id within a namespace);
//   objects' unique (bucket_id, key)  GetObject, PutObject's current version, ListObjects' range;
//   objects_by_bucket_sha256  PutObject's check for another key with the same bytes;
//   objects_by_sha256      BlobReferenced (the blob collector, across buckets and namespaces).
constexpr std::string_view kSchemaV2 = R"sql(
CREATE TABLE buckets (
  id TEXT PRIMARY KEY NOT NULL,
  namespace_id TEXT NOT NULL REFERENCES namespaces(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  description TEXT NOT NULL,
  max_object_bytes INTEGER NOT NULL CHECK (max_object_bytes >= 0),
  allowed_media_types TEXT NOT NULL,
  metadata_schema TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (namespace_id, name)
) STRICT;

CREATE INDEX buckets_by_namespace ON buckets(namespace_id, id);

CREATE TABLE objects (
  id TEXT PRIMARY KEY NOT NULL,
  namespace_id TEXT NOT NULL,
  bucket_id TEXT NOT NULL REFERENCES buckets(id) ON DELETE CASCADE,
  key TEXT NOT NULL COLLATE BINARY,
  size INTEGER NOT NULL CHECK (size >= 0),
  sha256 TEXT NOT NULL,
  media_type TEXT NOT NULL,
  metadata TEXT NOT NULL,
  status TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (bucket_id, key)
) STRICT;

CREATE INDEX objects_by_bucket_sha256 ON objects(bucket_id, sha256);
CREATE INDEX objects_by_sha256 ON objects(sha256);
)sql";

// Resumable uploads and their parts. Deleting a bucket cascades to its uploads and deleting an
// upload to its parts (so a namespace's deletion reaches both). uploads.metadata holds an
// nlohmann dump of an object; uploads.key uses the BINARY collation, as objects.key does. A part
// row names its blob by sha256, so the blob collector must see it. Indexes, by the call they
// serve:
//   uploads_by_bucket        the cascade from buckets;
//   uploads_by_expiry        DeleteExpiredUploads;
//   upload_parts' primary key (upload_id, number)  ListUploadParts (in number order),
//                            PutUploadPart's upsert and the cascade from uploads;
//   upload_parts_by_sha256   BlobReferenced.
constexpr std::string_view kSchemaV3 = R"sql(
CREATE TABLE uploads (
  id TEXT PRIMARY KEY NOT NULL,
  namespace_id TEXT NOT NULL,
  bucket_id TEXT NOT NULL REFERENCES buckets(id) ON DELETE CASCADE,
  key TEXT NOT NULL COLLATE BINARY,
  metadata TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
) STRICT;

CREATE INDEX uploads_by_bucket ON uploads(bucket_id);
CREATE INDEX uploads_by_expiry ON uploads(expires_at);

CREATE TABLE upload_parts (
  upload_id TEXT NOT NULL REFERENCES uploads(id) ON DELETE CASCADE,
  number INTEGER NOT NULL CHECK (number BETWEEN 1 AND 10000),
  sha256 TEXT NOT NULL,
  size INTEGER NOT NULL CHECK (size >= 0),
  created_at INTEGER NOT NULL,
  PRIMARY KEY (upload_id, number)
) STRICT, WITHOUT ROWID;

CREATE INDEX upload_parts_by_sha256 ON upload_parts(sha256);
)sql";

// Syncs and what each knows of its source's files. Deleting a bucket cascades to its syncs and
// deleting a sync to its file records (so a namespace's deletion reaches both). syncs.source and
// syncs.metadata hold nlohmann dumps; sync_files.path uses the BINARY collation, so paths compare
// and sort bytewise (ListSyncFiles' order) as object keys do. Indexes, by the call they serve:
//   syncs' primary key       GetSync, UpdateSync, DeleteSync, and ListSyncs of every bucket;
//   syncs_by_bucket          ListSyncs of one bucket (keyset by id) and the cascade from buckets;
//   sync_files' primary key (sync_id, path)  GetSyncFiles, PutSyncFiles' upsert, ListSyncFiles
//                            without a state, RetrySyncFiles by path and the cascade from syncs;
//   sync_files_by_state      ListSyncFiles of one state (in path order), CountSyncFiles (grouped
//                            by state without reading the rows) and RetrySyncFiles of all failed.
constexpr std::string_view kSchemaV4 = R"sql(
CREATE TABLE syncs (
  id TEXT PRIMARY KEY NOT NULL,
  namespace_id TEXT NOT NULL,
  bucket_id TEXT NOT NULL REFERENCES buckets(id) ON DELETE CASCADE,
  source_type TEXT NOT NULL,
  source TEXT NOT NULL,
  key_prefix TEXT NOT NULL COLLATE BINARY,
  metadata TEXT NOT NULL,
  interval_s REAL NOT NULL CHECK (interval_s >= 1),
  paused INTEGER NOT NULL CHECK (paused IN (0, 1)),
  cursor TEXT NOT NULL,
  run_task_id TEXT NOT NULL,
  next_run_at INTEGER NOT NULL,
  last_run_at INTEGER NOT NULL,
  last_success_at INTEGER NOT NULL,
  last_error TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;

CREATE INDEX syncs_by_bucket ON syncs(bucket_id, id);

CREATE TABLE sync_files (
  sync_id TEXT NOT NULL REFERENCES syncs(id) ON DELETE CASCADE,
  path TEXT NOT NULL COLLATE BINARY,
  version TEXT NOT NULL,
  size INTEGER NOT NULL CHECK (size >= 0),
  state TEXT NOT NULL CHECK (state IN ('pending', 'ingested', 'failed')),
  error TEXT NOT NULL,
  attempts INTEGER NOT NULL CHECK (attempts >= 0),
  object_key TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (sync_id, path)
) STRICT, WITHOUT ROWID;

CREATE INDEX sync_files_by_state ON sync_files(sync_id, state, path);
)sql";

// Derived blobs (thumbnails), content-addressed by their source. Indexes, by the call they serve:
//   derived_blobs' primary key (source_sha256, variant)  GetDerivedBlob, PutDerivedBlob's upsert,
//                            DeleteDerivedBlobs, and BlobReferenced's check that the source is
//                            still referenced;
//   derived_blobs_by_sha256  BlobReferenced of a derived blob.
constexpr std::string_view kSchemaV5 = R"sql(
CREATE TABLE derived_blobs (
  source_sha256 TEXT NOT NULL,
  variant TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  media_type TEXT NOT NULL,
  size INTEGER NOT NULL CHECK (size >= 0),
  details TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (source_sha256, variant)
) STRICT, WITHOUT ROWID;

CREATE INDEX derived_blobs_by_sha256 ON derived_blobs(sha256);
)sql";

// tasks.db (before metadata.db version 6), version 1. The task row is the queue entry. Empty
// strings rather than NULL for absent text, so equality filters stay simple. Indexes, by the call
// they serve:
//   tasks_ready          Lease (pending by queue, priority, age) and Stats;
//   tasks_ready_in_namespace  the same for workers that lease for one namespace;
//   tasks_due            Lease of scheduled tasks whose run_at has come;
//   tasks_idempotency    Enqueue's per-namespace idempotency key (unique, only where set);
//   tasks_lease_expiry, tasks_running_by_kind, tasks_running_by_worker
//                        Sweep, KindLimits::max_running and ReleaseWorker (running rows only);
//   tasks_start_deadline Sweep's schedule-to-start timeouts;
//   tasks_by_namespace, tasks_by_namespace_status, tasks_by_parent
//                        List and CancelMatching, and the per-namespace pending cap;
//   tasks_finished       Purge.
// task_events.seq is AUTOINCREMENT so a seq is never reused, even after the newest events are
// purged: it is the readers' resume cursor.
constexpr std::string_view kTaskSchemaV1 = R"sql(
CREATE TABLE tasks (
  id TEXT PRIMARY KEY NOT NULL,
  namespace_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  queue TEXT NOT NULL,
  priority INTEGER NOT NULL CHECK (priority BETWEEN 0 AND 9),
  input TEXT NOT NULL,
  idempotency_key TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'scheduled', 'running', 'succeeded',
                                         'failed', 'cancelled')),
  attempt INTEGER NOT NULL,
  retry_policy TEXT NOT NULL,
  schedule_to_start_s REAL NOT NULL,
  start_to_close_s REAL NOT NULL,
  heartbeat_s REAL NOT NULL,
  progress REAL NOT NULL,
  progress_message TEXT NOT NULL,
  result TEXT NOT NULL,
  error_code TEXT NULL,
  error_message TEXT NULL,
  error_attempt INTEGER NULL,
  parent_id TEXT NOT NULL,
  worker_id TEXT NOT NULL,
  lease_id TEXT NOT NULL,
  lease_expires_at INTEGER NOT NULL,
  heartbeat_at INTEGER NOT NULL,
  cancel_requested INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  run_at INTEGER NOT NULL,
  started_at INTEGER NULL,
  finished_at INTEGER NULL,
  start_deadline_at INTEGER NULL
) STRICT;

CREATE INDEX tasks_ready ON tasks(status, queue, priority DESC, id);
CREATE INDEX tasks_ready_in_namespace ON tasks(namespace_id, status, queue, priority DESC, id);
CREATE INDEX tasks_due ON tasks(run_at) WHERE status = 'scheduled';
CREATE UNIQUE INDEX tasks_idempotency ON tasks(namespace_id, idempotency_key)
  WHERE idempotency_key <> '';
CREATE INDEX tasks_lease_expiry ON tasks(lease_expires_at) WHERE status = 'running';
CREATE INDEX tasks_running_by_kind ON tasks(kind) WHERE status = 'running';
CREATE INDEX tasks_running_by_worker ON tasks(worker_id) WHERE status = 'running';
CREATE INDEX tasks_start_deadline ON tasks(start_deadline_at)
  WHERE start_deadline_at IS NOT NULL;
CREATE INDEX tasks_by_namespace ON tasks(namespace_id, id);
CREATE INDEX tasks_by_namespace_status ON tasks(namespace_id, status, id);
CREATE INDEX tasks_by_parent ON tasks(namespace_id, parent_id, id) WHERE parent_id <> '';
CREATE INDEX tasks_finished ON tasks(finished_at) WHERE finished_at IS NOT NULL;

CREATE TABLE task_events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  type TEXT NOT NULL,
  namespace_id TEXT NOT NULL,
  task_id TEXT NOT NULL,
  data TEXT NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;

CREATE INDEX task_events_by_time ON task_events(created_at);

CREATE TABLE queue_state (
  queue TEXT PRIMARY KEY NOT NULL,
  paused INTEGER NOT NULL
) STRICT;

CREATE TABLE kind_limits (
  kind TEXT PRIMARY KEY NOT NULL,
  max_running INTEGER NOT NULL,
  max_per_second REAL NOT NULL
) STRICT;
)sql";

// Only pending tasks belong in the lease indexes: keeping finished tasks out of them makes every
// later transition cheaper and the indexes as small as the backlog, not the history.
constexpr std::string_view kTaskSchemaV2 = R"sql(
DROP INDEX tasks_ready;
DROP INDEX tasks_ready_in_namespace;
CREATE INDEX tasks_ready ON tasks(queue, priority DESC, id) WHERE status = 'pending';
CREATE INDEX tasks_ready_in_namespace ON tasks(namespace_id, queue, priority DESC, id)
  WHERE status = 'pending';
)sql";

// Queue depth and the age of the oldest pending task (what autoscalers poll) from the backlog
// alone: before this, they scanned every task ever kept.
constexpr std::string_view kTaskSchemaV3 = R"sql(
CREATE INDEX tasks_pending_age ON tasks(queue, run_at) WHERE status = 'pending';
)sql";

// Running tasks are few (the leased ones): a scan of tasks_lease_expiry finds them by kind or by
// worker as fast as two more indexes did, and every lease and completion no longer updates those.
constexpr std::string_view kTaskSchemaV4 = R"sql(
DROP INDEX tasks_running_by_kind;
DROP INDEX tasks_running_by_worker;
)sql";

// Poison-task protection: how often the process died while a task ran (RecoverWorker).
constexpr std::string_view kTaskSchemaV5 = R"sql(
ALTER TABLE tasks ADD COLUMN crash_count INTEGER NOT NULL DEFAULT 0;
)sql";

constexpr Migration kTaskQueueMigrations[] = {
    {1, "tasks, task_events, queue_state, kind_limits", kTaskSchemaV1},
    {2, "lease indexes hold only pending tasks", kTaskSchemaV2},
    {3, "queue statistics read only the backlog", kTaskSchemaV3},
    {4, "running tasks are found through the lease index", kTaskSchemaV4},
    {5, "tasks count the crashes they were running in", kTaskSchemaV5},
};

// webhooks.db (before metadata.db version 7), version 1. Empty strings and 0 rather than NULL for
// absent values, as in tasks.db. webhooks.events is a JSON array of strings. Deleting a webhook
// cascades to its deliveries and their attempts (foreign_keys is on for every connection). Indexes,
// by the call they serve:
//   webhooks_by_namespace          ListWebhooks and DeleteNamespaceWebhooks;
//   webhook_deliveries_due         LeaseDeliveries (pending only, by due time then id);
//   webhook_deliveries_by_webhook  ListDeliveries (newest first) and the cascade from webhooks;
//   webhook_deliveries_finished    Purge (finished deliveries by last update).
// The attempts' primary key serves ListAttempts and the cascade from webhook_deliveries.
// dispatch_cursor holds exactly one row: the event seq up to which deliveries were made.
constexpr std::string_view kWebhookSchemaV1 = R"sql(
CREATE TABLE webhooks (
  id TEXT PRIMARY KEY NOT NULL,
  namespace_id TEXT NOT NULL,
  url TEXT NOT NULL,
  description TEXT NOT NULL,
  events TEXT NOT NULL,
  enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),
  secret TEXT NOT NULL,
  previous_secret TEXT NOT NULL,
  previous_secret_expires_at INTEGER NOT NULL,
  consecutive_failures INTEGER NOT NULL,
  disabled_reason TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;

CREATE INDEX webhooks_by_namespace ON webhooks(namespace_id, id);

CREATE TABLE webhook_deliveries (
  id TEXT PRIMARY KEY NOT NULL,
  webhook_id TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
  namespace_id TEXT NOT NULL,
  event_id TEXT NOT NULL,
  event_type TEXT NOT NULL,
  payload TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
  attempts INTEGER NOT NULL,
  max_attempts INTEGER NOT NULL,
  next_attempt_at INTEGER NOT NULL,
  last_status_code INTEGER NOT NULL,
  last_error TEXT NOT NULL,
  last_latency_ms REAL NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;

CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_attempt_at, id)
  WHERE status = 'pending';
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries(webhook_id, id);
CREATE INDEX webhook_deliveries_finished ON webhook_deliveries(updated_at)
  WHERE status <> 'pending';

CREATE TABLE webhook_attempts (
  delivery_id TEXT NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
  attempt INTEGER NOT NULL,
  at INTEGER NOT NULL,
  status_code INTEGER NOT NULL,
  latency_ms REAL NOT NULL,
  error TEXT NOT NULL,
  PRIMARY KEY (delivery_id, attempt)
) STRICT, WITHOUT ROWID;

CREATE TABLE dispatch_cursor (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  seq INTEGER NOT NULL
) STRICT;

INSERT INTO dispatch_cursor(id, seq) VALUES (1, 0);
)sql";

constexpr Migration kWebhookMigrations[] = {
    {1, "webhooks, webhook_deliveries, webhook_attempts, dispatch_cursor", kWebhookSchemaV1},
};

// metadata.db, version 6: the task queue and the event log move in from tasks.db, so that
// every state change commits together with its event (one outbox, one writer). The task tables
// are those of tasks.db version 5; task_events becomes `events`, which every store appends to
// (subject_id: the task, object, ... it is about; queue: a task event's queue, for waking
// workers). Legacy tasks.db files are imported by the store on open (legacy_import.cc).
constexpr std::string_view kSchemaV6 = R"sql(
CREATE TABLE tasks (
  id TEXT PRIMARY KEY NOT NULL,
  namespace_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  queue TEXT NOT NULL,
  priority INTEGER NOT NULL CHECK (priority BETWEEN 0 AND 9),
  input TEXT NOT NULL,
  idempotency_key TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'scheduled', 'running', 'succeeded',
                                         'failed', 'cancelled')),
  attempt INTEGER NOT NULL,
  retry_policy TEXT NOT NULL,
  schedule_to_start_s REAL NOT NULL,
  start_to_close_s REAL NOT NULL,
  heartbeat_s REAL NOT NULL,
  progress REAL NOT NULL,
  progress_message TEXT NOT NULL,
  result TEXT NOT NULL,
  error_code TEXT NULL,
  error_message TEXT NULL,
  error_attempt INTEGER NULL,
  parent_id TEXT NOT NULL,
  worker_id TEXT NOT NULL,
  lease_id TEXT NOT NULL,
  lease_expires_at INTEGER NOT NULL,
  heartbeat_at INTEGER NOT NULL,
  cancel_requested INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  run_at INTEGER NOT NULL,
  started_at INTEGER NULL,
  finished_at INTEGER NULL,
  start_deadline_at INTEGER NULL,
  crash_count INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE INDEX tasks_ready ON tasks(queue, priority DESC, id) WHERE status = 'pending';
CREATE INDEX tasks_ready_in_namespace ON tasks(namespace_id, queue, priority DESC, id)
  WHERE status = 'pending';
CREATE INDEX tasks_pending_age ON tasks(queue, run_at) WHERE status = 'pending';
CREATE INDEX tasks_due ON tasks(run_at) WHERE status = 'scheduled';
CREATE UNIQUE INDEX tasks_idempotency ON tasks(namespace_id, idempotency_key)
  WHERE idempotency_key <> '';
CREATE INDEX tasks_lease_expiry ON tasks(lease_expires_at) WHERE status = 'running';
CREATE INDEX tasks_start_deadline ON tasks(start_deadline_at)
  WHERE start_deadline_at IS NOT NULL;
CREATE INDEX tasks_by_namespace ON tasks(namespace_id, id);
CREATE INDEX tasks_by_namespace_status ON tasks(namespace_id, status, id);
CREATE INDEX tasks_by_parent ON tasks(namespace_id, parent_id, id) WHERE parent_id <> '';
CREATE INDEX tasks_finished ON tasks(finished_at) WHERE finished_at IS NOT NULL;

CREATE TABLE events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  type TEXT NOT NULL,
  namespace_id TEXT NOT NULL,
  subject_id TEXT NOT NULL,
  queue TEXT NOT NULL,
  data TEXT NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;

CREATE INDEX events_by_time ON events(created_at);

CREATE TABLE queue_state (
  queue TEXT PRIMARY KEY NOT NULL,
  paused INTEGER NOT NULL
) STRICT;

CREATE TABLE kind_limits (
  kind TEXT PRIMARY KEY NOT NULL,
  max_running INTEGER NOT NULL,
  max_per_second REAL NOT NULL
) STRICT;
)sql";

// metadata.db, version 8: the dispatcher leases per webhook (a window each), through an index of
// each webhook's pending deliveries in due order; walking webhook_deliveries_due instead skipped
// the whole backlog of a webhook at its window on every lease.
constexpr std::string_view kSchemaV8 = R"sql(
CREATE INDEX webhook_deliveries_due_by_webhook
  ON webhook_deliveries(webhook_id, next_attempt_at, id) WHERE status = 'pending';
)sql";

// metadata.db, version 9: the task catalog. The workers publish the kinds they run (with input
// schemas) and heartbeat their registrations; the API reads both instead of asking the engine.
// task_kinds.queues is a JSON array of strings. workers is keyed by (namespace_id, id): an external
// worker's id is its own and may repeat across tenants ("" namespace: serves every namespace).
// workers_by_heartbeat serves ForgetWorkers.
constexpr std::string_view kSchemaV9 = R"sql(
CREATE TABLE task_kinds (
  kind TEXT PRIMARY KEY NOT NULL,
  description TEXT NOT NULL,
  input_schema TEXT NOT NULL,
  internal INTEGER NOT NULL CHECK (internal IN (0, 1)),
  queues TEXT NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE workers (
  namespace_id TEXT NOT NULL,
  id TEXT NOT NULL,
  namespace_name TEXT NOT NULL,
  host TEXT NOT NULL,
  external INTEGER NOT NULL CHECK (external IN (0, 1)),
  queues TEXT NOT NULL,
  state TEXT NOT NULL,
  slots INTEGER NOT NULL,
  running INTEGER NOT NULL,
  completed INTEGER NOT NULL,
  started_at INTEGER NOT NULL,
  last_heartbeat INTEGER NOT NULL,
  PRIMARY KEY (namespace_id, id)
) STRICT;

CREATE INDEX workers_by_heartbeat ON workers(last_heartbeat);
)sql";

// metadata.db, version 10: kinds external workers publish over HTTP (PUT /v1/task-kinds/{kind})
// beside those of Argus's own workers, which they may not replace.
constexpr std::string_view kSchemaV10 = R"sql(
ALTER TABLE task_kinds ADD COLUMN external INTEGER NOT NULL DEFAULT 0 CHECK (external IN (0, 1));
)sql";

// metadata.db, version 11: collections. Exactly one source: a bucket (tier 1) or another
// collection (a later tier); neither may be deleted while a collection names it (NO ACTION: a
// namespace's cascade removes both in one statement). extractors, field_passthrough and
// payload_indexes are JSON arrays. Indexes: collections_by_namespace serves ListCollections,
// the partial ones CollectionsOfSource and the checks before a delete.
constexpr std::string_view kSchemaV11 = R"sql(
CREATE TABLE collections (
  id TEXT PRIMARY KEY NOT NULL,
  namespace_id TEXT NOT NULL REFERENCES namespaces(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  description TEXT NOT NULL,
  source_bucket_id TEXT NULL REFERENCES buckets(id),
  source_collection_id TEXT NULL REFERENCES collections(id),
  extractors TEXT NOT NULL,
  field_passthrough TEXT NOT NULL,
  payload_indexes TEXT NOT NULL,
  auto_process INTEGER NOT NULL CHECK (auto_process IN (0, 1)),
  generation INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (namespace_id, name),
  CHECK ((source_bucket_id IS NULL) <> (source_collection_id IS NULL))
) STRICT;

CREATE INDEX collections_by_namespace ON collections(namespace_id, id);
CREATE INDEX collections_by_bucket ON collections(source_bucket_id, id)
  WHERE source_bucket_id IS NOT NULL;
CREATE INDEX collections_by_collection ON collections(source_collection_id, id)
  WHERE source_collection_id IS NOT NULL;
)sql";

// metadata.db, version 12: documents. `key` is the integer key vector indexes use (AUTOINCREMENT:
// never reused, so an index never confuses a deleted document with a new one). A source's
// documents are unique by unit. Deleting an object deletes its documents (root object_id), in
// every tier; deleting a collection deletes its documents. document_vectors holds f32 blobs; its
// triggers journal every vector change in vector_changes, cascades included, so a vector index
// file can catch up from the seq it was saved at.
constexpr std::string_view kSchemaV12 = R"sql(
CREATE TABLE documents (
  key INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  namespace_id TEXT NOT NULL,
  collection_id TEXT NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
  source_id TEXT NOT NULL,
  unit TEXT NOT NULL,
  object_id TEXT NOT NULL REFERENCES objects(id) ON DELETE CASCADE,
  parent_id TEXT NOT NULL,
  tier INTEGER NOT NULL,
  region TEXT NOT NULL,
  payload TEXT NOT NULL,
  versions TEXT NOT NULL,
  text TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (collection_id, source_id, unit)
) STRICT;

CREATE INDEX documents_by_collection ON documents(collection_id, key);
CREATE INDEX documents_by_object ON documents(object_id);

CREATE TABLE document_vectors (
  key INTEGER NOT NULL REFERENCES documents(key) ON DELETE CASCADE,
  feature TEXT NOT NULL,
  collection_id TEXT NOT NULL,
  vector BLOB NOT NULL,
  PRIMARY KEY (key, feature)
) STRICT, WITHOUT ROWID;

CREATE TABLE vector_changes (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  collection_id TEXT NOT NULL,
  key INTEGER NOT NULL,
  feature TEXT NOT NULL,
  removed INTEGER NOT NULL CHECK (removed IN (0, 1))
) STRICT;

CREATE INDEX vector_changes_by_collection ON vector_changes(collection_id, seq);

CREATE TRIGGER document_vector_added AFTER INSERT ON document_vectors BEGIN
  INSERT INTO vector_changes(collection_id, key, feature, removed)
    VALUES (new.collection_id, new.key, new.feature, 0);
END;

CREATE TRIGGER document_vector_removed AFTER DELETE ON document_vectors BEGIN
  INSERT INTO vector_changes(collection_id, key, feature, removed)
    VALUES (old.collection_id, old.key, old.feature, 1);
END;
)sql";

constexpr Migration kMetadataMigrations[] = {
    {1, "namespaces, api_keys, system_values", kSchemaV1},
    {2, "buckets, objects", kSchemaV2},
    {3, "uploads, upload_parts", kSchemaV3},
    {4, "syncs, sync_files", kSchemaV4},
    {5, "derived_blobs", kSchemaV5},
    {6, "the task queue and the event log (from tasks.db)", kSchemaV6},
    // metadata.db, version 7: the webhooks and their deliveries move in from webhooks.db, so a
    // delivery is recorded in the transaction that moves the dispatch cursor past its event.
    {7, "webhooks, webhook_deliveries, webhook_attempts (from webhooks.db)", kWebhookSchemaV1},
    {8, "each webhook's due deliveries are leased on their own", kSchemaV8},
    {9, "task_kinds, workers (the task catalog)", kSchemaV9},
    {10, "task kinds published by external workers", kSchemaV10},
    {11, "collections", kSchemaV11},
    {12, "documents, document_vectors, vector_changes", kSchemaV12},
    {13, "documents_text (FTS5), a parent document's removal removes its later tiers", kSchemaV13},
    {14, "batches", kSchemaV14},
    {15, "the vector journal can be trimmed (vector_journal_floors)", kSchemaV15},
    {16, "payload indexes (payload_values)", kSchemaV16},
};

constexpr std::string_view kCreateHistory = R"sql(
CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY NOT NULL,
  description TEXT NOT NULL,
  applied_at_us INTEGER NOT NULL
) STRICT;
)sql";

Status CheckNumbering(std::span<const Migration> migrations) {
  for (size_t i = 0; i < migrations.size(); ++i) {
    if (migrations[i].version != static_cast<int>(i) + 1) {
      return InternalError("sqlite migrations are misnumbered: entry " + std::to_string(i) +
                           " has version " + std::to_string(migrations[i].version) + ", expected " +
                           std::to_string(i + 1));
    }
  }
  return OkStatus();
}

Status CheckNotNewer(const SqliteDatabase& db, int version, int known) {
  if (version <= known) return OkStatus();
  return FailedPreconditionError("database " + db.path() + " has schema version " +
                                 std::to_string(version) + " but this argus knows up to " +
                                 std::to_string(known) + "; upgrade argus");
}

// Applies `m` unless another connection got there first; the version is re-read under the write
// lock so two processes starting together cannot both apply the same step.
Status ApplyOne(SqliteDatabase& db, const Migration& m, int known, int64_t now_us) {
  std::string operation = "apply schema migration " + std::to_string(m.version) + " (" +
                          std::string(m.description) + ")";
  ARGUS_ASSIGN_OR_RETURN(auto txn, Transaction::BeginImmediate(db, operation));
  ARGUS_ASSIGN_OR_RETURN(int current, SchemaVersion(db));
  ARGUS_RETURN_IF_ERROR(CheckNotNewer(db, current, known));
  if (current >= m.version) return OkStatus();  // the destructor ends the empty transaction
  ARGUS_RETURN_IF_ERROR(db.Exec(kCreateHistory, operation));
  ARGUS_RETURN_IF_ERROR(db.Exec(m.sql, operation));
  {
    ARGUS_ASSIGN_OR_RETURN(auto record, db.Prepare("INSERT INTO schema_migrations(version, "
                                                   "description, applied_at_us) VALUES (?, ?, ?)",
                                                   operation));
    record->BindInt64(1, m.version);
    record->BindText(2, m.description);
    record->BindInt64(3, now_us);
    ARGUS_RETURN_IF_ERROR(record->Run());
  }
  return txn.Commit();
}

}  // namespace

std::span<const Migration> MetadataMigrations() { return kMetadataMigrations; }

std::span<const Migration> LegacyTaskQueueMigrations() { return kTaskQueueMigrations; }

std::span<const Migration> LegacyWebhookMigrations() { return kWebhookMigrations; }

Result<int> SchemaVersion(SqliteDatabase& db) {
  ARGUS_ASSIGN_OR_RETURN(std::string exists,
                         db.QueryText("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND "
                                      "name = 'schema_migrations'",
                                      "read schema version"));
  if (exists == "0") return 0;
  ARGUS_ASSIGN_OR_RETURN(auto stmt, db.Prepare("SELECT COALESCE(MAX(version), 0) FROM "
                                               "schema_migrations",
                                               "read schema version"));
  ARGUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
  return row ? static_cast<int>(stmt->ColumnInt64(0)) : 0;
}

Status ApplyMigrations(SqliteDatabase& db, std::span<const Migration> migrations, int64_t now_us) {
  ARGUS_RETURN_IF_ERROR(CheckNumbering(migrations));
  const int known = static_cast<int>(migrations.size());
  ARGUS_ASSIGN_OR_RETURN(int current, SchemaVersion(db));
  ARGUS_RETURN_IF_ERROR(CheckNotNewer(db, current, known));
  for (const Migration& m : migrations) {
    if (m.version <= current) continue;
    ARGUS_RETURN_IF_ERROR(ApplyOne(db, m, known, now_us));
  }
  return OkStatus();
}

}  // namespace argus::store::sqlite
