#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace onboard::core {

// A JSON value that keeps the order of object members, as the documents it carries (GraphQL
// variables, answers, exports) are read by people. Objects hold keys() and items() side by side;
// arrays hold items(). Parsing is simdjson's; the tree is ours so it can be built and changed.
class Json {
public:
    enum class Type { null, boolean, integer, number, string, array, object };

    Json() noexcept {}
    Json(std::nullptr_t) {}
    Json(bool value) : m_type(Type::boolean) { m_scalar.boolean = value; }
    template <std::integral Integer>
        requires(!std::same_as<Integer, bool> && !std::same_as<Integer, char>)
    Json(Integer value) : m_type(Type::integer) {
        m_scalar.integer = static_cast<std::int64_t>(value);
    }
    Json(double value) : m_type(Type::number) { m_scalar.number = value; }
    Json(std::string value) : m_type(Type::string), m_string(std::move(value)) {}
    Json(const char* value) : m_type(Type::string), m_string(value) {}
    Json(std::string_view value) : m_type(Type::string), m_string(value) {}

    static Json object();
    static Json array();

    // Parses JSON text; throws onboard::InputError "<source>: invalid JSON (<why>)".
    static Json parse(std::string_view text, const std::string& source = "json");

    Type type() const { return m_type; }
    bool is_null() const { return m_type == Type::null; }
    bool is_bool() const { return m_type == Type::boolean; }
    bool is_number() const { return m_type == Type::integer || m_type == Type::number; }
    bool is_string() const { return m_type == Type::string; }
    bool is_array() const { return m_type == Type::array; }
    bool is_object() const { return m_type == Type::object; }

    // Typed reads; a value of another type reads as false, 0 or the empty string.
    bool as_bool() const { return m_type == Type::boolean && m_scalar.boolean; }
    std::int64_t as_int() const;
    double as_double() const;
    const std::string& as_string() const;

    // Members of an array or an object (an object's values, in the order of keys()).
    std::size_t size() const { return m_items.size(); }
    bool empty() const { return m_items.empty(); }
    const std::vector<Json>& items() const { return m_items; }
    std::vector<Json>& items() { return m_items; }
    const std::vector<std::string>& keys() const { return m_keys; }

    // Appends to an array (a null becomes an empty array first).
    void push_back(Json value);
    // Sets an object member, replacing one of the same name (a null becomes an empty object
    // first); returns the member's value.
    Json& set(std::string_view key, Json value);
    // The member named `key` of an object, or nullptr.
    const Json* find(std::string_view key) const;
    Json* find(std::string_view key);
    // RFC 6901: "" is the value itself, "/a/0/b~1c" walks members and indexes; nullptr if absent.
    const Json* at_pointer(std::string_view pointer) const;

    // Compact JSON text, members in order.
    std::string dump() const;
    void dump_to(std::string& out) const;

    friend bool operator==(const Json& a, const Json& b);

private:
    Type m_type = Type::null;
    union Scalar {
        bool boolean;
        std::int64_t integer = 0;
        double number;
    } m_scalar;
    std::string m_string;
    std::vector<std::string> m_keys;
    std::vector<Json> m_items;
};

// Appends `text` to `out` as a quoted JSON string, escaping quotes, backslashes and control characters.
void append_json_string(std::string& out, std::string_view text);

// True when `text` is well-formed UTF-8 (no overlong forms, surrogates or truncated sequences).
bool is_valid_utf8(std::string_view text);

// An array of strings as written with append_json_string, bytes that are not UTF-8 kept as they are
// (a rejected record's fields as they were in the file: Json::parse refuses such text). Throws
// onboard::InputError naming `source` for anything else.
std::vector<std::string> parse_string_array(std::string_view text, const std::string& source);

} // namespace onboard::core
