#include "cli/table.h"

#include <algorithm>
#include <cctype>

namespace argus::cli {

namespace {

// Columns a cell takes on a terminal: one per UTF-8 code point (wide CJK characters are not
// told apart), so that non-ASCII names keep the columns aligned.
size_t Width(const std::string& s) {
  return static_cast<size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

}  // namespace

std::string Table::Render() const {
  std::vector<size_t> width(header_.size());
  for (size_t i = 0; i < header_.size(); ++i) width[i] = Width(header_[i]);
  for (const auto& row : rows_) {
    for (size_t i = 0; i < row.size() && i < width.size(); ++i) {
      width[i] = std::max(width[i], Width(row[i]));
    }
  }
  std::string out;
  auto line = [&](const std::vector<std::string>& cells, bool upper) {
    for (size_t i = 0; i < width.size(); ++i) {
      std::string cell = i < cells.size() ? cells[i] : "";
      if (upper) {
        for (auto& c : cell) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      }
      out += cell;
      if (i + 1 < width.size()) out += std::string(width[i] - Width(cell) + 2, ' ');
    }
    out += "\n";
  };
  line(header_, true);
  for (const auto& row : rows_) line(row, false);
  return out;
}

}  // namespace argus::cli
