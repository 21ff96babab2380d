#include "core/error.hpp"
#include "workflow/expression.hpp"

#include <catch2/catch.hpp>

using onboard::WorkflowError;
using onboard::core::Json;
using namespace onboard::workflow;

namespace {

Reference reference_of(const std::string& text) {
    std::size_t pos = 0;
    Reference ref = parse_reference(text, pos, ReferenceEnd::whitespace);
    REQUIRE(pos == text.size());
    return ref;
}

std::string condition_error(const std::string& text) {
    try {
        Condition::parse(text);
    } catch (const WorkflowError& e) {
        return e.what();
    }
    return "no error";
}

std::string template_error(const std::string& text) {
    try {
        Template::parse(text);
    } catch (const WorkflowError& e) {
        return e.what();
    }
    return "no error";
}

struct Fixture {
    Context context;
    onboard::http::Response response;
    Json body;
    Scope scope() const { return Scope{&context, &response, &body}; }
};

Fixture sample() {
    Fixture f;
    f.context.inputs = Json::parse(R"({"name":"Acme","externalId":null,"nested":{"a":[1,2]}})");
    f.context.step_outputs["refreshToken"] = Json::parse(R"({"accessToken":"tok-1"})");
    f.response.status = 200;
    f.response.headers = {{"x-request-id", "r-9"}};
    f.body = Json::parse(R"({"data":{"createCustomer":{"customer":{"id":"Q3VzdG9tZXI6MQ==","n":3}}}})");
    return f;
}

} // namespace

TEST_CASE("runtime expressions parse into their source, name and pointer", "[expression]") {
    const Reference input = reference_of("$inputs.externalId");
    CHECK(input.source == Reference::Source::inputs);
    CHECK(input.name == "externalId");
    CHECK(input.pointer.empty());

    const Reference output = reference_of("$steps.refreshToken.outputs.accessToken");
    CHECK(output.source == Reference::Source::step_output);
    CHECK(output.step == "refreshToken");
    CHECK(output.name == "accessToken");

    const Reference body = reference_of("$response.body#/data/createCustomer/customer/id");
    CHECK(body.source == Reference::Source::response_body);
    CHECK(body.pointer == "/data/createCustomer/customer/id");

    const Reference header = reference_of("$response.header.Retry-After");
    CHECK(header.source == Reference::Source::response_header);
    CHECK(header.name == "Retry-After");

    CHECK(reference_of("$statusCode").source == Reference::Source::status_code);
    CHECK(reference_of("$inputs.nested.a").pointer == "/a");
}

TEST_CASE("runtime expressions resolve against inputs, step outputs and the response", "[expression]") {
    const Fixture f = sample();
    CHECK(resolve(reference_of("$inputs.name"), f.scope()) == Json("Acme"));
    CHECK(resolve(reference_of("$inputs.nested#/a/1"), f.scope()) == Json(2));
    CHECK(resolve(reference_of("$steps.refreshToken.outputs.accessToken"), f.scope()) == Json("tok-1"));
    CHECK(resolve(reference_of("$response.body#/data/createCustomer/customer/n"), f.scope()) == Json(3));
    CHECK(resolve(reference_of("$response.header.X-Request-Id"), f.scope()) == Json("r-9"));
    CHECK(resolve(reference_of("$statusCode"), f.scope()) == Json(200));
}

TEST_CASE("runtime expressions that name nothing resolve to null", "[expression]") {
    const Fixture f = sample();
    CHECK(resolve(reference_of("$inputs.externalId"), f.scope()).is_null());
    CHECK(resolve(reference_of("$inputs.missing"), f.scope()).is_null());
    CHECK(resolve(reference_of("$steps.other.outputs.accessToken"), f.scope()).is_null());
    CHECK(resolve(reference_of("$response.body#/data/nothing"), f.scope()).is_null());
    CHECK(resolve(reference_of("$response.header.Retry-After"), f.scope()).is_null());
    CHECK(resolve(reference_of("$statusCode"), Scope{}).is_null());
}

TEST_CASE("malformed runtime expressions are reported with their column", "[expression]") {
    CHECK(template_error("$inputs.") == "column 9: expected an input name after \"$inputs.\"");
    CHECK(template_error("$steps.a.output.b") ==
          "column 9: expected \".outputs.<name>\" after \"$steps.a\"");
    CHECK(template_error("$response.bodyy") ==
          "column 11: expected \"body\" or \"header.<name>\" after \"$response.\"");
    CHECK(template_error("$response.body#data") == "column 16: a JSON pointer must start with \"/\"");
    CHECK(template_error("$response.body#/a~2") ==
          "column 18: \"~\" in a JSON pointer must be followed by \"0\" or \"1\"");
    CHECK(template_error("Bearer {$steps.a.outputs.b") ==
          "column 27: expected \"}\" to close \"{$steps.a.outputs.b\"");
    CHECK(template_error("{$url}") == "column 2: unsupported runtime expression \"$url\"");
    CHECK(template_error("{$foo.bar}") == "column 2: unknown runtime expression \"$foo\"");
    CHECK(template_error("{$}") == "column 3: expected a name after \"$\"");
}

TEST_CASE("a whole-string expression keeps its JSON type", "[expression]") {
    const Fixture f = sample();
    const Template whole = Template::parse("$inputs.nested");
    CHECK(whole.is_whole_expression());
    CHECK(whole.evaluate(f.scope()) == Json::parse(R"({"a":[1,2]})"));
    CHECK(Template::parse("$inputs.externalId").evaluate(f.scope()).is_null());
    CHECK(Template::parse("{$inputs.externalId}").evaluate(f.scope()).is_null());
    CHECK(whole.bare_expression().empty());
}

TEST_CASE("embedded expressions are replaced inside text", "[expression]") {
    const Fixture f = sample();
    const Template text = Template::parse("Bearer {$steps.refreshToken.outputs.accessToken}");
    CHECK_FALSE(text.is_whole_expression());
    CHECK(text.bare_expression().empty());
    CHECK(text.evaluate(f.scope()) == Json("Bearer tok-1"));
    CHECK(Template::parse("{$inputs.name}-{$response.body#/data/createCustomer/customer/n}!")
              .evaluate(f.scope()) == Json("Acme-3!"));
}

TEST_CASE("a bare expression inside text is evaluated and flagged", "[expression]") {
    const Fixture f = sample();
    const Template text = Template::parse("Bearer $steps.refreshToken.outputs.accessToken");
    CHECK(text.bare_expression() == "$steps.refreshToken.outputs.accessToken");
    CHECK(text.evaluate(f.scope()) == Json("Bearer tok-1"));
    CHECK(Template::parse("Bearer $steps.nobody.outputs.x").null_references(f.scope()) ==
          std::vector<std::string>{"$steps.nobody.outputs.x"});
}

TEST_CASE("graphql variables and dollar amounts in text are not expressions", "[expression]") {
    const Template query = Template::parse("mutation m($name: String!, $externalId: String) { a }");
    CHECK(query.references().empty());
    CHECK(Template::parse("costs $5 {not an expression}").references().empty());
    // Currency and shell-like words in prose: a word not followed by ".name" or "#" inside text, or by
    // a space at the start of a value.
    CHECK(Template::parse("Billed in $USD. Installed at $HOME.").references().empty());
    CHECK(Template::parse("$USD amount").references().empty());
    CHECK(template_error("Billed in $USD.total") == "column 11: unknown runtime expression \"$USD\"");
    const std::string seed_query = "mutation createCustomer($name: String!, $externalId: String) {\n"
                                   "  createCustomer(input: { name: $name, externalId: $externalId }) {\n"
                                   "    customer { id name externalId }\n  }\n}";
    CHECK(Template::parse(seed_query).references().empty());
    CHECK(Template::parse("query q($first: Int) { customers(first: $first) { nodes { id } } }").references().empty());
    CHECK(Template::parse("$").references().empty());
    CHECK(Template::parse("a lone $ and $5.00 and $ name").references().empty());
    CHECK(Template::parse("$5.00").references().empty());
}

TEST_CASE("a bare expression with an unknown root is an error naming the close known root", "[expression]") {
    CHECK(template_error("$inptus.name") == "column 1: unknown runtime expression \"$inptus\"; did you mean \"$inputs\"?");
    CHECK(template_error("$input.refreshToken") ==
          "column 1: unknown runtime expression \"$input\"; did you mean \"$inputs\"?");
    CHECK(template_error("$respons.body#/data/createCustomer/customer/id") ==
          "column 1: unknown runtime expression \"$respons\"; did you mean \"$response\"?");
    CHECK(template_error("$Inputs.name") == "column 1: unknown runtime expression \"$Inputs\"; did you mean \"$inputs\"?");
    CHECK(template_error("$nothing") == "column 1: unknown runtime expression \"$nothing\"");
    CHECK(template_error("$inputs") == "column 8: expected \".\" after \"$inputs\"");
    CHECK(template_error("Bearer $setps.refreshToken.outputs.accessToken") ==
          "column 8: unknown runtime expression \"$setps\"; did you mean \"$steps\"?");
    CHECK(template_error("{$inptus.name}") ==
          "column 2: unknown runtime expression \"$inptus\"; did you mean \"$inputs\"?");
    CHECK(condition_error("$statuscode == 200") ==
          "column 1: unknown runtime expression \"$statuscode\"; did you mean \"$statusCode\"?");
}

TEST_CASE("conditions compare numbers, strings, booleans and null", "[expression]") {
    const Fixture f = sample();
    auto holds = [&](const char* text) { return Condition::parse(text).holds(f.scope()); };
    CHECK(holds("$statusCode == 200"));
    CHECK_FALSE(holds("$statusCode != 200"));
    CHECK(holds("$statusCode >= 200 && $statusCode < 300"));
    CHECK(holds("$statusCode <= 200.0"));
    CHECK(holds("$statusCode > -1"));
    CHECK(holds("$inputs.name == 'Acme'"));
    CHECK(holds("$inputs.name == \"Acme\""));
    CHECK(holds("$inputs.name < 'B'"));
    CHECK(holds("$inputs.externalId == null"));
    CHECK_FALSE(holds("$inputs.externalId < 1"));
    CHECK(holds("$response.body#/data/createCustomer/customer/id != null"));
    CHECK(holds("true"));
    CHECK_FALSE(holds("false"));
    CHECK_FALSE(holds("$statusCode == '200'"));
    CHECK(holds("1e2 == 100"));
}

TEST_CASE("&& binds tighter than || and parentheses regroup", "[expression]") {
    const Fixture f = sample();
    auto holds = [&](const char* text) { return Condition::parse(text).holds(f.scope()); };
    CHECK(holds("true || false && false"));
    CHECK_FALSE(holds("(true || false) && false"));
    CHECK(holds("!(false) && !false"));
    CHECK_FALSE(holds("!($statusCode == 200)"));
}

TEST_CASE("a condition lists the runtime expressions it uses", "[expression]") {
    const Condition condition = Condition::parse("$statusCode == 200 && $response.body#/ok == true");
    REQUIRE(condition.references().size() == 2);
    CHECK(condition.references()[0].text == "$statusCode");
    CHECK(condition.references()[1].pointer == "/ok");
}

TEST_CASE("malformed conditions are reported with their column", "[expression]") {
    CHECK(condition_error("") == "column 1: expected a value, got the end of the condition");
    CHECK(condition_error("$statusCode = 200") == "column 13: expected \"==\"");
    CHECK(condition_error("$statusCode == ") == "column 16: expected a value, got the end of the condition");
    CHECK(condition_error("$statusCode == 200 &") == "column 20: expected \"&&\"");
    CHECK(condition_error("(1 == 1") ==
          "column 8: expected \")\" to close the \"(\" at column 1, got the end of the condition");
    CHECK(condition_error("1 == 1)") ==
          "column 7: expected \"&&\", \"||\" or the end of the condition, got \")\"");
    CHECK(condition_error("1 < 2 < 3") == "column 7: comparisons cannot be chained; use \"&&\"");
    CHECK(condition_error("'open") == "column 1: unterminated string");
    CHECK(condition_error("12abc == 1") == "column 1: malformed number \"12abc\"");
    CHECK(condition_error("ok == 1") ==
          "column 1: unexpected word \"ok\"; strings are quoted and runtime expressions start with \"$\"");
    CHECK(condition_error("1 == #") == "column 6: unexpected character \"#\"");
    CHECK(condition_error("$statusCode == $bogus") == "column 16: unknown runtime expression \"$bogus\"");
}

TEST_CASE("deep nesting is refused instead of exhausting the stack", "[expression]") {
    CHECK(condition_error(std::string(100000, '(')) == "column 65: the condition nests too deeply");
    CHECK(condition_error(std::string(100000, '!')) == "column 65: the condition nests too deeply");
    const std::string long_chain = [] {
        std::string text = "true";
        for (int i = 0; i < 20000; ++i) {
            text += " && true";
        }
        return text;
    }();
    CHECK(Condition::parse(long_chain).holds(Scope{}));
}
