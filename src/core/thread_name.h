#pragma once

#include <string>
#include <string_view>

namespace argus {

/// Names the calling thread, as `top -H`, `ps -L`, perf and gdb show it. Linux keeps the first
/// 15 bytes; longer names are cut there. Best effort: a failure changes nothing else.
void SetThreadName(std::string_view name);

/// The calling thread's name (empty when it cannot be read).
std::string ThreadName();

}  // namespace argus
