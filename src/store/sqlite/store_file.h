#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "core/result.h"
#include "store/metadata_store.h"
#include "store/sqlite/migrations.h"
#include "store/sqlite/sqlite_database.h"
#include "store/store_registry.h"

namespace argus::store::sqlite {

/// What every SQLite store opens: its file, migrated, with one write connection.
struct OpenedStoreFile {
  std::string path;
  std::unique_ptr<SqliteDatabase> writer;
  SqliteOptions reader_options;  ///< for the store's read-only pool (query_only set)
  const Clock* clock = nullptr;  ///< args.clock, or the system clock
};

/// Opens `<args.data_dir>/<file_name>` with the "metadata.sqlite.*" options and brings it to the
/// last of `migrations`. `what` names the store in errors ("the sqlite task queue").
/// InvalidArgument for bad options or no data_dir; FailedPrecondition when data_dir is not a
/// directory or the file is newer than this argus; Unavailable/Internal from SQLite.
Result<OpenedStoreFile> OpenStoreFile(const StoreArgs& args, std::string_view file_name,
                                      std::span<const Migration> migrations, std::string_view what);

/// InvalidArgument unless 1 <= page.limit <= 1000.
Status CheckPageRequest(const PageRequest& page);

/// Runs a keyset query whose LIMIT is bound to limit + 1: the extra row only says that another
/// page follows (next_after_id = the last kept item's id), and is dropped.
template <typename T, typename ReadRow>
Result<Page<T>> ReadPage(Statement& stmt, int limit, ReadRow read_row) {
  Page<T> page;
  for (;;) {
    ARGUS_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    if (static_cast<int>(page.items.size()) == limit) {
      page.next_after_id = page.items.back().id;
      break;
    }
    ARGUS_ASSIGN_OR_RETURN(T item, read_row(stmt));
    page.items.push_back(std::move(item));
  }
  return page;
}

}  // namespace argus::store::sqlite
