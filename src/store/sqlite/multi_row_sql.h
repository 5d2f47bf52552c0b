#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

namespace argus::store::sqlite {

/// Multi-row statements (INSERT ... VALUES (...), (...); UPDATE ... FROM (VALUES ...)) are
/// written in chunks of these many rows, largest first: a few fixed sizes keep the statement
/// cache small.
inline constexpr std::array<size_t, 3> kChunkRows = {64, 8, 1};

/// The largest chunk that fits in `left` rows (left > 0).
size_t ChunkSize(size_t left);

/// "(?,...,?),(?,...,?)...": `rows` groups of `columns` parameters.
std::string ParameterRows(size_t rows, size_t columns);

/// The statement for a chunk of `rows` rows (one of kChunkRows): `build(n)` makes the text for n
/// rows, once per chunk size and call site (each lambda is its own instantiation). Thread-safe.
template <typename Build>
const std::string& SqlForChunk(size_t rows, Build build) {
  // Never destroyed: writer threads may still use it while the process exits.
  static const auto* const kSql = [&] {
    auto* sql = new std::array<std::string, kChunkRows.size()>();
    for (size_t i = 0; i < kChunkRows.size(); ++i) (*sql)[i] = build(kChunkRows[i]);
    return sql;
  }();
  for (size_t i = 0; i < kChunkRows.size(); ++i) {
    if (kChunkRows[i] == rows) return (*kSql)[i];
  }
  return kSql->back();
}

}  // namespace argus::store::sqlite
