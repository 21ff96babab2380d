#include "graphql/lexer.hpp"

#include <cstdio>
#include <vector>

namespace onboard::graphql {

namespace {

bool is_name_start(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

bool is_name_continue(char c) {
    return is_name_start(c) || (c >= '0' && c <= '9');
}

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

// GraphQL.js prints a character as "c" when printable, U+XXXX otherwise, <EOF> past the end.
std::string print_char(std::string_view source, std::size_t pos) {
    if (pos >= source.size()) {
        return "<EOF>";
    }
    const auto c = static_cast<unsigned char>(source[pos]);
    if (c >= 0x20 && c < 0x7f) {
        if (c == '"') {
            return "'\"'";
        }
        std::string out(3, '"');
        out[1] = static_cast<char>(c);
        return out;
    }
    char buffer[16];
    std::snprintf(buffer, sizeof buffer, "U+%04X", c);
    return buffer;
}

void append_utf8(std::string& out, unsigned code) {
    if (code < 0x80) {
        out += static_cast<char>(code);
    } else if (code < 0x800) {
        out += static_cast<char>(0xc0 | (code >> 6));
        out += static_cast<char>(0x80 | (code & 0x3f));
    } else if (code < 0x10000) {
        out += static_cast<char>(0xe0 | (code >> 12));
        out += static_cast<char>(0x80 | ((code >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (code & 0x3f));
    } else {
        out += static_cast<char>(0xf0 | (code >> 18));
        out += static_cast<char>(0x80 | ((code >> 12) & 0x3f));
        out += static_cast<char>(0x80 | ((code >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (code & 0x3f));
    }
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::size_t leading_whitespace(std::string_view line) {
    std::size_t i = 0;
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) {
        ++i;
    }
    return i;
}

// The spec's BlockStringValue(): common indentation and blank first/last lines removed.
std::string dedent_block_string(std::string_view raw) {
    std::vector<std::string_view> lines;
    std::size_t start = 0;
    for (std::size_t i = 0; i <= raw.size(); ++i) {
        if (i == raw.size() || raw[i] == '\n' || raw[i] == '\r') {
            lines.push_back(raw.substr(start, i - start));
            if (i + 1 < raw.size() && raw[i] == '\r' && raw[i + 1] == '\n') {
                ++i;
            }
            start = i + 1;
        }
    }
    std::size_t common = std::string_view::npos;
    for (std::size_t i = 1; i < lines.size(); ++i) {
        const std::size_t indent = leading_whitespace(lines[i]);
        if (indent < lines[i].size() && indent < common) {
            common = indent;
        }
    }
    for (std::size_t i = 1; i < lines.size() && common != std::string_view::npos; ++i) {
        lines[i].remove_prefix(std::min(common, lines[i].size()));
    }
    auto blank = [](std::string_view line) { return leading_whitespace(line) == line.size(); };
    std::size_t first = 0;
    std::size_t last = lines.size();
    while (first < last && blank(lines[first])) ++first;
    while (last > first && blank(lines[last - 1])) --last;
    std::string out;
    for (std::size_t i = first; i < last; ++i) {
        if (i > first) out += '\n';
        out += lines[i];
    }
    return out;
}

} // namespace

std::string describe(Token::Kind kind) {
    using K = Token::Kind;
    switch (kind) {
    case K::eof: return "<EOF>";
    case K::bang: return "\"!\"";
    case K::dollar: return "\"$\"";
    case K::amp: return "\"&\"";
    case K::paren_l: return "\"(\"";
    case K::paren_r: return "\")\"";
    case K::spread: return "\"...\"";
    case K::colon: return "\":\"";
    case K::equals: return "\"=\"";
    case K::at: return "\"@\"";
    case K::bracket_l: return "\"[\"";
    case K::bracket_r: return "\"]\"";
    case K::brace_l: return "\"{\"";
    case K::pipe: return "\"|\"";
    case K::brace_r: return "\"}\"";
    case K::name: return "Name";
    case K::integer: return "Int";
    case K::floating: return "Float";
    case K::string: return "String";
    case K::block_string: return "BlockString";
    }
    return "token";
}

std::string Token::describe() const {
    switch (kind) {
    case Kind::name:
    case Kind::integer:
    case Kind::floating:
        return graphql::describe(kind) + " \"" + std::string(raw) + "\"";
    case Kind::string:
    case Kind::block_string:
        return graphql::describe(kind) + " \"" + value + "\"";
    default:
        return graphql::describe(kind);
    }
}

Lexer::Lexer(std::string_view source) : m_source(source) {
    if (m_source.substr(0, 3) == "\xEF\xBB\xBF") {
        m_pos = 3;
        m_line_start = 3;
    }
}

Location Lexer::location_at(std::size_t pos) const {
    return Location{m_line, static_cast<int>(pos - m_line_start) + 1};
}

void Lexer::fail(const std::string& message, std::size_t pos) const {
    throw SyntaxError("Syntax Error: " + message, location_at(pos));
}

void Lexer::skip_ignored() {
    while (m_pos < m_source.size()) {
        const char c = m_source[m_pos];
        if (c == ' ' || c == '\t' || c == ',') {
            ++m_pos;
        } else if (c == '\n' || c == '\r') {
            m_pos += (c == '\r' && m_pos + 1 < m_source.size() && m_source[m_pos + 1] == '\n') ? 2 : 1;
            ++m_line;
            m_line_start = m_pos;
        } else if (c == '#') {
            while (m_pos < m_source.size() && m_source[m_pos] != '\n' && m_source[m_pos] != '\r') {
                ++m_pos;
            }
        } else {
            return;
        }
    }
}

Token Lexer::next() {
    skip_ignored();
    Token token;
    token.location = location_at(m_pos);
    if (m_pos >= m_source.size()) {
        return token;
    }
    const std::size_t start = m_pos;
    const char c = m_source[m_pos];
    using K = Token::Kind;
    auto punct = [&](K kind, std::size_t length) {
        token.kind = kind;
        token.raw = m_source.substr(start, length);
        m_pos += length;
        return token;
    };
    switch (c) {
    case '!': return punct(K::bang, 1);
    case '$': return punct(K::dollar, 1);
    case '&': return punct(K::amp, 1);
    case '(': return punct(K::paren_l, 1);
    case ')': return punct(K::paren_r, 1);
    case ':': return punct(K::colon, 1);
    case '=': return punct(K::equals, 1);
    case '@': return punct(K::at, 1);
    case '[': return punct(K::bracket_l, 1);
    case ']': return punct(K::bracket_r, 1);
    case '{': return punct(K::brace_l, 1);
    case '|': return punct(K::pipe, 1);
    case '}': return punct(K::brace_r, 1);
    case '.':
        if (m_source.substr(start, 3) == "...") {
            return punct(K::spread, 3);
        }
        break;
    case '"':
        return m_source.substr(start, 3) == "\"\"\"" ? read_block_string(start) : read_string(start);
    default:
        break;
    }
    if (is_name_start(c)) {
        while (m_pos < m_source.size() && is_name_continue(m_source[m_pos])) {
            ++m_pos;
        }
        token.kind = K::name;
        token.raw = m_source.substr(start, m_pos - start);
        return token;
    }
    if (c == '-' || is_digit(c)) {
        return read_number(start);
    }
    fail("Unexpected character: " + print_char(m_source, start) + ".", start);
}

std::size_t Lexer::read_digits(std::size_t pos) {
    if (pos >= m_source.size() || !is_digit(m_source[pos])) {
        fail("Invalid number, expected digit but got: " + print_char(m_source, pos) + ".", pos);
    }
    while (pos < m_source.size() && is_digit(m_source[pos])) {
        ++pos;
    }
    return pos;
}

Token Lexer::read_number(std::size_t start) {
    std::size_t pos = start;
    bool is_float = false;
    if (m_source[pos] == '-') {
        ++pos;
    }
    if (pos < m_source.size() && m_source[pos] == '0') {
        ++pos;
        if (pos < m_source.size() && is_digit(m_source[pos])) {
            fail("Invalid number, unexpected digit after 0: " + print_char(m_source, pos) + ".", pos);
        }
    } else {
        pos = read_digits(pos);
    }
    if (pos < m_source.size() && m_source[pos] == '.') {
        is_float = true;
        pos = read_digits(pos + 1);
    }
    if (pos < m_source.size() && (m_source[pos] == 'e' || m_source[pos] == 'E')) {
        is_float = true;
        ++pos;
        if (pos < m_source.size() && (m_source[pos] == '+' || m_source[pos] == '-')) {
            ++pos;
        }
        pos = read_digits(pos);
    }
    if (pos < m_source.size() && (m_source[pos] == '.' || is_name_start(m_source[pos]))) {
        fail("Invalid number, expected digit but got: " + print_char(m_source, pos) + ".", pos);
    }
    Token token;
    token.kind = is_float ? Token::Kind::floating : Token::Kind::integer;
    token.raw = m_source.substr(start, pos - start);
    token.location = location_at(start);
    m_pos = pos;
    return token;
}

void Lexer::read_escape(std::string& out) {
    const std::size_t start = m_pos; // at the backslash
    const char c = m_pos + 1 < m_source.size() ? m_source[m_pos + 1] : '\0';
    static constexpr std::string_view k_simple = "\"\\/bfnrt";
    static constexpr std::string_view k_decoded = "\"\\/\b\f\n\r\t";
    if (const std::size_t i = k_simple.find(c); c != '\0' && i != std::string_view::npos) {
        out += k_decoded[i];
        m_pos += 2;
        return;
    }
    if (c == 'u') {
        unsigned code = 0;
        for (std::size_t i = 0; i < 4; ++i) {
            const std::size_t at = m_pos + 2 + i;
            const int digit = at < m_source.size() ? hex_value(m_source[at]) : -1;
            if (digit < 0) {
                fail("Invalid Unicode escape sequence: \"" +
                         std::string(m_source.substr(start, std::min<std::size_t>(6, m_source.size() - start))) +
                         "\".",
                     start);
            }
            code = code * 16 + static_cast<unsigned>(digit);
        }
        append_utf8(out, code);
        m_pos += 6;
        return;
    }
    fail("Invalid character escape sequence: \"" + std::string(m_source.substr(start, 2)) + "\".", start);
}

Token Lexer::read_string(std::size_t start) {
    Token token;
    token.kind = Token::Kind::string;
    token.location = location_at(start);
    m_pos = start + 1;
    while (m_pos < m_source.size()) {
        const char c = m_source[m_pos];
        if (c == '"') {
            ++m_pos;
            token.raw = m_source.substr(start, m_pos - start);
            return token;
        }
        if (c == '\n' || c == '\r') {
            break;
        }
        if (c == '\\') {
            read_escape(token.value);
        } else if (static_cast<unsigned char>(c) < 0x20 && c != '\t') {
            fail("Invalid character within String: " + print_char(m_source, m_pos) + ".", m_pos);
        } else {
            token.value += c;
            ++m_pos;
        }
    }
    fail("Unterminated string.", m_pos);
}

Token Lexer::read_block_string(std::size_t start) {
    Token token;
    token.kind = Token::Kind::block_string;
    token.location = location_at(start);
    std::string raw;
    m_pos = start + 3;
    while (m_pos < m_source.size()) {
        const std::string_view rest = m_source.substr(m_pos);
        if (rest.substr(0, 3) == "\"\"\"") {
            m_pos += 3;
            token.value = dedent_block_string(raw);
            token.raw = m_source.substr(start, m_pos - start);
            return token;
        }
        if (rest.substr(0, 4) == "\\\"\"\"") {
            raw += "\"\"\"";
            m_pos += 4;
            continue;
        }
        const char c = rest[0];
        raw += c;
        ++m_pos;
        if (c == '\n' || (c == '\r' && !(m_pos < m_source.size() && m_source[m_pos] == '\n'))) {
            ++m_line;
            m_line_start = m_pos;
        }
    }
    fail("Unterminated string.", m_pos);
}

} // namespace onboard::graphql
