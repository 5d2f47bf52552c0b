#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/result.h"

namespace argus::store {

/// A task kind as the workers that run it describe it. The API reads it to check a submission
/// (its input schema, whether clients may submit it at all) and lists it at GET /v1/task-kinds;
/// it never asks a worker.
struct TaskKindEntry {
  std::string kind;
  std::string description;
  /// JSON Schema of the task's `input`, as JSON text ("{}" accepts any input).
  std::string input_schema_json = "{}";
  /// Enqueued only by Argus itself (sync runs, upload completion): refused from clients.
  bool internal = false;
  /// The queues served by the workers that published it.
  std::vector<std::string> queues;
  /// Published over HTTP for external workers (PublishExternalKind), not by Argus's own.
  bool external = false;
  TimestampUs updated_at = 0;  ///< set by the store when published
};

/// A worker as it last reported itself: in-process slot groups of `argus serve` / `argus worker`
/// and external workers leasing over HTTP alike.
struct WorkerRecord {
  std::string id;
  std::string namespace_id;    ///< "" for a worker that serves every namespace
  std::string namespace_name;  ///< shown with it ("" for every namespace)
  std::string host;
  bool external = false;  ///< leases over the HTTP worker protocol
  std::vector<std::string> queues;
  std::string state;  ///< "idle", "busy", "stopping"; "external" for external workers
  int slots = 0;      ///< tasks it runs at once (0: not reported)
  int64_t running = 0;
  int64_t completed = 0;
  TimestampUs started_at = 0;      ///< its first heartbeat (kept by the store)
  TimestampUs last_heartbeat = 0;  ///< set by the store on Heartbeat
};

/// The task catalog: what the workers serving the queues declare (kinds and their input
/// schemas) and which workers are alive (registrations with heartbeats). Written by the workers,
/// read by the API, so `argus api` and `argus worker` need not share a process.
///
/// Thread-safe; durable once a call returns (a backend that is not says so in its capabilities).
class TaskCatalog {
 public:
  virtual ~TaskCatalog() = default;

  /// Argus's own workers: adds the kinds, or replaces those of the same name, external ones
  /// included (external = false, updated_at = now). InvalidArgument for an empty name or an
  /// input schema that is not a JSON object.
  virtual Status PublishKinds(const std::vector<TaskKindEntry>& kinds) = 0;
  /// A kind that external workers run (external = true, updated_at = now); true when it was
  /// new. FailedPrecondition when Argus's own workers publish a kind of that name (checked in
  /// the same transaction); InvalidArgument as PublishKinds.
  virtual Result<bool> PublishExternalKind(const TaskKindEntry& kind) = 0;
  /// Removes an external kind. NotFound when absent; FailedPrecondition for a kind Argus's own
  /// workers publish.
  virtual Status RemoveExternalKind(std::string_view kind) = 0;
  /// Every published kind, by name.
  virtual Result<std::vector<TaskKindEntry>> ListKinds() = 0;

  /// Records each worker as alive now: inserts it, or replaces what it reported before (by
  /// namespace_id and id), keeping its started_at. InvalidArgument for an empty id.
  virtual Status Heartbeat(const std::vector<WorkerRecord>& workers) = 0;
  /// Removes workers that stopped. Unknown ids are ignored.
  virtual Status Deregister(std::string_view namespace_id, const std::vector<std::string>& ids) = 0;
  /// The workers heard from at or after `since`, by namespace_id then id; only those of
  /// `namespace_id` when given ("" selects the workers that serve every namespace).
  virtual Result<std::vector<WorkerRecord>> ListWorkers(
      std::optional<std::string_view> namespace_id, TimestampUs since) = 0;
  /// Forgets workers last heard from before `before`; returns how many.
  virtual Result<int64_t> ForgetWorkers(TimestampUs before) = 0;
};

}  // namespace argus::store
