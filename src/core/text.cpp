#include "core/text.hpp"

#include <cstdio>

namespace onboard::core {

std::string printable(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte >= 0x20 && byte != 0x7F) {
            out += c;
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c == '\t') {
            out += "\\t";
        } else {
            char escaped[5];
            std::snprintf(escaped, sizeof escaped, "\\x%02x", byte);
            out += escaped;
        }
    }
    return out;
}

std::string hex(const unsigned char* bytes, std::size_t count) {
    static constexpr char k_digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(2 * count);
    for (std::size_t i = 0; i < count; ++i) {
        out += k_digits[bytes[i] >> 4];
        out += k_digits[bytes[i] & 0xF];
    }
    return out;
}

} // namespace onboard::core
