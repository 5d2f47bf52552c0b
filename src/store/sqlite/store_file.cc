#include "store/sqlite/store_file.h"

#include <filesystem>
#include <map>

#include "store/sqlite/legacy_import.h"
#include "store/sqlite/sqlite_metadata_store.h"

namespace argus::store::sqlite {
namespace {

// The live files of this process, by path: stores of one directory share one writer.
std::mutex& OpenFilesMutex() {
  static std::mutex mu;
  return mu;
}
std::map<std::string, std::weak_ptr<SqliteStoreFile>>& OpenFiles() {
  static auto* files = new std::map<std::string, std::weak_ptr<SqliteStoreFile>>();
  return *files;
}

}  // namespace

SqliteStoreFile::SqliteStoreFile(std::string path, const Clock* clock, SqliteOptions reader_options,
                                 EventBus* bus)
    : path_(std::move(path)),
      clock_(clock),
      bus_(bus),
      readers_(path_, reader_options, kMaxReaders) {}

SqliteStoreFile::~SqliteStoreFile() = default;

Result<std::shared_ptr<SqliteStoreFile>> SqliteStoreFile::Open(const StoreArgs& args) {
  const Config defaults;
  ARGUS_ASSIGN_OR_RETURN(SqliteOptions options,
                         SqliteOptionsFromConfig(args.config ? *args.config : defaults));
  if (args.data_dir.empty()) {
    return InvalidArgumentError("the sqlite stores need a data directory");
  }
  std::error_code ec;
  if (!std::filesystem::is_directory(args.data_dir, ec)) {
    return FailedPreconditionError("data directory " + args.data_dir +
                                   " does not exist or is not a directory");
  }
  const std::string dir = std::filesystem::canonical(args.data_dir, ec).string();
  const std::string path = (ec ? args.data_dir : dir) + "/metadata.db";
  std::lock_guard lock(OpenFilesMutex());
  if (auto live = OpenFiles()[path].lock()) return live;

  const Clock* clock = args.clock ? args.clock : &SystemClock::Get();
  ARGUS_ASSIGN_OR_RETURN(std::unique_ptr<SqliteDatabase> writer,
                         SqliteDatabase::Open(path, options));
  ARGUS_RETURN_IF_ERROR(ApplyMigrations(*writer, MetadataMigrations(), clock->NowUs()));
  ARGUS_RETURN_IF_ERROR(
      ImportLegacyFiles(*writer, ec ? args.data_dir : dir, options, clock->NowUs()));
  SqliteOptions reader_options = options;
  reader_options.query_only = true;
  std::shared_ptr<SqliteStoreFile> file(
      new SqliteStoreFile(path, clock, reader_options, args.event_bus));
  // Every store writes here: the WAL is checkpointed off the commit path.
  ARGUS_ASSIGN_OR_RETURN(file->checkpointer_,
                         WalCheckpointer::Start(path, reader_options, *writer));
  SqliteStoreFile* raw = file.get();
  EventBus* bus = args.event_bus;
  file->writer_ = std::make_unique<GroupCommitWriter>(
      std::move(writer), [raw] { raw->RunRollbackHooks(); },
      [bus](std::vector<Event> events) {
        if (bus != nullptr) {
          bus->Publish(std::make_shared<const std::vector<Event>>(std::move(events)));
        }
      });
  if (args.metrics != nullptr) {
    // A weak pointer: the registry may outlive the file.
    std::weak_ptr<SqliteStoreFile> weak = file;
    args.metrics->AddCollector([weak](std::string& out) {
      auto live = weak.lock();
      if (!live) return;
      out += "# HELP argus_sqlite_reads_total Read transactions on metadata.db.\n";
      out += "# TYPE argus_sqlite_reads_total counter\n";
      AppendSample(out, "argus_sqlite_reads_total", {}, {},
                   static_cast<double>(live->readers().Acquired()));
      out +=
          "# HELP argus_sqlite_writes_total Write operations on metadata.db (each store call).\n";
      out += "# TYPE argus_sqlite_writes_total counter\n";
      AppendSample(out, "argus_sqlite_writes_total", {}, {},
                   static_cast<double>(live->writer().Operations()));
      out += "# HELP argus_sqlite_commits_total Group commits on metadata.db.\n";
      out += "# TYPE argus_sqlite_commits_total counter\n";
      AppendSample(out, "argus_sqlite_commits_total", {}, {},
                   static_cast<double>(live->writer().Commits()));
    });
  }
  OpenFiles()[path] = file;
  return file;
}

int SqliteStoreFile::AddRollbackHook(std::function<void()> hook) {
  std::lock_guard lock(hooks_mu_);
  rollback_hooks_.emplace(next_hook_, std::move(hook));
  return next_hook_++;
}

void SqliteStoreFile::RemoveRollbackHook(int id) {
  std::lock_guard lock(hooks_mu_);
  rollback_hooks_.erase(id);
}

void SqliteStoreFile::RunRollbackHooks() {
  std::lock_guard lock(hooks_mu_);
  for (const auto& [id, hook] : rollback_hooks_) hook();
}

Status CheckPageRequest(const PageRequest& page) {
  if (page.limit < 1 || page.limit > 1000) {
    return InvalidArgumentError("page limit must be between 1 and 1000, not " +
                                std::to_string(page.limit));
  }
  return OkStatus();
}

}  // namespace argus::store::sqlite
