#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace argus::store {

/// How the words of a text query combine.
enum class TextMatch {
  kAny,     ///< documents with any of the words, ranked by BM25 (the default)
  kAll,     ///< documents with every word
  kPhrase,  ///< documents with the words in this order, next to each other
};

struct TextQuery {
  std::string text;  ///< the user's words (not a query language: no operator is interpreted)
  TextMatch match = TextMatch::kAny;
  int limit = 10;  ///< 1..10000
  /// Only these document keys (ascending), e.g. a filter's matching set; null for all.
  const std::vector<uint64_t>* allowed = nullptr;
};

/// One document found, best first.
struct TextHit {
  uint64_t key = 0;
  double score = 0;     ///< BM25: higher is better (0 < score)
  std::string snippet;  ///< the best passage, the words found marked as [word]
};

/// The text index over documents' `text` (OCR lines, detection labels, metadata strings),
/// ranked by BM25. A role of MetadataStore: it changes in the transaction of every document
/// write, so it never lags behind the documents. Words are matched case- and accent-insensitively
/// (Unicode). Thread-safe; Unavailable when the backend cannot be reached.
class TextIndex {
 public:
  virtual ~TextIndex() = default;

  /// The collection's best documents for the query. InvalidArgument naming `text` when it holds
  /// no word, or `limit` out of range.
  virtual Result<std::vector<TextHit>> SearchText(std::string_view collection_id,
                                                  const TextQuery& query) = 0;
};

/// The words of `text` (letters and digits of any script; everything else separates them), at
/// most `max_words`: what each backend matches.
std::vector<std::string> TextWords(std::string_view text, size_t max_words = 64);

}  // namespace argus::store
