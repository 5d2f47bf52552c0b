#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "core/config.h"
#include "store/metadata_store.h"
#include "store/sqlite/connection_pool.h"
#include "store/sqlite/sqlite_database.h"
#include "store/store_registry.h"

namespace argus::store::sqlite {

/// Connection options from "metadata.sqlite.synchronous" ("normal" or "full") and
/// "metadata.sqlite.busy_timeout_ms" (0..INT_MAX). InvalidArgument naming the key otherwise.
Result<SqliteOptions> SqliteOptionsFromConfig(const Config& config);

/// MetadataStore on one SQLite file, `<data_dir>/metadata.db`, in WAL mode. Durable once a call
/// returns (synchronous=NORMAL survives kill -9; "metadata.sqlite.synchronous: full" also survives
/// power loss). One argus process per file (capabilities: durable, not multi_process).
///
/// Threading: one write connection behind a mutex plus a pool of up to kMaxReaders read-only
/// connections. SQLite admits one writer at a time whatever we do, so a single write connection
/// costs no write throughput and turns writer contention inside the process into a mutex wait
/// rather than SQLITE_BUSY; WAL lets the readers run concurrently with it, each read seeing every
/// write committed before it started. All methods are thread-safe.
class SqliteMetadataStore final : public MetadataStore {
 public:
  static constexpr int kMaxReaders = 4;

  /// Opens or creates `<args.data_dir>/metadata.db` and migrates it to the current schema.
  /// InvalidArgument for a bad "metadata.sqlite.*" setting; FailedPrecondition when data_dir is
  /// not a directory or the database was written by a newer argus; Unavailable when another
  /// process holds the write lock past the busy timeout; Internal when SQLite fails otherwise.
  static Result<std::unique_ptr<MetadataStore>> Create(const StoreArgs& args);

  Status Ping() override;
  Result<std::optional<std::string>> GetSystemValue(std::string_view key) override;
  Status PutSystemValue(std::string_view key, std::string_view value) override;

  Result<Namespace> CreateNamespace(const Namespace& ns) override;
  Result<Namespace> GetNamespace(std::string_view id) override;
  Result<Namespace> GetNamespaceByName(std::string_view name) override;
  Result<Page<Namespace>> ListNamespaces(const PageRequest& page) override;
  Status DeleteNamespace(std::string_view id) override;

  Result<ApiKey> CreateApiKey(const ApiKey& key) override;
  Result<ApiKey> GetApiKey(std::string_view id) override;
  Result<ApiKey> GetApiKeyByPrefix(std::string_view prefix) override;
  Result<Page<ApiKey>> ListApiKeys(std::string_view namespace_id, const PageRequest& page,
                                   bool include_revoked) override;
  Result<ApiKey> RevokeApiKey(std::string_view id, TimestampUs at) override;

 private:
  SqliteMetadataStore(std::string path, std::unique_ptr<SqliteDatabase> writer,
                      SqliteOptions reader_options);

  Result<Namespace> FindNamespace(std::string_view sql, std::string_view value,
                                  std::string_view what);
  Result<ApiKey> FindApiKey(std::string_view sql, std::string_view value, std::string_view what);
  Result<ApiKey> InsertApiKey(SqliteDatabase& db, const ApiKey& key);

  const std::string path_;
  std::mutex write_mu_;
  const std::unique_ptr<SqliteDatabase> writer_;  // used only under write_mu_
  ConnectionPool readers_;
};

}  // namespace argus::store::sqlite
