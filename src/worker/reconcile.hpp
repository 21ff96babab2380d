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
    std::string error_class; // when failed: network, auth, rate_limited, server or graphql (README "Failure classes")
};

// Builds the `customers(externalId:)` query (or by name when the row has no externalId) that
// tells whether an earlier create of this row reached Prismatic. `create_request` supplies the
// endpoint and the Authorization header.
http::Request build_lookup(const http::Request& create_request, const core::Json& row_inputs);

// Seconds a server's clock may run behind ours when its createdAt is compared with our first send.
inline constexpr double k_clock_skew_seconds = 5;

// Reads the lookup's answer: found only when a customer matches the row's name and externalId. A
// row without externalId is matched by name alone, which someone else's customer may share: then
// the customer must have no externalId either and, when `first_sent_at` (unix seconds of the row's
// first create) is known, a createdAt no earlier than that, else it is a conflict, never ours.
LookupResult read_lookup(const http::Response& response, const core::Json& row_inputs,
                         std::optional<double> first_sent_at = std::nullopt);

// Unix seconds of an ISO 8601 date-time ("2026-12-04T05:57:27.257Z", "...+00:00", "...251849+01:00");
// nullopt when it is not one.
std::optional<double> parse_iso8601(std::string_view text);

// The `exp` claim of a JWT, in unix seconds; nullopt when the token is not a readable JWT.
std::optional<double> jwt_expiry(const std::string& token);

} // namespace onboard::worker
