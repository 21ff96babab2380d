#include "core/error.hpp"
#include "workflow/expression.hpp"

#include <cctype>
#include <charconv>

namespace onboard::workflow {

struct Condition::Node {
    enum class Kind { literal, reference, negation, all, any, compare };
    Kind kind = Kind::literal;
    core::Json value;
    std::size_t reference = 0;
    std::string op;
    std::vector<std::shared_ptr<const Node>> children;
};

namespace {

using Node = Condition::Node;
using NodePtr = std::shared_ptr<const Node>;

// Deeper nesting than this is refused so that no input can exhaust the stack.
constexpr int k_max_depth = 64;

[[noreturn]] void fail(std::size_t index, const std::string& what) {
    throw WorkflowError("column " + std::to_string(index + 1) + ": " + what);
}

struct Token {
    enum class Kind { end, lparen, rparen, both, either, negate, compare, literal, reference };
    Kind kind = Kind::end;
    std::size_t at = 0;
    std::string text;  // as written
    core::Json value;  // literal
    Reference reference;
};

class Parser {
public:
    Parser(std::string_view text, std::vector<Reference>& references)
        : m_text(text), m_references(references) {
        advance();
    }

    NodePtr parse() {
        NodePtr root = parse_any(0);
        if (m_token.kind != Token::Kind::end) {
            fail(m_token.at, "expected \"&&\", \"||\" or the end of the condition, got " + describe());
        }
        return root;
    }

private:
    std::string describe() const {
        return m_token.kind == Token::Kind::end ? "the end of the condition" : "\"" + m_token.text + "\"";
    }

    NodePtr parse_any(int depth) {
        NodePtr first = parse_all(depth);
        if (m_token.kind != Token::Kind::either) {
            return first;
        }
        auto node = std::make_shared<Node>();
        node->kind = Node::Kind::any;
        node->children.push_back(std::move(first));
        while (m_token.kind == Token::Kind::either) {
            advance();
            node->children.push_back(parse_all(depth));
        }
        return node;
    }

    NodePtr parse_all(int depth) {
        NodePtr first = parse_unary(depth);
        if (m_token.kind != Token::Kind::both) {
            return first;
        }
        auto node = std::make_shared<Node>();
        node->kind = Node::Kind::all;
        node->children.push_back(std::move(first));
        while (m_token.kind == Token::Kind::both) {
            advance();
            node->children.push_back(parse_unary(depth));
        }
        return node;
    }

    NodePtr parse_unary(int depth) {
        if (m_token.kind != Token::Kind::negate) {
            return parse_comparison(depth);
        }
        if (depth >= k_max_depth) {
            fail(m_token.at, "the condition nests too deeply");
        }
        advance();
        auto node = std::make_shared<Node>();
        node->kind = Node::Kind::negation;
        node->children.push_back(parse_unary(depth + 1));
        return node;
    }

    NodePtr parse_comparison(int depth) {
        NodePtr left = parse_primary(depth);
        if (m_token.kind != Token::Kind::compare) {
            return left;
        }
        auto node = std::make_shared<Node>();
        node->kind = Node::Kind::compare;
        node->op = m_token.text;
        advance();
        node->children.push_back(std::move(left));
        node->children.push_back(parse_primary(depth));
        if (m_token.kind == Token::Kind::compare) {
            fail(m_token.at, "comparisons cannot be chained; use \"&&\"");
        }
        return node;
    }

    NodePtr parse_primary(int depth) {
        auto node = std::make_shared<Node>();
        switch (m_token.kind) {
        case Token::Kind::lparen: {
            if (depth >= k_max_depth) {
                fail(m_token.at, "the condition nests too deeply");
            }
            const std::size_t open = m_token.at;
            advance();
            NodePtr inner = parse_any(depth + 1);
            if (m_token.kind != Token::Kind::rparen) {
                fail(m_token.at, "expected \")\" to close the \"(\" at column " + std::to_string(open + 1) +
                                     ", got " + describe());
            }
            advance();
            return inner;
        }
        case Token::Kind::literal:
            node->value = m_token.value;
            break;
        case Token::Kind::reference:
            node->kind = Node::Kind::reference;
            node->reference = m_references.size();
            m_references.push_back(m_token.reference);
            break;
        default:
            fail(m_token.at, "expected a value, got " + describe());
        }
        advance();
        return node;
    }

    void advance() {
        while (m_pos < m_text.size() && std::isspace(static_cast<unsigned char>(m_text[m_pos])) != 0) {
            ++m_pos;
        }
        m_token = Token{};
        m_token.at = m_pos;
        if (m_pos >= m_text.size()) {
            return;
        }
        const std::size_t start = m_pos;
        lex_token();
        m_token.text = std::string(m_text.substr(start, m_pos - start));
    }

    bool next_is(char c) const { return m_pos + 1 < m_text.size() && m_text[m_pos + 1] == c; }

    void lex_token() {
        const char c = m_text[m_pos];
        using Kind = Token::Kind;
        if (c == '(' || c == ')') {
            m_token.kind = c == '(' ? Kind::lparen : Kind::rparen;
            ++m_pos;
        } else if (c == '&' || c == '|') {
            if (!next_is(c)) {
                fail(m_pos, std::string("expected \"") + c + c + "\"");
            }
            m_token.kind = c == '&' ? Kind::both : Kind::either;
            m_pos += 2;
        } else if (c == '=' || c == '!' || c == '<' || c == '>') {
            lex_operator(c);
        } else if (c == '$') {
            m_token.kind = Kind::reference;
            m_token.reference = parse_reference(m_text, m_pos, ReferenceEnd::condition);
        } else if (c == '\'' || c == '"') {
            lex_string(c);
        } else if (std::isdigit(static_cast<unsigned char>(c)) != 0 ||
                   (c == '-' && m_pos + 1 < m_text.size() &&
                    std::isdigit(static_cast<unsigned char>(m_text[m_pos + 1])) != 0)) {
            lex_number();
        } else if (std::isalpha(static_cast<unsigned char>(c)) != 0) {
            lex_word();
        } else {
            fail(m_pos, "unexpected character \"" + std::string(1, c) + "\"");
        }
    }

    void lex_operator(char c) {
        if (c == '!' && !next_is('=')) {
            m_token.kind = Token::Kind::negate;
            ++m_pos;
            return;
        }
        if (c == '=' && !next_is('=')) {
            fail(m_pos, "expected \"==\"");
        }
        m_token.kind = Token::Kind::compare;
        m_pos += next_is('=') ? 2 : 1;
    }

    void lex_string(char quote) {
        std::string value;
        ++m_pos;
        while (m_pos < m_text.size() && m_text[m_pos] != quote) {
            if (m_text[m_pos] == '\\' && m_pos + 1 < m_text.size()) {
                ++m_pos;
            }
            value += m_text[m_pos++];
        }
        if (m_pos >= m_text.size()) {
            fail(m_token.at, "unterminated string");
        }
        ++m_pos;
        m_token.kind = Token::Kind::literal;
        m_token.value = core::Json(std::move(value));
    }

    void lex_number() {
        const std::size_t start = m_pos;
        bool integral = true;
        if (m_text[m_pos] == '-') {
            ++m_pos;
        }
        while (m_pos < m_text.size() && (std::isalnum(static_cast<unsigned char>(m_text[m_pos])) != 0 ||
                                         m_text[m_pos] == '.' ||
                                         ((m_text[m_pos] == '-' || m_text[m_pos] == '+') &&
                                          (m_text[m_pos - 1] == 'e' || m_text[m_pos - 1] == 'E')))) {
            integral = integral && std::isdigit(static_cast<unsigned char>(m_text[m_pos])) != 0;
            ++m_pos;
        }
        const std::string_view written = m_text.substr(start, m_pos - start);
        const char* first = written.data();
        const char* last = written.data() + written.size();
        m_token.kind = Token::Kind::literal;
        std::int64_t whole = 0;
        if (integral) {
            auto [end, error] = std::from_chars(first, last, whole);
            if (error == std::errc() && end == last) {
                m_token.value = core::Json(whole);
                return;
            }
        }
        double real = 0;
        auto [end, error] = std::from_chars(first, last, real);
        if (error != std::errc() || end != last) {
            fail(start, "malformed number \"" + std::string(written) + "\"");
        }
        m_token.value = core::Json(real);
    }

    void lex_word() {
        const std::size_t start = m_pos;
        while (m_pos < m_text.size() && (std::isalnum(static_cast<unsigned char>(m_text[m_pos])) != 0 ||
                                         m_text[m_pos] == '_')) {
            ++m_pos;
        }
        const std::string_view word = m_text.substr(start, m_pos - start);
        m_token.kind = Token::Kind::literal;
        if (word == "true" || word == "false") {
            m_token.value = core::Json(word == "true");
        } else if (word != "null") {
            fail(start, "unexpected word \"" + std::string(word) +
                            "\"; strings are quoted and runtime expressions start with \"$\"");
        }
    }

    std::string_view m_text;
    std::vector<Reference>& m_references;
    std::size_t m_pos = 0;
    Token m_token;
};

bool truthy(const core::Json& value) {
    switch (value.type()) {
    case core::Json::Type::null:
        return false;
    case core::Json::Type::boolean:
        return value.as_bool();
    case core::Json::Type::integer:
    case core::Json::Type::number:
        return value.as_double() != 0;
    case core::Json::Type::string:
        return !value.as_string().empty();
    default:
        return true;
    }
}

int order_of(const core::Json& a, const core::Json& b) {
    if (a.type() == core::Json::Type::integer && b.type() == core::Json::Type::integer) {
        return a.as_int() < b.as_int() ? -1 : a.as_int() > b.as_int() ? 1 : 0;
    }
    const double x = a.as_double();
    const double y = b.as_double();
    return x < y ? -1 : x > y ? 1 : 0;
}

// Numbers compare numerically, strings by bytes; other kinds only for (in)equality.
bool compare_values(const core::Json& a, const core::Json& b, const std::string& op) {
    int order = 0;
    if (a.is_number() && b.is_number()) {
        if (!(a.as_double() == a.as_double()) || !(b.as_double() == b.as_double())) {
            return op == "!="; // NaN equals nothing
        }
        order = order_of(a, b);
    } else if (a.is_string() && b.is_string()) {
        const int c = a.as_string().compare(b.as_string());
        order = c < 0 ? -1 : c > 0 ? 1 : 0;
    } else {
        const bool equal = a == b;
        return op == "==" ? equal : op == "!=" ? !equal : false;
    }
    if (op == "==") return order == 0;
    if (op == "!=") return order != 0;
    if (op == "<") return order < 0;
    if (op == "<=") return order <= 0;
    if (op == ">") return order > 0;
    return order >= 0;
}

core::Json evaluate_node(const Node& node, const std::vector<Reference>& refs, const Scope& scope) {
    switch (node.kind) {
    case Node::Kind::literal:
        return node.value;
    case Node::Kind::reference:
        return resolve(refs[node.reference], scope);
    case Node::Kind::negation:
        return core::Json(!truthy(evaluate_node(*node.children[0], refs, scope)));
    case Node::Kind::all:
        for (const auto& child : node.children) {
            if (!truthy(evaluate_node(*child, refs, scope))) {
                return core::Json(false);
            }
        }
        return core::Json(true);
    case Node::Kind::any:
        for (const auto& child : node.children) {
            if (truthy(evaluate_node(*child, refs, scope))) {
                return core::Json(true);
            }
        }
        return core::Json(false);
    case Node::Kind::compare:
        return core::Json(compare_values(evaluate_node(*node.children[0], refs, scope),
                                         evaluate_node(*node.children[1], refs, scope), node.op));
    }
    return core::Json();
}

} // namespace

Condition Condition::parse(std::string_view text) {
    Condition condition;
    condition.m_text = std::string(text);
    condition.m_root = Parser(text, condition.m_references).parse();
    return condition;
}

bool Condition::holds(const Scope& scope) const { return truthy(evaluate(scope)); }

core::Json Condition::evaluate(const Scope& scope) const {
    return m_root ? evaluate_node(*m_root, m_references, scope) : core::Json();
}

} // namespace onboard::workflow
