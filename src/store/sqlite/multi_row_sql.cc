#include "store/sqlite/multi_row_sql.h"

namespace argus::store::sqlite {

size_t ChunkSize(size_t left) {
  for (size_t size : kChunkRows) {
    if (left >= size) return size;
  }
  return 1;
}

std::string ParameterRows(size_t rows, size_t columns) {
  std::string row = "(?";
  for (size_t c = 1; c < columns; ++c) row += ",?";
  row += ")";
  std::string out;
  out.reserve(rows * (row.size() + 1));
  for (size_t r = 0; r < rows; ++r) {
    if (r > 0) out += ',';
    out += row;
  }
  return out;
}

}  // namespace argus::store::sqlite
