// The text index role of SqliteMetadataStore (src/store/text_index.h): FTS5's documents_text
// (schema v13) over documents.text, ranked by FTS5's bm25().
#include <fmt/format.h>

#include <algorithm>

#include "store/sqlite/sqlite_metadata_store.h"
#include "store/sqlite/store_file.h"

namespace argus::store::sqlite {
namespace {

// bm25() is lower for better matches: its negation is the score. The collection is checked on
// the joined row; FTS5 finds the matching rows of every collection first.
constexpr std::string_view kSearch =
    "SELECT d.key, -bm25(documents_text), snippet(documents_text, 0, '[', ']', '…', 12)"
    " FROM documents_text JOIN documents d ON d.key = documents_text.rowid"
    " WHERE documents_text MATCH ?1 AND d.collection_id = ?2"
    " ORDER BY bm25(documents_text) LIMIT ?3";

// The FTS5 expression: every word a quoted string (so nothing in it is an operator).
Result<std::string> MatchExpression(const TextQuery& query) {
  const std::vector<std::string> words = TextWords(query.text);
  if (words.empty()) {
    return InvalidArgumentError("text: '" + query.text.substr(0, 80) +
                                "' holds no word to search for (letters or digits)");
  }
  std::string out;
  if (query.match == TextMatch::kPhrase) {
    out = "\"";
    for (size_t i = 0; i < words.size(); ++i) out += (i ? " " : "") + words[i];
    return out + "\"";
  }
  const char* join = query.match == TextMatch::kAll ? " AND " : " OR ";
  for (size_t i = 0; i < words.size(); ++i) {
    if (i) out += join;
    out += "\"" + words[i] + "\"";
  }
  return out;
}

}  // namespace

Result<std::vector<TextHit>> SqliteMetadataStore::SearchText(std::string_view collection_id,
                                                             const TextQuery& query) {
  if (query.limit < 1 || query.limit > 10000) {
    return InvalidArgumentError(fmt::format("limit: {} is out of range 1..10000", query.limit));
  }
  ARGUS_ASSIGN_OR_RETURN(std::string match, MatchExpression(query));
  ARGUS_ASSIGN_OR_RETURN(auto db, readers_.Acquire());
  ARGUS_ASSIGN_OR_RETURN(auto stmt, db->Prepare(kSearch, "search text"));
  stmt->BindText(1, match);
  stmt->BindText(2, collection_id);
  // With an allow-list the best matches are read until `limit` of them are allowed.
  stmt->BindInt64(3, query.allowed == nullptr ? query.limit : -1);
  std::vector<TextHit> hits;
  while (static_cast<int>(hits.size()) < query.limit) {
    ARGUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    const auto key = static_cast<uint64_t>(stmt->ColumnInt64(0));
    if (query.allowed != nullptr &&
        !std::binary_search(query.allowed->begin(), query.allowed->end(), key)) {
      continue;
    }
    hits.push_back({.key = key, .score = stmt->ColumnDouble(1), .snippet = stmt->ColumnText(2)});
  }
  return hits;
}

}  // namespace argus::store::sqlite
