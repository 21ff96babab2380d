#pragma once

#include "core/json.hpp"
#include "http/message.hpp"

#include <optional>
#include <string>

namespace onboard::worker {

// What a lookup of a possibly-created customer found.
struct LookupResult {
    // conflict: a customer holds the key but not this row's values (someone else's customer).
    enum class Kind { found, not_found, conflict, failed } kind = Kind::failed;
    std::string customer_id;
    core::Json customer;   // {id, name, externalId} when found
    std::string message;   // why it failed
};

// Builds the `customers(externalId:)` query (or by name when the row has no externalId) that
// tells whether an earlier create of this row reached Prismatic. `create_request` supplies the
// endpoint and the Authorization header.
http::Request build_lookup(const http::Request& create_request, const core::Json& row_inputs);

// Reads the lookup's answer: found only when a customer matches the row's name and externalId.
LookupResult read_lookup(const http::Response& response, const core::Json& row_inputs);

// The `exp` claim of a JWT, in unix seconds; nullopt when the token is not a readable JWT.
std::optional<double> jwt_expiry(const std::string& token);

} // namespace onboard::worker
