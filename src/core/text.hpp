#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace onboard::core {

// `text` safe to print on a terminal: control characters (an ESC could move the cursor or recolour
// the screen, a CR overwrite the line) shown as C escapes (\n, \r, \t, \x1b); UTF-8 kept as it is.
std::string printable(std::string_view text);

// `count` bytes as lower-case hex, two digits each (digests).
std::string hex(const unsigned char* bytes, std::size_t count);

} // namespace onboard::core
