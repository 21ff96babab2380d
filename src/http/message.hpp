#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace onboard::http {

using Headers = std::vector<std::pair<std::string, std::string>>;

// An HTTP request as the workflow runner builds it.
struct Request {
    std::string method = "POST";
    std::string url;
    Headers headers;
    std::string body;
};

// How an exchange ended when no complete response arrived.
enum class Failure {
    none,           // a response arrived (any status)
    connect,        // never connected: the request surely did not reach the server
    timeout,        // timed out after sending: it may have been processed
    connection_lost // reset/closed after sending: it may have been processed
};

// An HTTP response, or the reason none arrived.
struct Response {
    int status = 0;
    Headers headers;  // names lower-cased
    std::string body;
    Failure failure = Failure::none;
    std::string failure_message; // libcurl's words when failure != none
    double duration_ms = 0;

    // The first header named `name` (case-insensitive), if any.
    std::optional<std::string_view> header(std::string_view name) const;
    // Whether the request may have reached the server although no response came.
    bool outcome_unknown() const { return failure == Failure::timeout || failure == Failure::connection_lost; }
};

} // namespace onboard::http
