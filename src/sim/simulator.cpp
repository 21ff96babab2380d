#include "sim/simulator.hpp"

#include "core/error.hpp"
#include "graphql/parser.hpp"
#include "sim/executor.hpp"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

namespace onboard::sim {

namespace {

std::string random_hex(std::size_t bytes) {
    std::random_device device;
    std::string out;
    static constexpr char k_hex[] = "0123456789abcdef";
    for (std::size_t i = 0; i < bytes; ++i) {
        const unsigned value = device() & 0xff;
        out += k_hex[value >> 4];
        out += k_hex[value & 15];
    }
    return out;
}

Reply json_reply(int status, std::string body) {
    Reply reply;
    reply.status = status;
    reply.body = std::move(body);
    return reply;
}

// A GraphQL-shaped error body with one message and no locations.
Reply graphql_error_reply(int status, std::string_view message) {
    std::string body = R"({"errors":[{"message":)";
    core::append_json_string(body, message);
    body += "}]}";
    return json_reply(status, std::move(body));
}

Reply auth_error_reply(int status, std::string_view error, std::string_view message) {
    core::Json body = core::Json::object();
    body.set("error", std::string(error));
    body.set("message", std::string(message));
    return json_reply(status, body.dump());
}

bool is_uuid(std::string_view text) {
    if (text.size() != 36) {
        return false;
    }
    for (std::size_t i = 0; i < text.size(); ++i) {
        const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? text[i] != '-' : !std::isxdigit(static_cast<unsigned char>(text[i]))) {
            return false;
        }
    }
    return true;
}

// The token of an "Authorization: Bearer <token>" header, or "" when there is none.
std::string_view bearer_token(std::string_view header) {
    constexpr std::string_view k_scheme = "bearer ";
    if (header.size() <= k_scheme.size()) {
        return {};
    }
    for (std::size_t i = 0; i < k_scheme.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(header[i])) != k_scheme[i]) {
            return {};
        }
    }
    std::string_view token = header.substr(k_scheme.size());
    while (!token.empty() && token.front() == ' ') {
        token.remove_prefix(1);
    }
    return token;
}

// Whether the request's GraphQL document runs a mutation (its operation, or its only one).
bool is_mutation(std::string_view body) {
    try {
        const core::Json request = core::Json::parse(body);
        const core::Json* query = request.find("query");
        if (query == nullptr || !query->is_string()) {
            return false;
        }
        const graphql::Document document = graphql::parse(query->as_string());
        for (const auto& operation : document.operations) {
            if (operation.kind == graphql::Operation::Kind::mutation) {
                return true;
            }
        }
    } catch (const Error&) {
        // Not a document: the normal path answers it.
    }
    return false;
}

} // namespace

Simulator::Simulator(SimulatorOptions options)
    : m_options(std::move(options)),
      m_directory(m_options.faults.seed, m_options.duplicate_errors_on_all),
      m_tokens(random_hex(32), m_options.token_ttl_seconds),
      m_faults(m_options.faults),
      m_refresh_tokens(m_options.refresh_tokens.begin(), m_options.refresh_tokens.end()) {}

std::int64_t Simulator::now_ms() const {
    if (m_options.clock_ms) {
        return m_options.clock_ms();
    }
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

Reply Simulator::handle(std::string_view method, std::string_view path, std::string_view body,
                        std::string_view authorization) {
    if (path.rfind("/_sim/", 0) == 0) {
        return inspect(method, path);
    }
    if (path != "/auth/refresh" && path != "/api") {
        return graphql_error_reply(404, "Not found: " + std::string(path));
    }
    if (method != "POST") {
        return graphql_error_reply(405, "Method not allowed: use POST");
    }
    ++m_counters.requests;
    const std::uint64_t n = m_request_number.fetch_add(1);
    if (!m_faults.admit(now_ms())) {
        ++m_counters.rate_limited;
        Reply reply = graphql_error_reply(429, "Too many requests");
        reply.headers.emplace_back("Retry-After", "1");
        return reply;
    }
    if (m_faults.hits(Fault::failure, n)) {
        ++m_counters.injected_failures;
        Reply reply;
        reply.status = m_faults.failure_status(n);
        reply.body = proxy_error_page(reply.status);
        reply.content_type = "text/html";
        reply.delay_ms = m_faults.delay_ms(n);
        return reply;
    }
    Reply reply = path == "/api" ? api(body, authorization, n, true) : refresh(body);
    reply.delay_ms += m_faults.delay_ms(n);
    return reply;
}

Reply Simulator::refresh(std::string_view body) {
    core::Json request;
    try {
        request = core::Json::parse(body);
    } catch (const Error&) {
        ++m_counters.bad_requests;
        return auth_error_reply(400, "invalid_request", "body is not valid JSON");
    }
    const core::Json* token = request.find("refresh_token");
    const core::Json* tenant = request.find("tenant_id");
    if (token == nullptr || !token->is_string() || token->as_string().empty()) {
        ++m_counters.bad_requests;
        return auth_error_reply(400, "invalid_request", "refresh_token is required");
    }
    if (tenant != nullptr && !tenant->is_null() && !(tenant->is_string() && is_uuid(tenant->as_string()))) {
        ++m_counters.bad_requests;
        return auth_error_reply(400, "invalid_request", "tenant_id must be a UUID");
    }
    std::string rotated;
    {
        const std::lock_guard lock(m_refresh_mutex);
        const auto it = m_refresh_tokens.find(token->as_string());
        if (it == m_refresh_tokens.end()) {
            ++m_counters.unauthorized;
            return auth_error_reply(401, "invalid_grant", "Unknown or expired refresh token");
        }
        if (m_options.rotate_refresh_tokens) {
            m_refresh_tokens.erase(it);
            rotated = "sim-rt-" + std::to_string(++m_rotations) + "-" + random_hex(12);
            m_refresh_tokens.insert(rotated);
        }
    }
    ++m_counters.refreshes;
    core::Json answer = core::Json::object();
    answer.set("access_token", m_tokens.issue(now_ms() / 1000, tenant != nullptr && tenant->is_string()
                                                                      ? tenant->as_string()
                                                                      : std::string()));
    if (!rotated.empty()) {
        answer.set("refresh_token", rotated);
    }
    return json_reply(200, answer.dump());
}

Reply Simulator::graphql(std::string_view body, std::string_view authorization) {
    return api(body, authorization, 0, false);
}

Reply Simulator::api(std::string_view body, std::string_view authorization, std::uint64_t n, bool inject) {
    ++m_counters.graphql_requests;
    const std::string_view token = bearer_token(authorization);
    if (token.empty() || m_options.refuse_access_tokens ||
        m_tokens.verify(token, now_ms() / 1000) != TokenIssuer::Verdict::valid) {
        ++m_counters.unauthorized;
        return graphql_error_reply(401, "Unauthorized");
    }
    if (m_options.forbid_mutations && is_mutation(body)) {
        ++m_counters.forbidden;
        return graphql_error_reply(403, "Forbidden: you do not have permission to perform this action");
    }
    core::Json request;
    try {
        request = core::Json::parse(body);
    } catch (const Error&) {
        ++m_counters.bad_requests;
        return graphql_error_reply(400, "POST body sent invalid JSON.");
    }
    const core::Json* query = request.find("query");
    if (query == nullptr || !query->is_string()) {
        ++m_counters.bad_requests;
        return graphql_error_reply(400, "Must provide query string.");
    }
    core::Json variables = core::Json::object();
    if (const core::Json* given = request.find("variables"); given != nullptr && !given->is_null()) {
        try {
            variables = given->is_string() ? core::Json::parse(given->as_string()) : *given;
        } catch (const Error&) {
            variables = core::Json(nullptr);
        }
        if (!variables.is_object()) {
            ++m_counters.bad_requests;
            return graphql_error_reply(400, "Variables are invalid JSON.");
        }
    }
    const core::Json* operation = request.find("operationName");
    const std::string operation_name =
        operation != nullptr && operation->is_string() ? operation->as_string() : std::string();
    if (inject && m_faults.hits(Fault::graphql_error, n)) {
        ++m_counters.injected_graphql_errors;
        return json_reply(200, R"j({"errors":[{"message":"Internal server error (injected)"}],"data":null})j");
    }
    const GraphqlOutcome outcome = execute_graphql(query->as_string(), variables, operation_name, m_directory, m_documents);
    m_counters.creates += outcome.creates;
    m_counters.duplicates_rejected += outcome.duplicates;
    ++(outcome.request_error ? m_counters.document_errors
                             : outcome.mutation ? m_counters.mutations : m_counters.queries);
    int status = 200;
    if (outcome.request_error) {
        status = m_options.document_errors_status;
    } else if (outcome.payload_errors > 0) {
        status = m_options.mutation_errors_status;
    }
    Reply reply = json_reply(status, outcome.body);
    if (inject && m_faults.hits(Fault::drop, n)) {
        ++m_counters.injected_drops;
        reply.action = Reply::Action::drop;
    } else if (inject && m_faults.hits(Fault::slow, n)) {
        ++m_counters.injected_slow;
        reply.delay_ms += m_options.faults.slow_ms;
    }
    return reply;
}

Reply Simulator::inspect(std::string_view method, std::string_view path) {
    if (path == "/_sim/customers" && method == "GET") {
        return json_reply(200, customers().dump());
    }
    if (path == "/_sim/stats" && method == "GET") {
        return json_reply(200, stats().dump());
    }
    if (path == "/_sim/reset" && method == "POST") {
        reset();
        return json_reply(200, R"({"reset":true})");
    }
    if (path == "/_sim/revoke-tokens" && method == "POST") {
        m_tokens.revoke_all();
        return json_reply(200, R"({"revoked":true})");
    }
    return graphql_error_reply(404, "Not found: " + std::string(method) + " " + std::string(path));
}

core::Json Simulator::stats() const {
    core::Json out = core::Json::object();
    const Counters& c = m_counters;
    const std::pair<const char*, const std::atomic<std::int64_t>*> fields[] = {
        {"requests", &c.requests},
        {"refreshes", &c.refreshes},
        {"graphql_requests", &c.graphql_requests},
        {"queries", &c.queries},
        {"mutations", &c.mutations},
        {"creates", &c.creates},
        {"duplicates_rejected", &c.duplicates_rejected},
        {"document_errors", &c.document_errors},
        {"bad_requests", &c.bad_requests},
        {"unauthorized", &c.unauthorized},
        {"rate_limited", &c.rate_limited},
        {"injected_failures", &c.injected_failures},
        {"injected_drops", &c.injected_drops},
        {"injected_graphql_errors", &c.injected_graphql_errors},
        {"injected_slow", &c.injected_slow},
        {"forbidden", &c.forbidden}};
    for (const auto& [name, counter] : fields) {
        out.set(name, counter->load());
    }
    out.set("customers", static_cast<std::int64_t>(m_directory.size()));
    return out;
}

core::Json Simulator::customers() const {
    core::Json out = core::Json::array();
    for (const Customer& customer : m_directory.all()) {
        out.push_back(to_json(customer));
    }
    return out;
}

void Simulator::reset() {
    m_directory.clear();
    m_faults.reset();
    m_request_number = 0;
    for (std::atomic<std::int64_t>* counter :
         {&m_counters.requests, &m_counters.refreshes, &m_counters.graphql_requests, &m_counters.queries,
          &m_counters.mutations, &m_counters.creates, &m_counters.duplicates_rejected, &m_counters.document_errors,
          &m_counters.bad_requests, &m_counters.unauthorized, &m_counters.rate_limited,
          &m_counters.injected_failures, &m_counters.injected_drops, &m_counters.injected_graphql_errors,
          &m_counters.injected_slow, &m_counters.forbidden}) {
        *counter = 0;
    }
    const std::lock_guard lock(m_refresh_mutex);
    m_refresh_tokens = std::set<std::string>(m_options.refresh_tokens.begin(), m_options.refresh_tokens.end());
}

void Simulator::load_state(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return;
    }
    std::ostringstream text;
    text << in.rdbuf();
    m_directory.load(core::Json::parse(text.str(), path), path);
}

void Simulator::save_state(const std::string& path) const {
    const std::string temporary = path + ".tmp";
    {
        std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
        out << customers().dump() << '\n';
        if (!out.flush()) {
            throw InputError(path, 0, "cannot write the state file");
        }
    }
    if (std::rename(temporary.c_str(), path.c_str()) != 0) {
        throw InputError(path, 0, std::string("cannot replace the state file: ") + std::strerror(errno));
    }
}

} // namespace onboard::sim
