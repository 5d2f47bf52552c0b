#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/sqlite/store_file.h"
#include "store/store_registry.h"
#include "store/task_catalog.h"

namespace argus::store::sqlite {

/// TaskCatalog in metadata.db (SqliteStoreFile), tables task_kinds and workers: writes ride the
/// file's group commit, reads use its read-only pool. Durable once a call returns; one argus
/// process per file (capabilities: durable, not multi_process). Thread-safe.
///
/// Left open by the contract, decided here: PublishKinds and Heartbeat are one transaction each
/// (all of the batch or none of it); a batch naming the same kind or worker twice keeps the last.
class SqliteTaskCatalog final : public TaskCatalog {
 public:
  /// Opens (or shares) `<args.data_dir>/metadata.db`; errors as SqliteStoreFile::Open.
  static Result<std::unique_ptr<TaskCatalog>> Create(const StoreArgs& args);

  Status PublishKinds(const std::vector<TaskKindEntry>& kinds) override;
  Result<bool> PublishExternalKind(const TaskKindEntry& kind) override;
  Status RemoveExternalKind(std::string_view kind) override;
  Result<std::vector<TaskKindEntry>> ListKinds() override;
  Status Heartbeat(const std::vector<WorkerRecord>& workers) override;
  Status Deregister(std::string_view namespace_id, const std::vector<std::string>& ids) override;
  Result<std::vector<WorkerRecord>> ListWorkers(std::optional<std::string_view> namespace_id,
                                                TimestampUs since) override;
  Result<int64_t> ForgetWorkers(TimestampUs before) override;

 private:
  explicit SqliteTaskCatalog(std::shared_ptr<SqliteStoreFile> file) : file_(std::move(file)) {}

  const std::shared_ptr<SqliteStoreFile> file_;
};

}  // namespace argus::store::sqlite
