// Fuzz target for the GraphQL document parser: parses the input and, when it parses, turns every
// argument and default value into JSON against a small variables object and prints every type.
// Only onboard::Error (graphql::SyntaxError) is an expected outcome.

#include "core/error.hpp"
#include "core/json.hpp"
#include "graphql/parser.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

using onboard::core::Json;
namespace graphql = onboard::graphql;

namespace {

// Stops the run so that libFuzzer (or the replay main) reports the input.
void broken(const char* promise) {
    std::fprintf(stderr, "graphql_fuzz: broken promise: %s\n", promise);
    std::abort();
}

const Json& variables() {
    static const Json k_variables = Json::parse(
        R"({"name":"Acme","externalId":"ext-1","n":42,"f":1.5e300,"ok":true,"none":null,"list":[1,"two",{"x":[]}],"obj":{"a":{"b":"c"}}})");
    return k_variables;
}

void visit(const std::vector<graphql::Field>& fields) {
    for (const graphql::Field& field : fields) {
        if (field.name.empty() || field.response_key().empty()) {
            broken("a field has a name");
        }
        for (const graphql::Argument& argument : field.arguments) {
            graphql::to_json(argument.value, variables()).dump();
            graphql::to_json(argument.value, Json::object()).dump();
        }
        visit(field.selections);
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view source(reinterpret_cast<const char*>(data), size);
    try {
        const graphql::Document document = graphql::parse(source);
        if (document.operations.empty()) {
            broken("a parsed document has an operation");
        }
        for (const graphql::Operation& operation : document.operations) {
            for (const graphql::VariableDefinition& definition : operation.variables) {
                if (definition.type.str().empty()) {
                    broken("a variable's type prints as something");
                }
                if (definition.default_value) {
                    graphql::to_json(*definition.default_value, variables()).dump();
                }
            }
            visit(operation.selections);
        }
    } catch (const onboard::Error& e) {
        if (dynamic_cast<const graphql::SyntaxError*>(&e) == nullptr) {
            broken("the parser throws graphql::SyntaxError only");
        }
    }
    return 0;
}
