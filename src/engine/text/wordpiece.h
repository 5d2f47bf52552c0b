// WordPiece tokenisation (BERT and the sentence embedders built on it): text → token ids with the
// model's own vocabulary file, so a user's text embedder registered in the manifest reads the
// same ids it was trained on.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.h"

namespace argus::engine {

struct WordPieceOptions {
  bool lowercase = true;  ///< lower-case and strip accents first (uncased models)
  int max_length = 128;   ///< tokens per text, [CLS] and [SEP] included; longer texts are cut
  std::string unknown = "[UNK]";
  std::string begin = "[CLS]";  ///< "" for none
  std::string end = "[SEP]";    ///< "" for none
  std::string padding = "[PAD]";
};

/// Immutable after Load: thread-safe.
class WordPieceTokenizer {
 public:
  /// `vocab_path` has one token per line, the line number being its id. NotFound when the file
  /// is missing; FailedPrecondition when `expected_sha256` is given and the bytes read differ;
  /// InvalidArgument when it is empty or lacks the unknown, begin, end or padding token the
  /// options name.
  static Result<std::unique_ptr<WordPieceTokenizer>> Load(const std::string& vocab_path,
                                                          WordPieceOptions options,
                                                          std::string_view expected_sha256 = {});
  /// The same from the vocabulary's lines (tests).
  static Result<std::unique_ptr<WordPieceTokenizer>> FromTokens(std::vector<std::string> tokens,
                                                                WordPieceOptions options);

  /// The ids of `text` (UTF-8; invalid sequences are dropped), framed by begin/end and cut to
  /// max_length. Splits on whitespace and punctuation (each punctuation mark and each CJK
  /// ideograph is a word of its own), then each word greedily into the longest vocabulary pieces
  /// ("##" marks a piece inside a word); a word that cannot be split is the unknown token.
  std::vector<int64_t> Encode(std::string_view text) const;
  /// The pieces of `text` as strings, without begin/end (for tests and debugging).
  std::vector<std::string> Pieces(std::string_view text) const;

  int64_t padding_id() const { return padding_id_; }
  int max_length() const { return options_.max_length; }
  size_t vocabulary_size() const { return vocab_.size(); }

 private:
  WordPieceTokenizer() = default;
  std::vector<std::string> Words(std::string_view text) const;
  void SplitWord(const std::string& word, std::vector<std::string>* pieces) const;

  WordPieceOptions options_;
  std::unordered_map<std::string, int64_t> vocab_;
  int64_t unknown_id_ = 0, begin_id_ = -1, end_id_ = -1, padding_id_ = 0;
};

}  // namespace argus::engine
