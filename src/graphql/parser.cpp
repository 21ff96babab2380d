#include "graphql/parser.hpp"

#include "graphql/lexer.hpp"

#include <charconv>
#include <cstdlib>

namespace onboard::graphql {

namespace {

using K = Token::Kind;

// A recursive-descent parser over the lexer with one token of lookahead.
class Parser {
public:
    explicit Parser(std::string_view source) : m_lexer(source) { m_token = m_lexer.next(); }

    Document document() {
        Document doc;
        do {
            doc.operations.push_back(definition());
        } while (m_token.kind != K::eof);
        return doc;
    }

private:
    [[noreturn]] void fail(const std::string& message, Location location) const {
        throw SyntaxError("Syntax Error: " + message, location);
    }
    [[noreturn]] void unexpected() const { fail("Unexpected " + m_token.describe() + ".", m_token.location); }

    Token advance() {
        Token current = std::move(m_token);
        m_token = m_lexer.next();
        return current;
    }
    bool peek(K kind) const { return m_token.kind == kind; }
    bool skip(K kind) {
        if (!peek(kind)) {
            return false;
        }
        advance();
        return true;
    }
    Token expect(K kind) {
        if (!peek(kind)) {
            fail("Expected " + describe(kind) + ", found " + m_token.describe() + ".", m_token.location);
        }
        return advance();
    }
    std::string name() { return std::string(expect(K::name).raw); }

    void reject_unsupported() const {
        if (peek(K::at)) {
            fail("Directives are not supported.", m_token.location);
        }
        if (peek(K::spread)) {
            fail("Fragments are not supported.", m_token.location);
        }
    }

    Operation definition() {
        Operation op;
        op.location = m_token.location;
        if (peek(K::brace_l)) {
            op.selections = selection_set();
            return op;
        }
        if (!peek(K::name)) {
            unexpected();
        }
        if (m_token.raw == "fragment") {
            fail("Fragments are not supported.", m_token.location);
        }
        if (m_token.raw == "query") {
            op.kind = Operation::Kind::query;
        } else if (m_token.raw == "mutation") {
            op.kind = Operation::Kind::mutation;
        } else if (m_token.raw == "subscription") {
            op.kind = Operation::Kind::subscription;
        } else {
            unexpected();
        }
        advance();
        if (peek(K::name)) {
            op.name = name();
        }
        if (skip(K::paren_l)) {
            do {
                op.variables.push_back(variable_definition());
            } while (!skip(K::paren_r));
        }
        reject_unsupported();
        op.selections = selection_set();
        return op;
    }

    VariableDefinition variable_definition() {
        VariableDefinition def;
        def.location = m_token.location;
        expect(K::dollar);
        def.name = name();
        expect(K::colon);
        def.type = type_ref();
        if (skip(K::equals)) {
            def.default_value = value(true);
        }
        reject_unsupported();
        return def;
    }

    TypeRef type_ref() {
        TypeRef type;
        type.location = m_token.location;
        if (skip(K::bracket_l)) {
            type.of.push_back(type_ref());
            expect(K::bracket_r);
        } else {
            type.name = name();
        }
        type.non_null = skip(K::bang);
        return type;
    }

    std::vector<Field> selection_set() {
        std::vector<Field> fields;
        expect(K::brace_l);
        do {
            reject_unsupported();
            fields.push_back(field());
        } while (!skip(K::brace_r));
        return fields;
    }

    Field field() {
        Field f;
        f.location = m_token.location;
        f.name = name();
        if (skip(K::colon)) {
            f.alias = std::move(f.name);
            f.name = name();
        }
        if (skip(K::paren_l)) {
            do {
                Argument arg;
                arg.location = m_token.location;
                arg.name = name();
                expect(K::colon);
                arg.value = value(false);
                f.arguments.push_back(std::move(arg));
            } while (!skip(K::paren_r));
        }
        reject_unsupported();
        if (peek(K::brace_l)) {
            f.selections = selection_set();
        }
        return f;
    }

    Value value(bool is_const) {
        Value v;
        v.location = m_token.location;
        switch (m_token.kind) {
        case K::bracket_l:
            advance();
            v.kind = Value::Kind::list;
            while (!skip(K::bracket_r)) {
                v.items.push_back(value(is_const));
            }
            return v;
        case K::brace_l:
            advance();
            v.kind = Value::Kind::object;
            while (!skip(K::brace_r)) {
                v.keys.push_back(name());
                expect(K::colon);
                v.items.push_back(value(is_const));
            }
            return v;
        case K::integer:
        case K::floating:
            v.kind = peek(K::integer) ? Value::Kind::integer : Value::Kind::floating;
            v.text = std::string(advance().raw);
            return v;
        case K::string:
        case K::block_string:
            v.kind = Value::Kind::string;
            v.text = advance().value;
            return v;
        case K::name:
            return name_value(std::move(v));
        case K::dollar:
            if (!is_const) {
                advance();
                v.kind = Value::Kind::variable;
                v.text = name();
                return v;
            }
            break;
        default:
            break;
        }
        unexpected();
    }

    Value name_value(Value v) {
        const std::string_view word = m_token.raw;
        if (word == "true" || word == "false") {
            v.kind = Value::Kind::boolean;
            v.boolean = word == "true";
        } else if (word == "null") {
            v.kind = Value::Kind::null;
        } else {
            v.kind = Value::Kind::enumeration;
            v.text = std::string(word);
        }
        advance();
        return v;
    }

    Lexer m_lexer;
    Token m_token;
};

} // namespace

std::string TypeRef::str() const {
    std::string out;
    if (is_list()) {
        out += '[';
        out += of.front().str();
        out += ']';
    } else {
        out = name;
    }
    if (non_null) {
        out += '!';
    }
    return out;
}

Document parse(std::string_view source) {
    return Parser(source).document();
}

core::Json to_json(const Value& value, const core::Json& variables) {
    switch (value.kind) {
    case Value::Kind::variable: {
        const core::Json* found = variables.find(value.text);
        return found != nullptr ? *found : core::Json(nullptr);
    }
    case Value::Kind::integer: {
        std::int64_t number = 0;
        const auto [end, error] = std::from_chars(value.text.data(), value.text.data() + value.text.size(), number);
        if (error == std::errc() && end == value.text.data() + value.text.size()) {
            return core::Json(number);
        }
        return core::Json(std::strtod(value.text.c_str(), nullptr));
    }
    case Value::Kind::floating:
        return core::Json(std::strtod(value.text.c_str(), nullptr));
    case Value::Kind::string:
    case Value::Kind::enumeration:
        return core::Json(value.text);
    case Value::Kind::boolean:
        return core::Json(value.boolean);
    case Value::Kind::null:
        return core::Json(nullptr);
    case Value::Kind::list: {
        core::Json out = core::Json::array();
        for (const Value& item : value.items) {
            out.push_back(to_json(item, variables));
        }
        return out;
    }
    case Value::Kind::object: {
        core::Json out = core::Json::object();
        for (std::size_t i = 0; i < value.items.size(); ++i) {
            const Value& item = value.items[i];
            // A member given an absent variable is left out, as GraphQL coerces input objects.
            if (item.kind == Value::Kind::variable && variables.find(item.text) == nullptr) {
                continue;
            }
            out.set(value.keys[i], to_json(item, variables));
        }
        return out;
    }
    }
    return core::Json(nullptr);
}

} // namespace onboard::graphql
