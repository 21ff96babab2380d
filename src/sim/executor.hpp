#pragma once

#include "core/json.hpp"
#include "graphql/parser.hpp"
#include "sim/customers.hpp"
#include "sim/schema.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace onboard::sim {

// What one GraphQL request did, and its JSON response body.
struct GraphqlOutcome {
    std::string body;
    bool request_error = false; // syntax, validation or variable errors: nothing executed, data null
    bool mutation = false;
    int creates = 0;
    int duplicates = 0;
    int payload_errors = 0;     // createCustomer payloads that came back with errors
};

// Coerces the request's `provided` variables to the operation's declared types into `coerced`;
// returns the errors (missing required variables, wrong types) instead of throwing.
std::vector<GraphqlError> coerce_variables(const graphql::Operation& operation, const core::Json& provided,
                                           core::Json& coerced);

// Parses, validates and runs `query` against `directory` (mutation fields in order); never throws.
GraphqlOutcome execute_graphql(std::string_view query, const core::Json& variables,
                               const std::string& operation_name, Directory& directory);

} // namespace onboard::sim
