#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace onboard::core {

// `text` safe to print on a terminal: control characters (an ESC could move the cursor or recolour
// the screen, a CR overwrite the line) and bytes that are not UTF-8 shown as C escapes (\n, \r,
// \t, \x1b, \xe9); well-formed UTF-8 kept as it is.
std::string printable(std::string_view text);

// `text` with each byte that is not part of well-formed UTF-8 replaced by U+FFFD, for output that
// must be UTF-8 (JSON, a table); `text` itself when it is well-formed.
std::string replace_invalid_utf8(std::string_view text);

// `text` percent-encoded for a URL query, path or form value: RFC 3986 unreserved characters kept,
// every other byte %XX in upper case.
std::string percent_encode(std::string_view text);

// `count` bytes as lower-case hex, two digits each (digests).
std::string hex(const unsigned char* bytes, std::size_t count);

} // namespace onboard::core
