// Fuzz target for the workflow's runtime expressions: parse_reference at every '$' (each way an
// expression may end), Condition::parse with holds/evaluate, and Template::parse with evaluate, all
// against a small scope and an empty one. Only onboard::Error is an expected outcome.

#include "core/error.hpp"
#include "core/json.hpp"
#include "workflow/expression.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

using onboard::core::Json;
using namespace onboard::workflow;

namespace {

// Stops the run so that libFuzzer (or the replay main) reports the input.
void broken(const char* promise) {
    std::fprintf(stderr, "expression_fuzz: broken promise: %s\n", promise);
    std::abort();
}

struct Fixture {
    Context context;
    onboard::http::Response response;
    Json body;

    Fixture() {
        context.inputs = Json::parse(R"({"name":"Acme, Ltd.","externalId":null,"n":-3,"nested":{"a/b":[1,2.5,true],"~":"t"}})");
        context.step_outputs["refreshToken"] = Json::parse(R"({"accessToken":"tok-1","expiresIn":3600})");
        response.status = 200;
        response.headers = {{"x-request-id", "r-9"}, {"content-type", "application/json"}};
        body = Json::parse(R"({"data":{"createCustomer":{"customer":{"id":"Q3VzdG9tZXI6MQ==","n":3}}},"errors":[]})");
    }
    Scope full() const { return Scope{&context, &response, &body}; }
};

const Fixture& fixture() {
    static const Fixture k_fixture;
    return k_fixture;
}

void references(std::string_view text, const Scope& scope) {
    constexpr ReferenceEnd k_ends[] = {ReferenceEnd::whitespace, ReferenceEnd::brace, ReferenceEnd::condition};
    int tried = 0;
    for (std::size_t start = text.find('$'); start != std::string_view::npos && tried < 8;
         start = text.find('$', start + 1), ++tried) {
        for (const ReferenceEnd end : k_ends) {
            std::size_t pos = start;
            try {
                const Reference ref = parse_reference(text, pos, end);
                if (pos <= start || pos > text.size() || ref.text != text.substr(start, pos - start)) {
                    broken("parse_reference advances past what it returns as written");
                }
                resolve(ref, scope).dump();
            } catch (const onboard::Error&) {
            }
        }
    }
}

void condition(std::string_view text, const Scope& scope, const Scope& empty) {
    try {
        const Condition parsed = Condition::parse(text);
        parsed.holds(scope);
        parsed.evaluate(scope).dump();
        parsed.holds(empty);
        parsed.evaluate(empty).dump();
        for (const Reference& ref : parsed.references()) {
            resolve(ref, scope);
        }
    } catch (const onboard::Error&) {
    }
}

void template_of(std::string_view text, const Scope& scope, const Scope& empty) {
    try {
        const Template parsed = Template::parse(text);
        const Json value = parsed.evaluate(scope);
        if (!parsed.is_whole_expression() && !value.is_string()) {
            broken("a template that is not one whole expression evaluates to a string");
        }
        to_text(value);
        parsed.evaluate(empty).dump();
        parsed.null_references(scope);
        parsed.null_references(empty);
    } catch (const onboard::Error&) {
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const Scope scope = fixture().full();
    const Context no_inputs;
    const Scope empty{&no_inputs, nullptr, nullptr};
    references(text, scope);
    condition(text, scope, empty);
    template_of(text, scope, empty);
    return 0;
}
