#include "store/sqlite/store_file.h"

#include <filesystem>

#include "store/sqlite/sqlite_metadata_store.h"

namespace argus::store::sqlite {

Result<OpenedStoreFile> OpenStoreFile(const StoreArgs& args, std::string_view file_name,
                                      std::span<const Migration> migrations,
                                      std::string_view what) {
  const Config defaults;
  ARGUS_ASSIGN_OR_RETURN(SqliteOptions options,
                         SqliteOptionsFromConfig(args.config ? *args.config : defaults));
  if (args.data_dir.empty()) {
    return InvalidArgumentError(std::string(what) + " needs a data directory");
  }
  std::error_code ec;
  if (!std::filesystem::is_directory(args.data_dir, ec)) {
    return FailedPreconditionError("data directory " + args.data_dir +
                                   " does not exist or is not a directory");
  }
  OpenedStoreFile out;
  out.path = args.data_dir + "/" + std::string(file_name);
  ARGUS_ASSIGN_OR_RETURN(out.writer, SqliteDatabase::Open(out.path, options));
  out.clock = args.clock ? args.clock : &SystemClock::Get();
  ARGUS_RETURN_IF_ERROR(ApplyMigrations(*out.writer, migrations, out.clock->NowUs()));
  options.query_only = true;
  out.reader_options = options;
  return out;
}

Status CheckPageRequest(const PageRequest& page) {
  if (page.limit < 1 || page.limit > 1000) {
    return InvalidArgumentError("page limit must be between 1 and 1000, not " +
                                std::to_string(page.limit));
  }
  return OkStatus();
}

}  // namespace argus::store::sqlite
