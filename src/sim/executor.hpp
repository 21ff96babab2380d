#pragma once

#include "core/json.hpp"
#include "graphql/parser.hpp"
#include "sim/customers.hpp"
#include "sim/schema.hpp"

#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
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

// A document parsed and checked for one operation name: the operation to run, or the request error
// answer (syntax, unknown operation, validation) that any request with this text gets.
struct PreparedDocument {
    graphql::Document document;
    std::size_t operation = 0;  // index into document.operations; meaningful when error_body is empty
    std::string error_body;
};

// Prepared documents by (operation name, query text): clients send one document many times with new
// variables, and parsing and validating it each time would cost more than running it. Bounded (in count,
// and documents over 64 KiB are not kept); thread-safe.
class DocumentCache {
public:
    // The prepared form of `query` for `operation_name`, from the cache or made now; never throws.
    std::shared_ptr<const PreparedDocument> prepare(std::string_view query, const std::string& operation_name);

private:
    std::shared_mutex m_mutex;
    std::unordered_map<std::string, std::shared_ptr<const PreparedDocument>> m_documents;
};

// Parses, validates and runs `query` against `directory` (mutation fields in order); never throws.
GraphqlOutcome execute_graphql(std::string_view query, const core::Json& variables,
                               const std::string& operation_name, Directory& directory, DocumentCache& documents);

} // namespace onboard::sim
