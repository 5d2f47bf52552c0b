#include "cli/table.h"

#include <algorithm>
#include <cctype>

namespace argus::cli {

std::string Table::Render() const {
  std::vector<size_t> width(header_.size());
  for (size_t i = 0; i < header_.size(); ++i) width[i] = header_[i].size();
  for (const auto& row : rows_) {
    for (size_t i = 0; i < row.size() && i < width.size(); ++i) {
      width[i] = std::max(width[i], row[i].size());
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
      if (i + 1 < width.size()) out += std::string(width[i] - cell.size() + 2, ' ');
    }
    out += "\n";
  };
  line(header_, true);
  for (const auto& row : rows_) line(row, false);
  return out;
}

}  // namespace argus::cli
