#include "graphql/parser.hpp"

#include <catch2/catch.hpp>

using namespace onboard::graphql;
using onboard::core::Json;

namespace {

// The GraphQL.js-style message and location of the SyntaxError `source` raises.
std::string syntax_error(std::string_view source) {
    try {
        parse(source);
    } catch (const SyntaxError& e) {
        return std::to_string(e.location().line) + ":" + std::to_string(e.location().column) + " " +
               e.graphql_message();
    }
    return "no error";
}

} // namespace

TEST_CASE("a mutation with variables, alias and nested selections is parsed with locations", "[graphql]") {
    const Document doc = parse(R"(mutation createCustomer($name: String!, $labels: [String!] = ["a"]) {
  first: createCustomer(input: {name: $name, labels: $labels}) {
    customer { id name }
    errors { field messages }
  }
})");
    REQUIRE(doc.operations.size() == 1);
    const Operation& op = doc.operations[0];
    CHECK(op.kind == Operation::Kind::mutation);
    CHECK(op.name == "createCustomer");
    REQUIRE(op.variables.size() == 2);
    CHECK(op.variables[0].name == "name");
    CHECK(op.variables[0].type.str() == "String!");
    CHECK(op.variables[0].location.column == 25);
    CHECK(op.variables[1].type.str() == "[String!]");
    REQUIRE(op.variables[1].default_value.has_value());
    CHECK(to_json(*op.variables[1].default_value, Json::object()).dump() == R"(["a"])");
    REQUIRE(op.selections.size() == 1);
    const Field& field = op.selections[0];
    CHECK(field.alias == "first");
    CHECK(field.name == "createCustomer");
    CHECK(field.response_key() == "first");
    CHECK(field.location.line == 2);
    CHECK(field.location.column == 3);
    REQUIRE(field.arguments.size() == 1);
    CHECK(field.arguments[0].name == "input");
    CHECK(field.arguments[0].value.kind == Value::Kind::object);
    REQUIRE(field.selections.size() == 2);
    CHECK(field.selections[0].name == "customer");
    CHECK(field.selections[0].selections[1].name == "name");
    CHECK(field.selections[1].selections[1].location.line == 4);
    CHECK(field.selections[1].selections[1].location.column == 20);
}

TEST_CASE("an anonymous query and several operations are parsed in order", "[graphql]") {
    const Document doc = parse("{ customers(first: 10) { totalCount } } query Q { customer(id: \"x\") { id } }");
    REQUIRE(doc.operations.size() == 2);
    CHECK(doc.operations[0].kind == Operation::Kind::query);
    CHECK(doc.operations[0].name.empty());
    CHECK(doc.operations[1].name == "Q");
}

TEST_CASE("literal values of every kind convert to json", "[graphql]") {
    const Document doc =
        parse(R"({ f(a: 1, b: -2.5e1, c: "x\"\u00e9\n", d: true, e: null, g: ENUM, h: [1, [false]], i: {j: $v, k: $absent}) })");
    Json variables = Json::object();
    variables.set("v", "value");
    Json args = Json::object();
    for (const Argument& arg : doc.operations[0].selections[0].arguments) {
        args.set(arg.name, to_json(arg.value, variables));
    }
    CHECK(args.dump() ==
          R"({"a":1,"b":-25,"c":"x\"é\n","d":true,"e":null,"g":"ENUM","h":[1,[false]],"i":{"j":"value"}})");
}

TEST_CASE("block strings lose their common indentation and blank edge lines", "[graphql]") {
    const Document doc = parse("{ f(a: \"\"\"\n    first\n      second \\\"\"\"\n    \"\"\") }");
    const Value& value = doc.operations[0].selections[0].arguments[0].value;
    CHECK(value.text == "first\n  second \"\"\"");
}

TEST_CASE("comments, commas and a byte order mark are ignored", "[graphql]") {
    const Document doc = parse("\xEF\xBB\xBF# a comment\n{ a,, b # trailing\n c }");
    REQUIRE(doc.operations[0].selections.size() == 3);
    CHECK(doc.operations[0].selections[2].location.line == 3);
    CHECK(doc.operations[0].selections[2].location.column == 2);
}

TEST_CASE("syntax errors read like GraphQL.js and carry their location", "[graphql]") {
    CHECK(syntax_error("{ }") == R"(1:3 Syntax Error: Expected Name, found "}".)");
    CHECK(syntax_error("") == "1:1 Syntax Error: Unexpected <EOF>.");
    CHECK(syntax_error("mutation {\n  createCustomer(input: {name: \"a\"}) {\n    id\n") ==
          "4:1 Syntax Error: Expected Name, found <EOF>.");
    CHECK(syntax_error("{ a(x: ) }") == R"x(1:8 Syntax Error: Unexpected ")".)x");
    CHECK(syntax_error("query Q($a String) { a }") == R"(1:12 Syntax Error: Expected ":", found Name "String".)");
    CHECK(syntax_error("{ a(x: $v) }") == "no error");
    CHECK(syntax_error("query Q($a: Int = $b) { a }") == R"(1:19 Syntax Error: Unexpected "$".)");
    CHECK(syntax_error("update { a }") == R"(1:1 Syntax Error: Unexpected Name "update".)");
    CHECK(syntax_error("{ a(x: \"open) }") == "1:16 Syntax Error: Unterminated string.");
    CHECK(syntax_error("{ a(x: \"\\q\") }") == R"(1:9 Syntax Error: Invalid character escape sequence: "\q".)");
    CHECK(syntax_error("{ a(x: \"\\u12G4\") }") ==
          R"(1:9 Syntax Error: Invalid Unicode escape sequence: "\u12G4".)");
    CHECK(syntax_error("{ a % }") == R"(1:5 Syntax Error: Unexpected character: "%".)");
    CHECK(syntax_error("{ a(x: 012) }") == R"(1:9 Syntax Error: Invalid number, unexpected digit after 0: "1".)");
    CHECK(syntax_error("{ a(x: 1.x) }") == R"(1:10 Syntax Error: Invalid number, expected digit but got: "x".)");
    CHECK(syntax_error("{ a(x: 12abc) }") == R"(1:10 Syntax Error: Invalid number, expected digit but got: "a".)");
    CHECK(syntax_error("{ a }}") == R"(1:6 Syntax Error: Unexpected "}".)");
}

TEST_CASE("fragments and directives are rejected with a clear error", "[graphql]") {
    CHECK(syntax_error("{ ...F } fragment F on Query { a }") == "1:3 Syntax Error: Fragments are not supported.");
    CHECK(syntax_error("fragment F on Query { a }") == "1:1 Syntax Error: Fragments are not supported.");
    CHECK(syntax_error("{ a @skip(if: true) }") == "1:5 Syntax Error: Directives are not supported.");
}

TEST_CASE("a syntax error's what() names the document position", "[graphql]") {
    CHECK_THROWS_WITH(parse("{ a("), R"(document:1:5: Syntax Error: Expected Name, found <EOF>.)");
}
