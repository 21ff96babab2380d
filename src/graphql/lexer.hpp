#pragma once

#include "graphql/parser.hpp"

#include <string>
#include <string_view>

namespace onboard::graphql {

// One lexical token of a GraphQL document.
struct Token {
    enum class Kind {
        eof, bang, dollar, amp, paren_l, paren_r, spread, colon, equals, at,
        bracket_l, bracket_r, brace_l, pipe, brace_r, name, integer, floating, string, block_string
    };
    Kind kind = Kind::eof;
    std::string_view raw;  // the source text of names and numbers
    std::string value;     // the decoded value of strings
    Location location;

    // How GraphQL.js names the token in messages: "}", <EOF>, Name "foo".
    std::string describe() const;
};

// How GraphQL.js names a token kind in "Expected ..." messages.
std::string describe(Token::Kind kind);

// Splits a document into tokens, skipping whitespace, commas and comments; throws SyntaxError.
class Lexer {
public:
    explicit Lexer(std::string_view source);

    // The next token (Kind::eof at the end, repeatedly); throws SyntaxError on a bad character.
    Token next();

private:
    Location location_at(std::size_t pos) const;
    [[noreturn]] void fail(const std::string& message, std::size_t pos) const;
    void skip_ignored();
    Token read_number(std::size_t start);
    Token read_string(std::size_t start);
    Token read_block_string(std::size_t start);
    void read_escape(std::string& out);
    std::size_t read_digits(std::size_t pos);

    std::string_view m_source;
    std::size_t m_pos = 0;
    int m_line = 1;
    std::size_t m_line_start = 0;
};

} // namespace onboard::graphql
