#include "engine/text/wordpiece.h"

#include <utf8proc.h>

#include <algorithm>
#include <fstream>

#include "core/crypto.h"

namespace argus::engine {
namespace {

constexpr size_t kMaxWordChars = 100;  // longer "words" (base64, URLs run together) are unknown

bool IsCjk(int32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
         (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

bool IsPunctuation(int32_t c) {
  // ASCII symbols count as punctuation too ("$", "+", "^"), as BERT's tokenizer has it.
  if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) ||
      (c >= 123 && c <= 126)) {
    return true;
  }
  auto cat = utf8proc_category(c);
  return cat >= UTF8PROC_CATEGORY_PC && cat <= UTF8PROC_CATEGORY_PO;
}

bool IsSpace(int32_t c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
         utf8proc_category(c) == UTF8PROC_CATEGORY_ZS;
}

bool IsDropped(int32_t c) {
  if (c == 0 || c == 0xFFFD) return true;
  if (c == '\t' || c == '\n' || c == '\r') return false;
  auto cat = utf8proc_category(c);
  return cat == UTF8PROC_CATEGORY_CC || cat == UTF8PROC_CATEGORY_CF;
}

void Append(int32_t c, std::string* out) {
  utf8proc_uint8_t buf[4];
  auto n = utf8proc_encode_char(c, buf);
  out->append(reinterpret_cast<const char*>(buf), static_cast<size_t>(n));
}

// The code points of `text` (invalid UTF-8 bytes are skipped).
std::vector<int32_t> Iterate(std::string_view text) {
  std::vector<int32_t> out;
  out.reserve(text.size());
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
  auto left = static_cast<utf8proc_ssize_t>(text.size());
  while (left > 0) {
    utf8proc_int32_t c = -1;
    auto used = utf8proc_iterate(p, left, &c);
    if (used <= 0) {
      used = 1;
    } else {
      out.push_back(c);
    }
    p += used;
    left -= used;
  }
  return out;
}

// The code points of `text`, decomposed (NFD) when accents are to be stripped.
std::vector<int32_t> CodePoints(std::string_view text, bool decompose) {
  std::vector<int32_t> points = Iterate(text);
  if (!decompose) return points;
  std::string valid;
  for (int32_t c : points) Append(c, &valid);
  utf8proc_uint8_t* mapped = nullptr;
  auto n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(valid.data()),
                        static_cast<utf8proc_ssize_t>(valid.size()), &mapped,
                        static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_DECOMPOSE));
  if (n >= 0) points = Iterate(std::string_view(reinterpret_cast<char*>(mapped), n));
  free(mapped);  // NOLINT: allocated by utf8proc
  return points;
}

}  // namespace

Result<std::unique_ptr<WordPieceTokenizer>> WordPieceTokenizer::Load(
    const std::string& vocab_path, WordPieceOptions options, std::string_view expected_sha256) {
  std::ifstream in(vocab_path, std::ios::binary);
  if (!in) return NotFoundError("vocabulary file " + vocab_path + " is missing");
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!expected_sha256.empty()) {
    if (std::string have = HexEncode(Sha256(bytes)); have != expected_sha256) {
      return FailedPreconditionError("vocabulary " + vocab_path + " has SHA-256 " + have +
                                     ", the manifest says " + std::string(expected_sha256));
    }
  }
  std::vector<std::string> tokens;
  for (size_t at = 0; at < bytes.size();) {
    size_t end = std::min(bytes.find('\n', at), bytes.size());
    std::string line = bytes.substr(at, end - at);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    tokens.push_back(std::move(line));
    at = end + 1;
  }
  return FromTokens(std::move(tokens), std::move(options));
}

Result<std::unique_ptr<WordPieceTokenizer>> WordPieceTokenizer::FromTokens(
    std::vector<std::string> tokens, WordPieceOptions options) {
  if (tokens.empty()) return InvalidArgumentError("the vocabulary is empty");
  if (options.max_length < 2 || options.max_length > 8192) {
    return InvalidArgumentError("max_length must be within 2..8192");
  }
  std::unique_ptr<WordPieceTokenizer> t(new WordPieceTokenizer());
  for (size_t i = 0; i < tokens.size(); ++i) {
    t->vocab_.emplace(tokens[i], static_cast<int64_t>(i));  // the first of duplicates wins
  }
  auto id_of = [&](const std::string& token, int64_t* id) -> Status {
    if (token.empty()) return OkStatus();
    auto it = t->vocab_.find(token);
    if (it == t->vocab_.end()) {
      return InvalidArgumentError("the vocabulary has no \"" + token + "\" token");
    }
    *id = it->second;
    return OkStatus();
  };
  ARGUS_RETURN_IF_ERROR(id_of(options.unknown, &t->unknown_id_));
  ARGUS_RETURN_IF_ERROR(id_of(options.begin, &t->begin_id_));
  ARGUS_RETURN_IF_ERROR(id_of(options.end, &t->end_id_));
  ARGUS_RETURN_IF_ERROR(id_of(options.padding, &t->padding_id_));
  t->options_ = std::move(options);
  return t;
}

std::vector<std::string> WordPieceTokenizer::Words(std::string_view text) const {
  std::vector<std::string> words;
  std::string current;
  auto flush = [&] {
    if (!current.empty()) words.push_back(std::move(current));
    current.clear();
  };
  for (int32_t c : CodePoints(text, options_.lowercase)) {
    if (IsDropped(c)) continue;
    if (options_.lowercase) {
      if (utf8proc_category(c) == UTF8PROC_CATEGORY_MN) continue;  // accents, after NFD
      c = utf8proc_tolower(c);
    }
    if (IsSpace(c)) {
      flush();
    } else if (IsPunctuation(c) || IsCjk(c)) {
      flush();
      Append(c, &current);
      flush();
    } else {
      Append(c, &current);
    }
  }
  flush();
  return words;
}

void WordPieceTokenizer::SplitWord(const std::string& word,
                                   std::vector<std::string>* pieces) const {
  // Character boundaries, so a piece never ends inside a UTF-8 sequence.
  std::vector<size_t> bounds;
  for (size_t i = 0; i < word.size(); ++i) {
    if ((static_cast<unsigned char>(word[i]) & 0xC0) != 0x80) bounds.push_back(i);
  }
  bounds.push_back(word.size());
  if (bounds.size() - 1 > kMaxWordChars) {
    pieces->push_back(options_.unknown);
    return;
  }
  std::vector<std::string> found;
  size_t start = 0;  // index into bounds
  while (start + 1 < bounds.size()) {
    size_t end = bounds.size() - 1;
    std::string piece;
    for (; end > start; --end) {
      piece = word.substr(bounds[start], bounds[end] - bounds[start]);
      if (start > 0) piece.insert(0, "##");
      if (vocab_.count(piece)) break;
    }
    if (end == start) {  // no prefix of the rest is known: the whole word is unknown
      pieces->push_back(options_.unknown);
      return;
    }
    found.push_back(std::move(piece));
    start = end;
  }
  for (auto& p : found) pieces->push_back(std::move(p));
}

std::vector<std::string> WordPieceTokenizer::Pieces(std::string_view text) const {
  std::vector<std::string> pieces;
  for (const auto& word : Words(text)) SplitWord(word, &pieces);
  return pieces;
}

std::vector<int64_t> WordPieceTokenizer::Encode(std::string_view text) const {
  std::vector<int64_t> ids;
  if (begin_id_ >= 0) ids.push_back(begin_id_);
  const size_t room = static_cast<size_t>(options_.max_length) - (end_id_ >= 0 ? 1 : 0);
  for (const auto& piece : Pieces(text)) {
    if (ids.size() >= room) break;
    auto it = vocab_.find(piece);
    ids.push_back(it == vocab_.end() ? unknown_id_ : it->second);
  }
  if (end_id_ >= 0) ids.push_back(end_id_);
  return ids;
}

}  // namespace argus::engine
