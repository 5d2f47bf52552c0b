#pragma once

#include <cstdint>
#include <roaring/roaring64map.hh>
#include <string>
#include <string_view>

#include "core/json.h"
#include "core/result.h"
#include "store/document_store.h"
#include "store/filter.h"
#include "store/sqlite/sqlite_database.h"

// Payload indexes of SqliteMetadataStore on metadata.db's `payload_values` table (schema v16):
// one row per (document, indexed field, value), written in the transaction of the document, so
// that the conditions of a filter on indexed fields become index range reads, combined as Roaring
// bitmaps of document keys. They give a vector search its allow-list and its selectivity without
// reading a single payload. Each function runs on the connection it is given, inside whatever
// transaction the caller holds.

namespace argus::store::sqlite {

/// A set of document keys (CRoaring's 64-bit bitmap: the 0.2 headers put it in the global
/// namespace).
using KeySet = ::Roaring64Map;

/// What a filter sees of a document: its payload with the lineage fields object_id, parent_id,
/// tier and unit at the top.
Json DocumentFilterView(const Document& d);

/// The declared field types of a collection's payload_indexes column (a JSON array of
/// {field, type}); entries it cannot read are left out.
FieldTypes PayloadIndexTypes(std::string_view payload_indexes_json);

/// Replaces the payload values of the document `key` with those `view` takes for `types`.
Status WritePayloadValues(SqliteDatabase& w, std::string_view collection_id, uint64_t key,
                          const Json& view, const FieldTypes& types);

/// Makes the payload values of every document of the collection those of its current
/// payload_indexes, and records them as made for them (collections.payload_values_of).
Status RebuildPayloadValues(SqliteDatabase& w, std::string_view collection_id);

/// RebuildPayloadValues for every collection whose rows were made for other indexes or never
/// (the upgrade to v16), each in its own write transaction; logs how many. The store runs it
/// when it opens.
Status CatchUpPayloadValues(SqliteDatabase& w);

/// Which documents of a collection a filter selects, as far as the payload values tell.
struct KeyPlan {
  enum class Kind {
    kExact,     ///< `keys` are the matching documents
    kSuperset,  ///< the matching documents are among `keys` (check each against the filter)
    kUnknown,   ///< the payload values do not narrow it: scan the collection
  };
  Kind kind = Kind::kUnknown;
  KeySet keys;
};

/// Plans `filter` over the payload values of a collection whose rows are up to date for
/// `types`: eq, ne, in, nin, gt, gte, lt, lte and starts_with (keyword) on an indexed field are
/// read from the index; `and` intersects, `or` unites, `not` complements (within the
/// collection's documents) what is exact; other conditions leave a superset or nothing.
Result<KeyPlan> PlanKeys(SqliteDatabase& db, std::string_view collection_id, const Filter& filter,
                         const FieldTypes& types);

/// Every document key of the collection.
Result<KeySet> AllKeys(SqliteDatabase& db, std::string_view collection_id);

}  // namespace argus::store::sqlite
