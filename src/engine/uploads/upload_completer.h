#pragma once

#include "core/json.h"
#include "core/result.h"
#include "engine/worker/task_kinds.h"
#include "domain/object_ingest.h"

namespace argus::engine {

/// Runs domain::kUploadCompleteKind tasks: a resumable upload's parts become its object
/// (domain::CompleteUpload), off the HTTP threads, heartbeating as the bytes go. The API queues
/// them (POST .../uploads/{id}/complete). Thread-safe; borrows the stores in `ingest`.
class UploadCompleter {
 public:
  explicit UploadCompleter(domain::IngestContext ingest) : ingest_(ingest) {}

  /// One completion; its result is the object record with "deduplicated".
  Result<Json> Run(TaskContext& ctx);

  /// Registers the kind (internal: clients complete uploads through their own route).
  Status Register(TaskKindRegistry& registry);

 private:
  domain::IngestContext ingest_;
};

}  // namespace argus::engine
