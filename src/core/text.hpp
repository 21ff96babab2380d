#pragma once

#include <string>
#include <string_view>

namespace onboard::core {

// `text` safe to print on a terminal: control characters (an ESC could move the cursor or recolour
// the screen, a CR overwrite the line) shown as C escapes (\n, \r, \t, \x1b); UTF-8 kept as it is.
std::string printable(std::string_view text);

} // namespace onboard::core
