#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "store/sqlite/sqlite_database.h"

// What other sections of SqliteMetadataStore ask of the `collections` table (schema v11): a bucket
// or a collection may not go while collections take it as their source.

namespace argus::store::sqlite {

/// The names of the collections whose source is the bucket `source_id` (or, with `collection`,
/// the collection `source_id`), in id order, read on `db`.
Result<std::vector<std::string>> CollectionNamesOfSource(SqliteDatabase& db,
                                                         std::string_view source_id,
                                                         bool collection);

/// "'a', 'b'" for a message.
std::string QuotedList(const std::vector<std::string>& names);

}  // namespace argus::store::sqlite
