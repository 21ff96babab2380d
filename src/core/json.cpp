#include "core/json.hpp"

#include "core/error.hpp"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>

namespace onboard::core {

namespace {

Json from_element(simdjson::dom::element element) {
    switch (element.type()) {
    case simdjson::dom::element_type::OBJECT: {
        Json out = Json::object();
        for (const auto field : simdjson::dom::object(element)) {
            out.set(field.key, from_element(field.value));
        }
        return out;
    }
    case simdjson::dom::element_type::ARRAY: {
        Json out = Json::array();
        for (const auto item : simdjson::dom::array(element)) {
            out.push_back(from_element(item));
        }
        return out;
    }
    case simdjson::dom::element_type::STRING:
        return Json(std::string_view(element));
    case simdjson::dom::element_type::INT64:
        return Json(std::int64_t(element));
    case simdjson::dom::element_type::UINT64: {
        // Above INT64_MAX: kept as a double, as JavaScript readers of the same text would.
        return Json(static_cast<double>(std::uint64_t(element)));
    }
    case simdjson::dom::element_type::DOUBLE:
        return Json(double(element));
    case simdjson::dom::element_type::BOOL:
        return Json(bool(element));
    case simdjson::dom::element_type::NULL_VALUE:
        return Json();
    }
    return Json();
}

void append_number(std::string& out, double value) {
    if (!std::isfinite(value)) {
        out += "null"; // JSON has no NaN or infinity
        return;
    }
    char buffer[32];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
    out.append(buffer, result.ptr);
    // An integral double prints as an integer ("50"), except where that would not read back as the
    // same number: -0, and integers past 64 bits, which simdjson (like many readers) refuses.
    const std::size_t digits = static_cast<std::size_t>(result.ptr - buffer) - (value < 0 || std::signbit(value) ? 1 : 0);
    const bool integral = std::find_if(buffer, result.ptr, [](char c) { return c == '.' || c == 'e'; }) == result.ptr;
    if (integral && (digits > 18 || (value == 0 && std::signbit(value)))) {
        out += ".0";
    }
}

void append_integer(std::string& out, std::int64_t value) {
    char buffer[24];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
    out.append(buffer, result.ptr);
}

} // namespace

Json Json::object() {
    Json out;
    out.m_type = Type::object;
    return out;
}

Json Json::array() {
    Json out;
    out.m_type = Type::array;
    return out;
}

Json Json::parse(std::string_view text, const std::string& source) {
    // One parser per thread: it keeps its buffers between documents.
    thread_local simdjson::dom::parser parser;
    simdjson::dom::element root;
    if (const auto error = parser.parse(text.data(), text.size()).get(root); error) {
        throw InputError(source, 0, std::string("invalid JSON (") + simdjson::error_message(error) + ")");
    }
    return from_element(root);
}

std::int64_t Json::as_int() const {
    if (m_type == Type::integer) {
        return m_scalar.integer;
    }
    if (m_type == Type::number && std::isfinite(m_scalar.number)) {
        constexpr double k_limit = 9.2233720368547748e18; // 2^63
        if (m_scalar.number >= k_limit) {
            return std::numeric_limits<std::int64_t>::max();
        }
        if (m_scalar.number <= -k_limit) {
            return std::numeric_limits<std::int64_t>::min();
        }
        return static_cast<std::int64_t>(m_scalar.number);
    }
    return 0;
}

double Json::as_double() const {
    if (m_type == Type::number) {
        return m_scalar.number;
    }
    return m_type == Type::integer ? static_cast<double>(m_scalar.integer) : 0.0;
}

const std::string& Json::as_string() const {
    static const std::string k_empty;
    return m_type == Type::string ? m_string : k_empty;
}

void Json::push_back(Json value) {
    if (m_type == Type::null) {
        m_type = Type::array;
    }
    m_items.push_back(std::move(value));
}

Json& Json::set(std::string_view key, Json value) {
    if (m_type == Type::null) {
        m_type = Type::object;
    }
    for (std::size_t i = 0; i < m_keys.size(); ++i) {
        if (m_keys[i] == key) {
            m_items[i] = std::move(value);
            return m_items[i];
        }
    }
    m_keys.emplace_back(key);
    m_items.push_back(std::move(value));
    return m_items.back();
}

const Json* Json::find(std::string_view key) const {
    if (m_type != Type::object) {
        return nullptr;
    }
    for (std::size_t i = 0; i < m_keys.size(); ++i) {
        if (m_keys[i] == key) {
            return &m_items[i];
        }
    }
    return nullptr;
}

Json* Json::find(std::string_view key) {
    return const_cast<Json*>(static_cast<const Json&>(*this).find(key));
}

const Json* Json::at_pointer(std::string_view pointer) const {
    if (pointer.empty()) {
        return this;
    }
    if (pointer.front() != '/') {
        return nullptr;
    }
    const Json* current = this;
    while (!pointer.empty() && current != nullptr) {
        pointer.remove_prefix(1); // the '/'
        const std::size_t end = pointer.find('/');
        const std::string_view raw = pointer.substr(0, end);
        pointer = end == std::string_view::npos ? std::string_view() : pointer.substr(end);
        std::string token;
        for (std::size_t i = 0; i < raw.size(); ++i) {
            if (raw[i] == '~' && i + 1 < raw.size() && (raw[i + 1] == '0' || raw[i + 1] == '1')) {
                token += raw[i + 1] == '0' ? '~' : '/';
                ++i;
            } else {
                token += raw[i];
            }
        }
        if (current->is_object()) {
            current = current->find(token);
        } else if (current->is_array()) {
            std::size_t index = 0;
            const auto [last, error] = std::from_chars(token.data(), token.data() + token.size(), index);
            const bool canonical = !token.empty() && (token.size() == 1 || token.front() != '0');
            if (error != std::errc() || last != token.data() + token.size() || !canonical ||
                index >= current->m_items.size()) {
                return nullptr;
            }
            current = &current->m_items[index];
        } else {
            return nullptr;
        }
    }
    return current;
}

std::string Json::dump() const {
    std::string out;
    dump_to(out);
    return out;
}

void Json::dump_to(std::string& out) const {
    switch (m_type) {
    case Type::null:
        out += "null";
        return;
    case Type::boolean:
        out += m_scalar.boolean ? "true" : "false";
        return;
    case Type::integer:
        append_integer(out, m_scalar.integer);
        return;
    case Type::number:
        append_number(out, m_scalar.number);
        return;
    case Type::string:
        append_json_string(out, m_string);
        return;
    case Type::array:
        out += '[';
        for (std::size_t i = 0; i < m_items.size(); ++i) {
            out += i == 0 ? "" : ",";
            m_items[i].dump_to(out);
        }
        out += ']';
        return;
    case Type::object:
        out += '{';
        for (std::size_t i = 0; i < m_items.size(); ++i) {
            out += i == 0 ? "" : ",";
            append_json_string(out, m_keys[i]);
            out += ':';
            m_items[i].dump_to(out);
        }
        out += '}';
        return;
    }
}

bool operator==(const Json& a, const Json& b) {
    if (a.is_number() && b.is_number()) {
        return a.m_type == b.m_type ? (a.m_type == Json::Type::integer ? a.m_scalar.integer == b.m_scalar.integer
                                                                        : a.m_scalar.number == b.m_scalar.number)
                                    : a.as_double() == b.as_double();
    }
    if (a.m_type != b.m_type) {
        return false;
    }
    switch (a.m_type) {
    case Json::Type::null:
        return true;
    case Json::Type::boolean:
        return a.m_scalar.boolean == b.m_scalar.boolean;
    case Json::Type::string:
        return a.m_string == b.m_string;
    case Json::Type::array:
        return a.m_items == b.m_items;
    case Json::Type::object:
        return a.m_keys == b.m_keys && a.m_items == b.m_items;
    default:
        return false;
    }
}

void append_json_string(std::string& out, std::string_view text) {
    static constexpr char k_hex[] = "0123456789abcdef";
    out += '"';
    std::size_t plain = 0; // start of the run of characters copied as they are
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto byte = static_cast<unsigned char>(text[i]);
        if (byte >= 0x20 && byte != '"' && byte != '\\') {
            continue;
        }
        out.append(text.data() + plain, i - plain);
        plain = i + 1;
        switch (byte) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\r':
            out += "\\r";
            break;
        case '\t':
            out += "\\t";
            break;
        case '\b':
            out += "\\b";
            break;
        case '\f':
            out += "\\f";
            break;
        default:
            out += "\\u00";
            out += k_hex[byte >> 4];
            out += k_hex[byte & 0xF];
        }
    }
    out.append(text.data() + plain, text.size() - plain);
    out += '"';
}

bool is_valid_utf8(std::string_view text) {
    return simdjson::validate_utf8(text.data(), text.size());
}

std::vector<std::string> parse_string_array(std::string_view text, const std::string& source) {
    const auto fail = [&] { return InputError(source, 0, "not a JSON array of strings"); };
    std::vector<std::string> items;
    std::size_t i = 0;
    if (text.empty() || text[i++] != '[') {
        throw fail();
    }
    if (i < text.size() && text[i] == ']') {
        return i + 1 == text.size() ? items : throw fail();
    }
    while (true) {
        if (i >= text.size() || text[i++] != '"') {
            throw fail();
        }
        std::string item;
        while (true) {
            if (i >= text.size()) {
                throw fail();
            }
            const char c = text[i++];
            if (c == '"') {
                break;
            }
            if (c != '\\') {
                item += c;
                continue;
            }
            if (i >= text.size()) {
                throw fail();
            }
            switch (const char escaped = text[i++]) {
            case 'n': item += '\n'; break;
            case 'r': item += '\r'; break;
            case 't': item += '\t'; break;
            case 'b': item += '\b'; break;
            case 'f': item += '\f'; break;
            case '"': case '\\': case '/': item += escaped; break;
            case 'u': {
                // append_json_string escapes only control characters this way: \u00XX.
                if (i + 4 > text.size() || text.substr(i, 2) != "00") {
                    throw fail();
                }
                const std::string digits(text.substr(i + 2, 2));
                char* end = nullptr;
                const long value = std::strtol(digits.c_str(), &end, 16);
                if (end != digits.c_str() + 2) {
                    throw fail();
                }
                item += static_cast<char>(value);
                i += 4;
                break;
            }
            default:
                throw fail();
            }
        }
        items.push_back(std::move(item));
        if (i >= text.size()) {
            throw fail();
        }
        const char next = text[i++];
        if (next == ']') {
            return i == text.size() ? items : throw fail();
        }
        if (next != ',') {
            throw fail();
        }
    }
}

} // namespace onboard::core
