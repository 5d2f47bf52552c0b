// What the API reads from the task catalog (store/task_catalog.h): the kinds workers publish,
// with their input schemas compiled once, and the workers' registrations, external workers'
// included (the lease endpoint records them).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/json.h"
#include "core/json_schema.h"
#include "core/result.h"
#include "store/task_catalog.h"

namespace argus::api {

/// A published kind with its input schema compiled (null when it did not compile: submissions
/// of the kind are then refused rather than accepted unchecked).
struct KnownKind {
  store::TaskKindEntry entry;
  std::shared_ptr<const JsonSchema> input_schema;
  std::string schema_error;
};

/// The kinds of the catalog, read again at most every `refresh_s` (also for a kind it does not
/// know, so a kind an external worker publishes is seen within that time without a read per
/// submission). Thread-safe; `catalog` and `clock` are borrowed and outlive it.
class TaskKindCache {
 public:
  TaskKindCache(store::TaskCatalog* catalog, const Clock* clock, double refresh_s = 1.0);

  /// The kind, or null when no worker published it (external kinds often are not: their input
  /// is not checked). An error only when the catalog cannot be read and nothing is cached.
  Result<std::shared_ptr<const KnownKind>> Find(std::string_view kind);
  /// Every published kind, by name (read now).
  Result<std::vector<std::shared_ptr<const KnownKind>>> List();
  /// The catalog changed through this process (a kind published over HTTP): the next Find
  /// reads it again.
  void Invalidate();

 private:
  using Kinds = std::map<std::string, std::shared_ptr<const KnownKind>, std::less<>>;
  Status Refresh(bool force);

  store::TaskCatalog* catalog_;
  const Clock* clock_;
  const int64_t refresh_us_;
  std::mutex mu_;
  std::shared_ptr<const Kinds> kinds_;  // GUARDED_BY(mu_)
  TimestampUs read_at_ = 0;             // GUARDED_BY(mu_)
  bool stale_ = false;                  // GUARDED_BY(mu_)
};

/// The workers of the catalog as GET /v1/workers lists them, and the record of external workers
/// the lease endpoint sees: a lease call writes the worker's registration when it is new, when
/// its host or queues changed, or `touch_every_s` after its last write (not on every long poll).
/// Thread-safe; `catalog` and `clock` are borrowed and outlive it.
class WorkerDirectory {
 public:
  /// Workers silent longer than this are not listed.
  static constexpr double kListedForS = 600;

  WorkerDirectory(store::TaskCatalog* catalog, const Clock* clock, double touch_every_s = 2.0);

  /// An external worker leased: `namespace_id` "" for a global key leasing everywhere.
  Status TouchExternal(const std::string& namespace_id, const std::string& namespace_name,
                       const std::string& id, const std::string& host,
                       const std::vector<std::string>& queues);
  /// The workers of `namespace_id`, or every worker (global admins) when nullopt; in-process
  /// workers first.
  Result<Json> ToJson(const std::optional<std::string>& namespace_id);

 private:
  struct Written {
    std::string host;
    std::vector<std::string> queues;
    TimestampUs at = 0;
  };
  store::TaskCatalog* catalog_;
  const Clock* clock_;
  const int64_t touch_every_us_;
  std::mutex mu_;
  std::map<std::pair<std::string, std::string>, Written> written_;  // GUARDED_BY(mu_)
};

}  // namespace argus::api
