#include "store/text_index.h"

namespace argus::store {
namespace {

// Punctuation and spaces outside ASCII that separate words: Latin-1's (no-break space to ¿,
// × and ÷), General Punctuation (dashes, quotes, …) and CJK's (、。「」).
bool Separates(char32_t c) {
  return (c >= 0xA0 && c <= 0xBF) || c == 0xD7 || c == 0xF7 || (c >= 0x2000 && c <= 0x206F) ||
         (c >= 0x3000 && c <= 0x303F) || c == 0xFEFF;
}

// The code point that starts at text[i] and its length in bytes; a malformed byte is itself.
std::pair<char32_t, size_t> Decode(std::string_view text, size_t i) {
  const auto b = static_cast<unsigned char>(text[i]);
  const size_t n = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 1;
  if (n == 1 || i + n > text.size()) return {b, 1};
  char32_t c = b & (0x7F >> n);
  for (size_t k = 1; k < n; ++k) {
    const auto cont = static_cast<unsigned char>(text[i + k]);
    if ((cont & 0xC0) != 0x80) return {b, 1};
    c = c << 6 | (cont & 0x3F);
  }
  return {c, n};
}

}  // namespace

std::vector<std::string> TextWords(std::string_view text, size_t max_words) {
  std::vector<std::string> words;
  std::string word;
  auto flush = [&] {
    if (!word.empty() && words.size() < max_words) words.push_back(word);
    word.clear();
  };
  for (size_t i = 0; i < text.size();) {
    const auto [c, n] = Decode(text, i);
    // ASCII letters and digits, and other scripts' characters but their punctuation (the
    // index's tokenizer decides the rest).
    const bool in_word =
        c >= 0x80 ? !Separates(c)
                  : (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (in_word) {
      word.append(text.substr(i, n));
    } else {
      flush();
    }
    i += n;
  }
  flush();
  return words;
}

}  // namespace argus::store
