#pragma once

#include <string>
#include <string_view>

#include "core/clock.h"

namespace argus {

/// A new UUIDv7 in canonical text ("0192f1c4-6b1e-7c3a-9d2e-1f0a2b3c4d5e"): 48 bits of Unix
/// milliseconds, then a per-thread counter that keeps ids from one thread strictly increasing
/// within a millisecond, then random bits. Ids sort by creation time as strings, which is what
/// cursor pagination relies on. Thread-safe.
std::string NewId(const Clock& clock = SystemClock::Get());

/// True when `text` is a canonical lowercase UUID (any version).
bool IsValidId(std::string_view text);

}  // namespace argus
