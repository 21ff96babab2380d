#include "core/json.hpp"
#include "sim/customers.hpp"
#include "sim/executor.hpp"
#include "sim/server.hpp"
#include "sim/simulator.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <ctime>
#include <future>
#include <httplib.h>
#include <latch>
#include <set>
#include <string>
#include <thread>
#include <vector>

using onboard::core::Json;
using onboard::sim::SimulatorOptions;

namespace {

constexpr const char* k_create =
    "mutation($name: String!, $externalId: String) { createCustomer(input: {name: $name, "
    "externalId: "
    "$externalId}) { customer { id name externalId } errors { field messages } } }";
constexpr const char* k_unauthorized = R"({"errors":[{"message":"Unauthorized"}]})";

// A Simulator served over HTTP on 127.0.0.1 with an ephemeral port, stopped when it goes out of
// scope.
class Running {
public:
    explicit Running(SimulatorOptions options = {})
        : m_simulator(std::move(options)), m_server(m_simulator, {"127.0.0.1", 0, 32}) {
        m_port = m_server.bind();
        m_thread = std::thread([this] { m_server.run(); });
        while (!m_server.is_running()) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    }
    ~Running() {
        m_server.stop();
        m_thread.join();
    }
    Running(const Running&) = delete;
    Running& operator=(const Running&) = delete;

    onboard::sim::Simulator& simulator() { return m_simulator; }
    int port() const { return m_port; }
    httplib::Client client(double timeout_seconds = 5) const {
        httplib::Client client("127.0.0.1", m_port);
        const auto micros = static_cast<long>(timeout_seconds * 1e6);
        client.set_read_timeout(micros / 1000000, micros % 1000000);
        return client;
    }
    std::int64_t stat(std::string_view name) const {
        return m_simulator.stats().find(name)->as_int();
    }

private:
    onboard::sim::Simulator m_simulator;
    onboard::sim::Server m_server;
    int m_port = 0;
    std::thread m_thread;
};

// An HTTP answer with its body parsed when it is JSON.
struct Answer {
    int status = 0;
    std::string body;
    Json json;
    std::string content_type;
    std::string retry_after;
};

Answer answer_of(const httplib::Result& result) {
    REQUIRE(result);
    Answer answer{result->status, result->body, Json(nullptr),
                  result->get_header_value("Content-Type"),
                  result->get_header_value("Retry-After")};
    if (answer.content_type == "application/json") {
        answer.json = Json::parse(answer.body);
    }
    return answer;
}

Answer post(httplib::Client& client, const std::string& path, const std::string& body,
            const std::string& authorization = "") {
    httplib::Headers headers;
    if (!authorization.empty()) {
        headers.emplace("Authorization", authorization);
    }
    return answer_of(client.Post(path.c_str(), headers, body, "application/json"));
}

Answer get(httplib::Client& client, const std::string& path) {
    return answer_of(client.Get(path.c_str()));
}

std::string refresh_body(std::string_view refresh_token) {
    std::string body = R"({"refresh_token":)";
    onboard::core::append_json_string(body, refresh_token);
    return body + "}";
}

std::string access_token(httplib::Client& client) {
    const Answer answer = post(client, "/auth/refresh", refresh_body("sim-refresh-token"));
    REQUIRE(answer.status == 200);
    return answer.json.find("access_token")->as_string();
}

std::string graphql_body(std::string_view query, const Json& variables = Json::object()) {
    Json body = Json::object();
    body.set("query", query);
    body.set("variables", variables);
    return body.dump();
}

Answer graphql(httplib::Client& client, const std::string& token, std::string_view query,
               const Json& variables = Json::object()) {
    return post(client, "/api", graphql_body(query, variables), "Bearer " + token);
}

Json name_vars(std::string name, std::optional<std::string> external_id = std::nullopt) {
    Json vars = Json::object();
    vars.set("name", std::move(name));
    if (external_id) {
        vars.set("externalId", *external_id);
    }
    return vars;
}

Answer create(httplib::Client& client, const std::string& token, std::string name,
              std::optional<std::string> external_id = std::nullopt) {
    return graphql(client, token, k_create, name_vars(std::move(name), std::move(external_id)));
}

// The decoded JSON payload of a JWT.
Json jwt_payload(const std::string& token) {
    const auto first = token.find('.');
    const auto last = token.rfind('.');
    REQUIRE(first != last);
    const auto text = onboard::sim::base64_decode(token.substr(first + 1, last - first - 1));
    REQUIRE(text);
    return Json::parse(*text);
}

const Json& at(const Json& json, std::string_view pointer) {
    const Json* value = json.at_pointer(pointer);
    INFO("missing " << pointer << " in " << json.dump());
    REQUIRE(value != nullptr);
    return *value;
}

// A GraphQL request error: data null and one error with this message at line:column.
void check_request_error(const Answer& answer, const std::string& message, int line, int column) {
    INFO(answer.body);
    CHECK(answer.status == 200);
    CHECK(at(answer.json, "/data").is_null());
    REQUIRE(at(answer.json, "/errors").size() == 1);
    CHECK(at(answer.json, "/errors/0/message").as_string() == message);
    CHECK(at(answer.json, "/errors/0/locations/0/line").as_int() == line);
    CHECK(at(answer.json, "/errors/0/locations/0/column").as_int() == column);
}

} // namespace

TEST_CASE("a refresh answers a JWT that expires after the token ttl", "[sim]") {
    SimulatorOptions options;
    options.token_ttl_seconds = 600;
    options.clock_ms = [] { return std::int64_t{1'700'000'000'000}; };
    Running sim(options);
    auto client = sim.client();
    const Answer answer = post(
        client, "/auth/refresh",
        R"({"refresh_token":"sim-refresh-token","tenant_id":"0b6f1f7e-8d3c-4e63-9b1a-2f4f5e6d7c8b"})");
    REQUIRE(answer.status == 200);
    CHECK(answer.content_type == "application/json");
    CHECK(answer.json.find("refresh_token") == nullptr);
    const Json payload = jwt_payload(answer.json.find("access_token")->as_string());
    CHECK(payload.find("iat")->as_int() == 1'700'000'000);
    CHECK(payload.find("exp")->as_int() == 1'700'000'600);
    CHECK(payload.find("tenant_id")->as_string() == "0b6f1f7e-8d3c-4e63-9b1a-2f4f5e6d7c8b");
    CHECK(sim.stat("refreshes") == 1);
}

TEST_CASE("an unknown refresh token is 401 and a malformed refresh body is 400", "[sim]") {
    Running sim;
    auto client = sim.client();
    Answer answer = post(client, "/auth/refresh", refresh_body("nope"));
    CHECK(answer.status == 401);
    CHECK(answer.body ==
          R"({"error":"invalid_grant","message":"Unknown or expired refresh token"})");
    answer = post(client, "/auth/refresh", "{not json");
    CHECK(answer.status == 400);
    CHECK(answer.body == R"({"error":"invalid_request","message":"body is not valid JSON"})");
    answer = post(client, "/auth/refresh", R"({"tenant_id":null})");
    CHECK(answer.status == 400);
    CHECK(answer.body == R"({"error":"invalid_request","message":"refresh_token is required"})");
    answer = post(client, "/auth/refresh",
                  R"({"refresh_token":"sim-refresh-token","tenant_id":"acme"})");
    CHECK(answer.status == 400);
    CHECK(answer.body == R"({"error":"invalid_request","message":"tenant_id must be a UUID"})");
    CHECK(sim.stat("unauthorized") == 1);
    CHECK(sim.stat("bad_requests") == 3);
    CHECK(sim.stat("refreshes") == 0);
}

TEST_CASE("accepted refresh tokens are the configured ones", "[sim]") {
    SimulatorOptions options;
    options.refresh_tokens = {"first", "second"};
    Running sim(options);
    auto client = sim.client();
    CHECK(post(client, "/auth/refresh", refresh_body("first")).status == 200);
    CHECK(post(client, "/auth/refresh", refresh_body("second")).status == 200);
    CHECK(post(client, "/auth/refresh", refresh_body("sim-refresh-token")).status == 401);
}

TEST_CASE("with rotation a refresh returns a new refresh token and the used one stops working",
          "[sim]") {
    SimulatorOptions options;
    options.rotate_refresh_tokens = true;
    Running sim(options);
    auto client = sim.client();
    const Answer first = post(client, "/auth/refresh", refresh_body("sim-refresh-token"));
    REQUIRE(first.status == 200);
    const std::string rotated = first.json.find("refresh_token")->as_string();
    CHECK(rotated != "sim-refresh-token");
    CHECK(post(client, "/auth/refresh", refresh_body("sim-refresh-token")).status == 401);
    const Answer second = post(client, "/auth/refresh", refresh_body(rotated));
    REQUIRE(second.status == 200);
    CHECK(second.json.find("refresh_token")->as_string() != rotated);
    CHECK(post(client, "/auth/refresh", refresh_body(rotated)).status == 401);
    // A reset brings back the configured token.
    CHECK(post(client, "/_sim/reset", "").status == 200);
    CHECK(post(client, "/auth/refresh", refresh_body("sim-refresh-token")).status == 200);
}

TEST_CASE("the api refuses missing, malformed, unknown and expired access tokens", "[sim]") {
    std::atomic<std::int64_t> now_ms{1'700'000'000'000};
    SimulatorOptions options;
    options.token_ttl_seconds = 60;
    options.clock_ms = [&now_ms] { return now_ms.load(); };
    Running sim(options);
    auto client = sim.client();
    const std::string token = access_token(client);
    const std::string query = graphql_body("{ customers { totalCount } }");
    Running other;
    auto other_client = other.client();
    const std::string foreign = access_token(other_client);
    for (const std::string& authorization :
         {std::string(), std::string("Bearer "), std::string("Basic dXNlcjpwYXNz"),
          std::string("Bearer not-a-jwt"), std::string("Bearer a.b.c"), "Bearer " + foreign,
          "Bearer " + token + "x"}) {
        INFO("Authorization: " << authorization);
        const Answer answer = post(client, "/api", query, authorization);
        CHECK(answer.status == 401);
        CHECK(answer.body == k_unauthorized);
    }
    CHECK(post(client, "/api", query, "bearer " + token).status == 200);
    now_ms += 59'999;
    CHECK(post(client, "/api", query, "Bearer " + token).status == 200);
    now_ms += 1;
    const Answer expired = post(client, "/api", query, "Bearer " + token);
    CHECK(expired.status == 401);
    CHECK(expired.body == k_unauthorized);
    CHECK(sim.stat("unauthorized") == 8);
}

TEST_CASE("revoking tokens refuses every access token issued so far, not later ones", "[sim]") {
    Running sim;
    auto client = sim.client();
    const std::string before = access_token(client);
    CHECK(create(client, before, "Before Revoke").status == 200);
    const Answer revoked = post(client, "/_sim/revoke-tokens", "");
    CHECK(revoked.status == 200);
    CHECK(revoked.body == R"({"revoked":true})");
    const Answer refused = create(client, before, "After Revoke");
    CHECK(refused.status == 401);
    CHECK(refused.body == k_unauthorized);
    const std::string after = access_token(client);
    CHECK(create(client, after, "After Revoke").status == 200);
    CHECK(sim.stat("customers") == 2);
}

TEST_CASE("with forbid_mutations every mutation is 403 and nothing is created; queries still work", "[sim]") {
    SimulatorOptions options;
    options.forbid_mutations = true;
    Running sim(options);
    auto client = sim.client();
    const std::string token = access_token(client);
    const Answer forbidden = create(client, token, "Not Allowed");
    CHECK(forbidden.status == 403);
    CHECK(forbidden.body == R"({"errors":[{"message":"Forbidden: you do not have permission to perform this action"}]})");
    CHECK(graphql(client, token, "{ customers { totalCount } }").status == 200);
    CHECK(sim.stat("customers") == 0);
    CHECK(sim.stat("forbidden") == 1);
}

TEST_CASE("with refuse_access_tokens a fresh token is refused too", "[sim]") {
    SimulatorOptions options;
    options.refuse_access_tokens = true;
    Running sim(options);
    auto client = sim.client();
    const Answer refused = create(client, access_token(client), "Never");
    CHECK(refused.status == 401);
    CHECK(refused.body == k_unauthorized);
    CHECK(sim.stat("refreshes") == 1);
    CHECK(sim.stat("customers") == 0);
}

TEST_CASE("a request body that is not a GraphQL request is 400", "[sim]") {
    Running sim;
    auto client = sim.client();
    const std::string bearer = "Bearer " + access_token(client);
    CHECK(post(client, "/api", "{", bearer).body ==
          R"({"errors":[{"message":"POST body sent invalid JSON."}]})");
    const Answer no_query = post(client, "/api", R"({"variables":{}})", bearer);
    CHECK(no_query.status == 400);
    CHECK(no_query.body == R"({"errors":[{"message":"Must provide query string."}]})");
    const Answer bad_variables =
        post(client, "/api", R"({"query":"{ __typename }","variables":[1]})", bearer);
    CHECK(bad_variables.status == 400);
    CHECK(bad_variables.body == R"({"errors":[{"message":"Variables are invalid JSON."}]})");
    // Variables may come as a JSON string, as some clients send them.
    const Answer string_variables = post(
        client, "/api",
        R"({"query":"query($n: String) { customers(name: $n) { totalCount } }","variables":"{\"n\":\"x\"}"})",
        bearer);
    CHECK(string_variables.body == R"({"data":{"customers":{"totalCount":0}}})");
}

TEST_CASE("syntax errors, unknown fields and arguments and missing variables are request errors",
          "[sim]") {
    Running sim;
    auto client = sim.client();
    const std::string token = access_token(client);
    check_request_error(graphql(client, token, "{ customers { totalCount }"),
                        "Syntax Error: Expected Name, found <EOF>.", 1, 27);
    check_request_error(graphql(client, token, "query {\n  customers { nodes { nope } }\n}"),
                        "Cannot query field \"nope\" on type \"Customer\".", 2, 23);
    check_request_error(graphql(client, token, "{ customers(region: \"eu\") { totalCount } }"),
                        "Unknown argument \"region\" on field \"Query.customers\".", 1, 13);
    check_request_error(graphql(client, token, k_create),
                        "Variable \"$name\" of required type \"String!\" was not provided.", 1, 10);
    check_request_error(
        graphql(client, token, "mutation { createCustomer { errors { field } } }"),
        "Field \"createCustomer\" argument \"input\" of type \"CreateCustomerInput!\" is required, "
        "but it was not provided.",
        1, 12);
    CHECK(sim.stat("document_errors") == 5);
    CHECK(sim.stat("customers") == 0);
}

TEST_CASE("one document sent many times is judged anew by operation name and variables", "[sim]") {
    Running sim;
    auto client = sim.client();
    const std::string token = access_token(client);
    const std::string two = "query count { customers { totalCount } } mutation make($name: String!) { "
                            "createCustomer(input: {name: $name}) { customer { name } } }";
    auto send = [&](const std::string& operation, const Json& variables) {
        Json body = Json::object();
        body.set("query", two);
        body.set("variables", variables);
        if (!operation.empty()) {
            body.set("operationName", operation);
        }
        return post(client, "/api", body.dump(), "Bearer " + token).body;
    };
    for (int round = 0; round < 2; ++round) {
        CHECK(send("", Json::object()) ==
              R"({"errors":[{"message":"Must provide operation name if query contains multiple operations."}],"data":null})");
        CHECK(send("make", Json::object()) ==
              R"({"errors":[{"message":"Variable \"$name\" of required type \"String!\" was not provided.",)"
              R"("locations":[{"line":1,"column":56}]}],"data":null})");
        CHECK(send("make", name_vars("N" + std::to_string(round))) ==
              R"({"data":{"createCustomer":{"customer":{"name":"N)" + std::to_string(round) + R"("}}}})");
        CHECK(send("count", Json::object()) ==
              R"({"data":{"customers":{"totalCount":)" + std::to_string(round + 1) + "}}}");
        CHECK(send("other", Json::object()) == R"({"errors":[{"message":"Unknown operation named \"other\"."}],"data":null})");
    }
}

TEST_CASE("documents are prepared once by operation name and text, unless they are huge", "[sim]") {
    onboard::sim::DocumentCache cache;
    const auto first = cache.prepare("{ customers { totalCount } }", "");
    CHECK(first->error_body.empty());
    CHECK(cache.prepare("{ customers { totalCount } }", "") == first);
    CHECK(cache.prepare("{ customers { totalCount } }", "named") != first);
    CHECK(cache.prepare("{ customers { totalCount } } ", "") != first);
    const auto broken = cache.prepare("{", "");
    CHECK(broken->error_body ==
          R"({"errors":[{"message":"Syntax Error: Expected Name, found <EOF>.","locations":[{"line":1,"column":2}]}],"data":null})");
    CHECK(cache.prepare("{", "") == broken);
    CHECK(cache.prepare("  # nothing but a comment\n", "")->error_body ==
          R"({"errors":[{"message":"Syntax Error: Unexpected <EOF>.","locations":[{"line":2,"column":1}]}],"data":null})");
    const std::string huge = "{ customers { totalCount } }" + std::string(70 * 1024, ' ');
    const auto big = cache.prepare(huge, "");
    CHECK(big->error_body.empty());
    CHECK(cache.prepare(huge, "") != big);
}

TEST_CASE("document errors answer 400 under document_errors_status", "[sim]") {
    SimulatorOptions options;
    options.document_errors_status = 400;
    Running sim(options);
    auto client = sim.client();
    const Answer answer = graphql(client, access_token(client), "{ nope }");
    CHECK(answer.status == 400);
    CHECK(
        answer.body ==
        R"({"errors":[{"message":"Cannot query field \"nope\" on type \"Query\".","locations":[{"line":1,"column":3}]}],"data":null})");
}

TEST_CASE("several mutation fields run in order, each answered under its alias", "[sim]") {
    Running sim;
    auto client = sim.client();
    const Answer answer = graphql(client, access_token(client), R"(mutation {
  first: createCustomer(input: {name: "Acme"}) { customer { name } errors { field } }
  again: createCustomer(input: {name: "Acme"}) { customer { name } errors { field } }
  other: createCustomer(input: {name: "Globex", externalId: "G-1"}) { made: customer { label: name } errors { field } }
})");
    CHECK(answer.status == 200);
    CHECK(answer.body == R"({"data":{"first":{"customer":{"name":"Acme"},"errors":[]},)"
                         R"("again":{"customer":null,"errors":[{"field":"name"}]},)"
                         R"("other":{"made":{"label":"Globex"},"errors":[]}}})");
    const Json customers = sim.simulator().customers();
    REQUIRE(customers.size() == 2);
    CHECK(at(customers, "/0/name").as_string() == "Acme");
    CHECK(at(customers, "/1/name").as_string() == "Globex");
}

TEST_CASE("createCustomer answers the whole customer with an opaque base64 id", "[sim]") {
    Running sim;
    auto client = sim.client();
    const Answer answer = graphql(client, access_token(client), R"(mutation {
  createCustomer(input: {name: "  Initech ", externalId: "I-9", description: "TPS", labels: ["a", "b"]}) {
    customer { id name externalId description labels createdAt }
    errors { field messages }
  }
})");
    INFO(answer.body);
    REQUIRE(answer.status == 200);
    const Json& customer = at(answer.json, "/data/createCustomer/customer");
    CHECK(customer.keys() == std::vector<std::string>{"id", "name", "externalId", "description",
                                                      "labels", "createdAt"});
    CHECK(at(customer, "/name").as_string() == "Initech");
    CHECK(at(customer, "/externalId").as_string() == "I-9");
    CHECK(at(customer, "/description").as_string() == "TPS");
    CHECK(at(customer, "/labels").dump() == R"(["a","b"])");
    CHECK(at(answer.json, "/data/createCustomer/errors").dump() == "[]");
    const std::string id = at(customer, "/id").as_string();
    const auto decoded = onboard::sim::base64_decode(id);
    REQUIRE(decoded);
    CHECK(onboard::sim::base64_encode(*decoded) == id);
    CHECK_THAT(*decoded,
               Catch::Matches(
                   "Customer:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"));
    CHECK_THAT(at(customer, "/createdAt").as_string(),
               Catch::Matches(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00)"));
    // Within a minute of now, as gmtime sees it.
    const std::time_t now = std::time(nullptr);
    std::tm utc{};
    gmtime_r(&now, &utc);
    char minute[32];
    std::strftime(minute, sizeof minute, "%Y-%m-%dT%H:%M", &utc);
    std::tm before{};
    const std::time_t earlier = now - 60;
    gmtime_r(&earlier, &before);
    char previous[32];
    std::strftime(previous, sizeof previous, "%Y-%m-%dT%H:%M", &before);
    const std::string created_minute = at(customer, "/createdAt").as_string().substr(0, 16);
    CHECK((created_minute == minute || created_minute == previous));
    const Json listed = sim.simulator().customers();
    CHECK(listed.items().front() == customer);
}

TEST_CASE("a taken name or externalId and a blank name are payload errors with customer null",
          "[sim]") {
    auto check = [](int mutation_errors_status, bool on_all) {
        SimulatorOptions options;
        options.mutation_errors_status = mutation_errors_status;
        options.duplicate_errors_on_all = on_all;
        Running sim(options);
        auto client = sim.client();
        const std::string token = access_token(client);
        REQUIRE(create(client, token, "Acme", "A-1").status == 200);
        const std::string name_field = on_all ? "__all__" : "name";
        const std::string external_field = on_all ? "__all__" : "externalId";
        const std::string taken_name =
            R"({"field":")" + name_field +
            R"(","messages":["A customer with this name already exists."]})";
        const std::string taken_external =
            R"({"field":")" + external_field +
            R"(","messages":["A customer with this external ID already exists."]})";
        const std::pair<Answer, std::string> cases[] = {
            {create(client, token, "Acme"), "[" + taken_name + "]"},
            {create(client, token, "Other", "A-1"), "[" + taken_external + "]"},
            {create(client, token, "Acme", "A-1"), "[" + taken_name + "," + taken_external + "]"},
            {create(client, token, " "),
             R"([{"field":"name","messages":["This field may not be blank."]}])"},
        };
        for (const auto& [answer, errors] : cases) {
            INFO(answer.body);
            CHECK(answer.status == mutation_errors_status);
            CHECK(at(answer.json, "/data/createCustomer/customer").is_null());
            CHECK(at(answer.json, "/data/createCustomer/errors").dump() == errors);
            CHECK(answer.json.find("errors") == nullptr);
        }
        CHECK(sim.stat("customers") == 1);
        CHECK(sim.stat("creates") == 1);
        CHECK(sim.stat("duplicates_rejected") == 3);
    };
    SECTION("answered 200 by default") {
        check(200, false);
    }
    SECTION("answered 400 under mutation_errors_status 400") {
        check(400, false);
    }
    SECTION("reported under __all__ when asked") {
        check(200, true);
    }
}

TEST_CASE("customers pages by at most 100 with cursors, filters and a total count", "[sim]") {
    Running sim;
    auto client = sim.client();
    const std::string token = access_token(client);
    std::string mutation = "mutation {";
    for (int i = 0; i < 250; ++i) {
        mutation += " c" + std::to_string(i) + ": createCustomer(input: {name: \"C" +
                    std::to_string(i) + "\", externalId: \"E" + std::to_string(i) +
                    "\"}) { errors { field } }";
    }
    REQUIRE(graphql(client, token, mutation + " }").status == 200);
    REQUIRE(sim.stat("customers") == 250);
    const std::string page_query =
        "query($after: String, $first: Int) { customers(first: $first, after: $after) "
        "{ nodes { name } pageInfo { hasNextPage endCursor } totalCount } }";
    std::vector<std::string> names;
    Json vars = Json::object();
    vars.set("first", 1000);
    std::vector<std::size_t> sizes;
    for (bool more = true; more;) {
        const Answer answer = graphql(client, token, page_query, vars);
        REQUIRE(answer.status == 200);
        const Json& page = at(answer.json, "/data/customers");
        CHECK(at(page, "/totalCount").as_int() == 250);
        sizes.push_back(at(page, "/nodes").size());
        for (const Json& node : at(page, "/nodes").items()) {
            names.push_back(node.find("name")->as_string());
        }
        more = at(page, "/pageInfo/hasNextPage").as_bool();
        vars.set("after", at(page, "/pageInfo/endCursor"));
    }
    CHECK(sizes == std::vector<std::size_t>{100, 100, 50});
    REQUIRE(names.size() == 250);
    CHECK(names.front() == "C0");
    CHECK(names.back() == "C249");
    CHECK(graphql(client, token,
                  R"({ customers(externalId: "E7") { nodes { name externalId } totalCount } })")
              .body ==
          R"({"data":{"customers":{"nodes":[{"name":"C7","externalId":"E7"}],"totalCount":1}}})");
    CHECK(graphql(client, token, R"({ customers(name: "C8") { nodes { externalId } totalCount } })")
              .body == R"({"data":{"customers":{"nodes":[{"externalId":"E8"}],"totalCount":1}}})");
    CHECK(graphql(client, token,
                  R"({ customers(name: "C8", externalId: "E9") { nodes { name } totalCount } })")
              .body == R"({"data":{"customers":{"nodes":[],"totalCount":0}}})");
    CHECK(
        graphql(
            client, token,
            R"({ customers(name: "nobody") { nodes { name } pageInfo { hasNextPage endCursor } } })")
            .body ==
        R"({"data":{"customers":{"nodes":[],"pageInfo":{"hasNextPage":false,"endCursor":null}}}})");
    CHECK(
        graphql(client, token, R"({ customers(first: 2) { edges { cursor node { name } } } })")
            .body ==
        R"({"data":{"customers":{"edges":[{"cursor":"YXJyYXljb25uZWN0aW9uOjA=","node":{"name":"C0"}},)"
        R"({"cursor":"YXJyYXljb25uZWN0aW9uOjE=","node":{"name":"C1"}}]}}})");
}

TEST_CASE("a malformed cursor or a negative first is a field error", "[sim]") {
    Running sim;
    auto client = sim.client();
    const std::string token = access_token(client);
    const std::string huge =
        onboard::sim::base64_encode("arrayconnection:99999999999999999999999999");
    for (const std::string& after :
         {std::string("!!"), onboard::sim::base64_encode("other:1"), huge}) {
        const Answer answer = graphql(
            client, token, "query($a: String) { customers(after: $a) { totalCount } }", [&] {
                Json vars = Json::object();
                vars.set("a", after);
                return vars;
            }());
        INFO(answer.body);
        CHECK(answer.status == 200);
        CHECK(at(answer.json, "/data/customers").is_null());
        CHECK(at(answer.json, "/errors/0/message").as_string() ==
              "Invalid cursor \"" + after + "\"");
        CHECK(at(answer.json, "/errors/0/path").dump() == R"(["customers"])");
    }
    const Answer negative = graphql(client, token, "{ customers(first: -1) { totalCount } }");
    CHECK(
        negative.body ==
        R"({"errors":[{"message":"Argument \"first\" must be a non-negative integer",)"
        R"("locations":[{"line":1,"column":3}],"path":["customers"]}],"data":{"customers":null}})");
}

TEST_CASE("customer(id:) finds one customer or answers null", "[sim]") {
    Running sim;
    auto client = sim.client();
    const std::string token = access_token(client);
    const Answer created = create(client, token, "Acme", "A-1");
    const std::string id = at(created.json, "/data/createCustomer/customer/id").as_string();
    Json vars = Json::object();
    vars.set("id", id);
    const std::string query = "query($id: ID!) { customer(id: $id) { id name externalId } }";
    CHECK(graphql(client, token, query, vars).body ==
          R"({"data":{"customer":{"id":")" + id + R"(","name":"Acme","externalId":"A-1"}}})");
    vars.set("id", onboard::sim::base64_encode("Customer:unknown"));
    CHECK(graphql(client, token, query, vars).body == R"({"data":{"customer":null}})");
}

TEST_CASE("the _sim endpoints list customers, count requests and reset", "[sim]") {
    Running sim;
    auto client = sim.client();
    const std::string token = access_token(client);
    create(client, token, "Acme", "A-1");
    create(client, token, "Acme");
    graphql(client, token, "{ customers { totalCount } }");
    graphql(client, token, "{ nope }");
    post(client, "/api", "{}", "Bearer x");
    const Answer customers = get(client, "/_sim/customers");
    CHECK(customers.status == 200);
    REQUIRE(customers.json.size() == 1);
    CHECK(at(customers.json, "/0/name").as_string() == "Acme");
    CHECK(at(customers.json, "/0/externalId").as_string() == "A-1");
    CHECK(at(customers.json, "/0/description").is_null());
    const Answer stats = get(client, "/_sim/stats");
    CHECK(
        stats.body ==
        R"({"requests":6,"refreshes":1,"graphql_requests":5,"queries":1,"mutations":2,"creates":1,)"
        R"("duplicates_rejected":1,"document_errors":1,"bad_requests":0,"unauthorized":1,)"
        R"("rate_limited":0,"injected_failures":0,"injected_drops":0,"injected_graphql_errors":0,)"
        R"("injected_slow":0,"forbidden":0,"customers":1})");
    const Answer reset = post(client, "/_sim/reset", "");
    CHECK(reset.status == 200);
    CHECK(reset.body == R"({"reset":true})");
    CHECK(get(client, "/_sim/customers").body == "[]");
    CHECK(sim.stat("requests") == 0);
    CHECK(sim.stat("customers") == 0);
    // The token outlives a reset, and a name is free again.
    CHECK(at(create(client, token, "Acme").json, "/data/createCustomer/errors").dump() == "[]");
    const Answer not_found = get(client, "/_sim/nothing");
    CHECK(not_found.status == 404);
    CHECK(not_found.body == R"({"errors":[{"message":"Not found: GET /_sim/nothing"}]})");
    CHECK(get(client, "/api").status == 405);
    CHECK(get(client, "/elsewhere").status == 404);
}

TEST_CASE("latency and jitter delay every answer", "[sim][faults]") {
    SimulatorOptions options;
    options.faults.latency_ms = 120;
    options.faults.jitter_ms = 60;
    Running sim(options);
    auto client = sim.client();
    std::set<long> delays;
    for (int i = 0; i < 4; ++i) {
        const auto start = std::chrono::steady_clock::now();
        CHECK(post(client, "/auth/refresh", refresh_body("sim-refresh-token")).status == 200);
        const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::steady_clock::now() - start);
        CHECK(elapsed.count() >= 120);
        CHECK(elapsed.count() < 400);
    }
    onboard::sim::Faults faults(options.faults);
    for (std::uint64_t n = 0; n < 200; ++n) {
        const int delay = faults.delay_ms(n);
        CHECK(delay >= 120);
        CHECK(delay <= 180);
        delays.insert(delay);
    }
    CHECK(delays.size() > 30);
}

TEST_CASE("fail-rate answers 500, 502 or 503 with a proxy's HTML page and runs nothing",
          "[sim][faults]") {
    SimulatorOptions options;
    options.faults.fail_rate = 1.0;
    options.faults.seed = 3;
    Running sim(options);
    auto client = sim.client();
    std::set<int> statuses;
    for (int i = 0; i < 30; ++i) {
        const Answer answer = post(
            client, "/api", graphql_body(k_create, name_vars("N" + std::to_string(i))), "Bearer x");
        statuses.insert(answer.status);
        CHECK(answer.content_type == "text/html");
        CHECK_THAT(answer.body,
                   Catch::StartsWith("<html>") && Catch::Contains("<center>nginx</center>"));
    }
    CHECK(statuses == std::set<int>{500, 502, 503});
    CHECK(post(client, "/auth/refresh", refresh_body("sim-refresh-token")).content_type ==
          "text/html");
    CHECK(sim.stat("injected_failures") == 31);
    CHECK(sim.stat("graphql_requests") == 0);
    CHECK(sim.stat("customers") == 0);
}

TEST_CASE("rate-limit answers 429 with Retry-After beyond N requests a second", "[sim][faults]") {
    std::atomic<std::int64_t> now_ms{1'700'000'000'000};
    SimulatorOptions options;
    options.faults.rate_limit = 3;
    options.clock_ms = [&now_ms] { return now_ms.load(); };
    Running sim(options);
    auto client = sim.client();
    const std::string token = access_token(client);
    CHECK(create(client, token, "A").status == 200);
    CHECK(create(client, token, "B").status == 200);
    const Answer limited = create(client, token, "C");
    CHECK(limited.status == 429);
    CHECK(limited.retry_after == "1");
    CHECK(limited.body == R"({"errors":[{"message":"Too many requests"}]})");
    CHECK(post(client, "/auth/refresh", refresh_body("sim-refresh-token")).status == 429);
    CHECK(get(client, "/_sim/stats").status == 200); // inspection is never limited
    now_ms += 1000;
    CHECK(create(client, token, "C").status == 200);
    CHECK(sim.stat("rate_limited") == 2);
    CHECK(sim.stat("customers") == 3);
}

TEST_CASE("drop-rate commits the mutation, then closes the connection unanswered",
          "[sim][faults]") {
    SimulatorOptions options;
    options.faults.drop_rate = 1.0;
    Running sim(options);
    auto client = sim.client();
    const std::string token = access_token(client); // refreshes are never dropped
    const auto result =
        client.Post("/api", {{"Authorization", "Bearer " + token}},
                    graphql_body(k_create, name_vars("Dropped", "D-1")), "application/json");
    CHECK(!result);
    CHECK(sim.stat("injected_drops") == 1);
    const Json customers = sim.simulator().customers();
    REQUIRE(customers.size() == 1);
    CHECK(at(customers, "/0/name").as_string() == "Dropped");
    // A retry finds the name taken: the classic duplicate.
    CHECK(!client.Post("/api", {{"Authorization", "Bearer " + token}},
                       graphql_body(k_create, name_vars("Dropped")), "application/json"));
    CHECK(sim.stat("duplicates_rejected") == 1);
}

TEST_CASE("graphql-error-rate answers 200 with top-level errors, data null and nothing created",
          "[sim][faults]") {
    SimulatorOptions options;
    options.faults.graphql_error_rate = 1.0;
    Running sim(options);
    auto client = sim.client();
    const Answer answer = create(client, access_token(client), "Acme");
    CHECK(answer.status == 200);
    CHECK(answer.body ==
          R"j({"errors":[{"message":"Internal server error (injected)"}],"data":null})j");
    CHECK(sim.stat("injected_graphql_errors") == 1);
    CHECK(sim.stat("customers") == 0);
}

TEST_CASE("slow-rate commits first, then answers after slow-ms", "[sim][faults]") {
    SimulatorOptions options;
    options.faults.slow_rate = 1.0;
    options.faults.slow_ms = 700;
    Running sim(options);
    auto fast = sim.client();
    const std::string token = access_token(fast);
    auto impatient = sim.client(0.2);
    const auto start = std::chrono::steady_clock::now();
    CHECK(!impatient.Post("/api", {{"Authorization", "Bearer " + token}},
                          graphql_body(k_create, name_vars("Slow")), "application/json"));
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(600));
    // Well before the answer is due, the customer is there.
    CHECK(get(fast, "/_sim/customers").json.size() == 1);
    CHECK(sim.stat("injected_slow") == 1);
    auto patient = sim.client();
    const auto again = std::chrono::steady_clock::now();
    const Answer answer = create(patient, token, "Slow too");
    CHECK(answer.status == 200);
    CHECK(std::chrono::steady_clock::now() - again >= std::chrono::milliseconds(700));
}

TEST_CASE("faults and ids are reproducible under a seed", "[sim][faults]") {
    auto run = [](std::uint64_t seed) {
        SimulatorOptions options;
        options.faults.seed = seed;
        options.faults.fail_rate = 0.3;
        options.faults.graphql_error_rate = 0.3;
        Running sim(options);
        auto client = sim.client();
        std::string token;
        while (token.empty()) {
            const Answer refresh = post(client, "/auth/refresh", refresh_body("sim-refresh-token"));
            token = refresh.status == 200 ? refresh.json.find("access_token")->as_string() : "";
        }
        std::string trace;
        for (int i = 0; i < 40; ++i) {
            const Answer answer = create(client, token, "N" + std::to_string(i));
            trace += std::to_string(answer.status) + (answer.json.find("errors") ? "E " : " ");
        }
        const Json customers = sim.simulator().customers();
        for (const Json& customer : customers.items()) {
            trace += customer.find("id")->as_string() + " ";
        }
        return trace;
    };
    const std::string first = run(42);
    CHECK(first == run(42));
    CHECK(first != run(43));
    CHECK_THAT(first, Catch::Contains("200E") && Catch::Contains("50") && Catch::Contains("200 "));
}

TEST_CASE("threads creating the same name at once create exactly one customer", "[sim]") {
    Running sim;
    auto setup = sim.client();
    const std::string token = access_token(setup);
    constexpr int k_threads = 16;
    constexpr int k_tries = 5;
    std::latch start(k_threads);
    std::atomic<int> created{0};
    std::atomic<int> rejected{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < k_threads; ++t) {
        threads.emplace_back([&, t] {
            auto client = sim.client();
            client.set_keep_alive(true);
            start.arrive_and_wait();
            for (int i = 0; i < k_tries; ++i) {
                const auto result =
                    client.Post("/api", {{"Authorization", "Bearer " + token}},
                                graphql_body(k_create, name_vars("Same", "S-" + std::to_string(t))),
                                "application/json");
                if (result && result->status == 200) {
                    const Json body = Json::parse(result->body);
                    ++(body.at_pointer("/data/createCustomer/customer")->is_null() ? rejected
                                                                                   : created);
                }
            }
        });
    }
    for (std::thread& thread : threads) {
        thread.join();
    }
    CHECK(created == 1);
    CHECK(rejected == k_threads * k_tries - 1);
    CHECK(sim.stat("customers") == 1);
    CHECK(sim.stat("creates") == 1);
    CHECK(sim.stat("duplicates_rejected") == k_threads * k_tries - 1);
}

TEST_CASE("threads creating different names at once get distinct ids", "[sim]") {
    Running sim;
    auto setup = sim.client();
    const std::string token = access_token(setup);
    // Catch's assertions are not thread-safe: threads only count, the test checks afterwards.
    std::atomic<int> answered{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&, t] {
            auto client = sim.client();
            client.set_keep_alive(true);
            for (int i = 0; i < 25; ++i) {
                const auto result =
                    client.Post("/api", {{"Authorization", "Bearer " + token}},
                                graphql_body(k_create, name_vars("T" + std::to_string(t) + "-" +
                                                                 std::to_string(i))),
                                "application/json");
                answered += result && result->status == 200 ? 1 : 0;
            }
        });
    }
    for (std::thread& thread : threads) {
        thread.join();
    }
    CHECK(answered == 200);
    std::set<std::string> ids;
    const Json customers = sim.simulator().customers();
    for (const Json& customer : customers.items()) {
        ids.insert(customer.find("id")->as_string());
    }
    CHECK(ids.size() == 200);
    CHECK(sim.stat("creates") == 200);
}

TEST_CASE("a port another simulator listens on is refused, not shared", "[sim]") {
    // httplib's default socket options include SO_REUSEPORT: two servers would split the connections.
    Running first;
    const int port = first.port();
    onboard::sim::Simulator simulator(SimulatorOptions{});
    onboard::sim::Server second(simulator, {"127.0.0.1", port, 4});
    CHECK_THROWS_WITH(second.bind(), "prismatic-sim: cannot listen on 127.0.0.1:" + std::to_string(port));
}

TEST_CASE("a stop before run makes run return at once", "[sim]") {
    // A SIGTERM right after the port file appears reaches stop() before run() has started listening.
    onboard::sim::Simulator simulator(SimulatorOptions{});
    onboard::sim::Server server(simulator, {"127.0.0.1", 0, 4});
    server.bind();
    server.stop();
    auto running = std::async(std::launch::async, [&] { server.run(); });
    const bool returned = running.wait_for(std::chrono::seconds(2)) == std::future_status::ready;
    if (!returned) {
        while (!server.is_running()) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        server.stop();
    }
    CHECK(returned);
}

TEST_CASE("the state file round-trips customers and refuses a customer listed twice", "[sim]") {
    const std::string path = "sim_test_state.json";
    std::remove(path.c_str());
    {
        onboard::sim::Simulator simulator(SimulatorOptions{});
        simulator.load_state(path); // a missing file is an empty organisation
        CHECK(simulator.customers().size() == 0);
        const auto reply = simulator.graphql(
            graphql_body(k_create, name_vars("Kept", "K-1")),
            "Bearer " + Json::parse(simulator.refresh(refresh_body("sim-refresh-token")).body)
                            .find("access_token")
                            ->as_string());
        REQUIRE(reply.status == 200);
        simulator.save_state(path);
    }
    onboard::sim::Simulator reloaded(SimulatorOptions{});
    reloaded.load_state(path);
    REQUIRE(reloaded.customers().size() == 1);
    CHECK(at(reloaded.customers(), "/0/name").as_string() == "Kept");
    const std::string twice = "sim_test_twice.json";
    {
        std::FILE* file = std::fopen(twice.c_str(), "w");
        std::fputs(R"([{"id":"QQ==","name":"X"},{"id":"Qg==","name":"X"}])", file);
        std::fclose(file);
    }
    CHECK_THROWS_WITH(reloaded.load_state(twice),
                      "sim_test_twice.json: customer \"X\" is listed twice");
    CHECK(reloaded.customers().size() == 0);
    std::remove(path.c_str());
    std::remove(twice.c_str());
}
