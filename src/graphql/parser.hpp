#pragma once

#include "core/error.hpp"
#include "core/json.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace onboard::graphql {

// A 1-based line and column in a GraphQL document.
struct Location {
    int line = 1;
    int column = 1;
};

// A malformed document; graphql_message() reads like GraphQL.js ("Syntax Error: Expected Name, found "}".").
class SyntaxError : public Error {
public:
    SyntaxError(std::string message, Location location)
        : Error("document:" + std::to_string(location.line) + ":" + std::to_string(location.column) + ": " +
                message),
          m_message(std::move(message)), m_location(location) {}
    const std::string& graphql_message() const { return m_message; }
    Location location() const { return m_location; }

private:
    std::string m_message;
    Location m_location;
};

// An argument or default value as written: a variable, a literal, a list or an input object.
struct Value {
    enum class Kind { variable, integer, floating, string, boolean, null, enumeration, list, object };
    Kind kind = Kind::null;
    std::string text;               // variable or enum name, number as written, decoded string
    bool boolean = false;
    std::vector<Value> items;       // list elements, or object member values
    std::vector<std::string> keys;  // object member names, parallel to items
    Location location;
};

// A variable's declared type: a named type, or a list of one, possibly non-null.
struct TypeRef {
    std::string name;          // empty for a list
    std::vector<TypeRef> of;   // the element type of a list (exactly one)
    bool non_null = false;
    Location location;

    bool is_list() const { return !of.empty(); }
    // The type as GraphQL writes it ("[String!]!").
    std::string str() const;
};

// `$name: Type = default` in an operation's header.
struct VariableDefinition {
    std::string name;
    TypeRef type;
    std::optional<Value> default_value;
    Location location;
};

struct Argument {
    std::string name;
    Value value;
    Location location;
};

// A field selection: `alias: name(arguments) { selections }`.
struct Field {
    std::string alias; // empty when none was written
    std::string name;
    std::vector<Argument> arguments;
    std::vector<Field> selections;
    Location location;

    // The key this field is answered under.
    const std::string& response_key() const { return alias.empty() ? name : alias; }
};

struct Operation {
    enum class Kind { query, mutation, subscription };
    Kind kind = Kind::query;
    std::string name; // empty when anonymous
    std::vector<VariableDefinition> variables;
    std::vector<Field> selections;
    Location location;
};

// An executable document: its operations in order (fragments and directives are not supported).
struct Document {
    std::vector<Operation> operations;
};

// Parses an executable GraphQL document; throws SyntaxError (also for fragments and directives).
Document parse(std::string_view source);

// A value as JSON, variables replaced by their value in `variables` (null when absent); never throws.
core::Json to_json(const Value& value, const core::Json& variables);

} // namespace onboard::graphql
