#include "worker/reconcile.hpp"

#include "core/error.hpp"

#include <cctype>
#include <cstdio>
#include <ctime>

namespace onboard::worker {

namespace {

constexpr std::string_view k_lookup_query =
    "query reconcileCustomer($externalId: String, $name: String) {\n"
    "  customers(externalId: $externalId, name: $name, first: 2) {\n"
    "    nodes { id name externalId createdAt }\n"
    "    totalCount\n"
    "  }\n"
    "}";

std::string input_string(const core::Json& inputs, std::string_view name) {
    const core::Json* value = inputs.find(name);
    return value != nullptr && value->is_string() ? value->as_string() : std::string();
}

std::string base64url_decode(std::string_view text) {
    std::string out;
    unsigned buffer = 0;
    int bits = 0;
    for (const char c : text) {
        int value = -1;
        if (c >= 'A' && c <= 'Z') value = c - 'A';
        else if (c >= 'a' && c <= 'z') value = c - 'a' + 26;
        else if (c >= '0' && c <= '9') value = c - '0' + 52;
        else if (c == '-' || c == '+') value = 62;
        else if (c == '_' || c == '/') value = 63;
        else if (c == '=') break;
        else return {};
        buffer = (buffer << 6) | static_cast<unsigned>(value);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((buffer >> bits) & 0xFF);
        }
    }
    return out;
}

// Whether `node` may be the customer our first send created: not when it was created before it.
bool created_after(const core::Json& node, std::optional<double> first_sent_at) {
    const core::Json* created = node.find("createdAt");
    if (!first_sent_at || created == nullptr || !created->is_string()) {
        return true; // nothing to compare: the name match stands
    }
    const auto at = parse_iso8601(created->as_string());
    return !at || *at >= *first_sent_at - k_clock_skew_seconds;
}

} // namespace

http::Request build_lookup(const http::Request& create_request, const core::Json& row_inputs) {
    http::Request request;
    request.method = "POST";
    request.url = create_request.url;
    for (const auto& header : create_request.headers) {
        request.headers.push_back(header);
    }
    core::Json variables = core::Json::object();
    const std::string external_id = input_string(row_inputs, "externalId");
    // externalId is the sharper key; a name alone is the fallback (names are unique too).
    if (!external_id.empty()) {
        variables.set("externalId", external_id);
    } else {
        variables.set("name", input_string(row_inputs, "name"));
    }
    core::Json body = core::Json::object();
    body.set("query", std::string(k_lookup_query));
    body.set("variables", std::move(variables));
    body.set("operationName", "reconcileCustomer");
    request.body = body.dump();
    return request;
}

std::optional<double> parse_iso8601(std::string_view text) {
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, consumed = 0;
    const std::string copy(text);
    if (std::sscanf(copy.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &year, &month, &day, &hour, &minute, &second,
                    &consumed) != 6) {
        return std::nullopt;
    }
    std::tm utc{};
    utc.tm_year = year - 1900;
    utc.tm_mon = month - 1;
    utc.tm_mday = day;
    utc.tm_hour = hour;
    utc.tm_min = minute;
    utc.tm_sec = second;
    double seconds = static_cast<double>(timegm(&utc));
    std::string_view rest = std::string_view(text).substr(static_cast<std::size_t>(consumed));
    if (!rest.empty() && rest.front() == '.') {
        std::size_t digits = 1;
        double scale = 0.1;
        for (; digits < rest.size() && std::isdigit(static_cast<unsigned char>(rest[digits])); ++digits) {
            seconds += (rest[digits] - '0') * scale;
            scale /= 10;
        }
        rest.remove_prefix(digits);
    }
    if (rest == "Z" || rest.empty()) {
        return seconds;
    }
    int offset_hours = 0, offset_minutes = 0;
    if ((rest.front() == '+' || rest.front() == '-') &&
        std::sscanf(std::string(rest.substr(1)).c_str(), "%2d:%2d", &offset_hours, &offset_minutes) == 2) {
        const double offset = offset_hours * 3600.0 + offset_minutes * 60.0;
        return rest.front() == '+' ? seconds - offset : seconds + offset;
    }
    return std::nullopt;
}

LookupResult read_lookup(const http::Response& response, const core::Json& row_inputs,
                         std::optional<double> first_sent_at) {
    LookupResult result;
    result.error_class = "graphql"; // an answer that says nothing usable, unless told otherwise below
    if (response.failure != http::Failure::none) {
        result.message = "lookup failed: " + response.failure_message;
        result.error_class = "network";
        return result;
    }
    if (response.status != 200) {
        result.message = "lookup answered HTTP " + std::to_string(response.status);
        result.error_class = response.status == 401 || response.status == 403 ? "auth"
                             : response.status == 429                         ? "rate_limited"
                             : response.status >= 500                         ? "server"
                                                                              : "graphql";
        return result;
    }
    core::Json body;
    try {
        body = core::Json::parse(response.body, "lookup response");
    } catch (const InputError&) {
        result.message = "lookup answered a body that is not JSON";
        return result;
    }
    const core::Json* nodes = body.at_pointer("/data/customers/nodes");
    if (nodes == nullptr || !nodes->is_array()) {
        const core::Json* message = body.at_pointer("/errors/0/message");
        result.message = "lookup failed: " + (message != nullptr && message->is_string() ? message->as_string()
                                                                                      : std::string("no data"));
        return result;
    }
    const std::string name = input_string(row_inputs, "name");
    const std::string external_id = input_string(row_inputs, "externalId");
    for (const core::Json& node : nodes->items()) {
        const core::Json* id = node.find("id");
        const core::Json* node_name = node.find("name");
        const core::Json* node_external = node.find("externalId");
        const bool name_matches = node_name != nullptr && node_name->is_string() && node_name->as_string() == name;
        const bool node_has_external =
            node_external != nullptr && node_external->is_string() && !node_external->as_string().empty();
        const bool external_matches =
            external_id.empty() ? !node_has_external : node_has_external && node_external->as_string() == external_id;
        if (id != nullptr && id->is_string() && name_matches && external_matches &&
            (!external_id.empty() || created_after(node, first_sent_at))) {
            result.kind = LookupResult::Kind::found;
            result.customer_id = id->as_string();
            result.customer = node;
            return result;
        }
    }
    result.kind = nodes->items().empty() ? LookupResult::Kind::not_found : LookupResult::Kind::conflict;
    if (result.kind == LookupResult::Kind::conflict) {
        result.message = external_id.empty()
                             ? "a customer with this name exists with an externalId, or from before this row was "
                               "first sent: someone else's"
                             : "a customer with this externalId exists with other values";
    }
    return result;
}

std::optional<double> jwt_expiry(const std::string& token) {
    const auto first = token.find('.');
    const auto second = first == std::string::npos ? std::string::npos : token.find('.', first + 1);
    if (second == std::string::npos) {
        return std::nullopt;
    }
    const std::string payload = base64url_decode(std::string_view(token).substr(first + 1, second - first - 1));
    try {
        const core::Json claims = core::Json::parse(payload, "token");
        const core::Json* exp = claims.find("exp");
        if (exp != nullptr && exp->is_number()) {
            return exp->as_double();
        }
    } catch (const InputError&) {
    }
    return std::nullopt;
}

} // namespace onboard::worker
