#include "core/error.hpp"
#include "workflow/rows.hpp"
#include "workflow/runner.hpp"

#include <catch2/catch.hpp>

using onboard::WorkflowError;
using onboard::core::Json;
using onboard::http::Failure;
using onboard::http::Response;
using namespace onboard::workflow;

namespace {

const std::string k_seed = ONBOARD_SOURCE_DIR "/jobs/arazzo/prismatic-create-customer-workflow.yml";
const std::string k_shipped = ONBOARD_SOURCE_DIR "/jobs/arazzo/onboard-create-customer.yml";
const std::string k_broken = ONBOARD_FIXTURES "/workflows/";

const std::string k_query = "mutation createCustomer($name: String!, $externalId: String) {\n"
                            "  createCustomer(input: { name: $name, externalId: $externalId }) {\n"
                            "    customer {\n      id\n      name\n      externalId\n    }\n  }\n}";

std::string load_error(const std::string& path) {
    try {
        Workflow::load(path);
    } catch (const WorkflowError& e) {
        return e.what();
    }
    return "no error";
}

Response answer(int status, std::string body, onboard::http::Headers headers = {}) {
    Response response;
    response.status = status;
    response.body = std::move(body);
    response.headers = std::move(headers);
    return response;
}

Context row_context(Json inputs) {
    Context context;
    context.inputs = std::move(inputs);
    context.step_outputs["refreshToken"] = Json::parse(R"({"accessToken":"tok-123"})");
    return context;
}

struct Seed {
    Workflow workflow = Workflow::load(k_seed);
    Runner runner{workflow, "http://127.0.0.1:8080/"};
    const Step& refresh() const { return workflow.steps()[0]; }
    const Step& create() const { return workflow.steps()[1]; }
    StepResult judge_create(const Response& response) const {
        return runner.judge(create(), row_context(Json::parse(R"({"name":"A"})")), response);
    }
};

} // namespace

TEST_CASE("the seed workflow loads unmodified with its operations resolved", "[workflow]") {
    const Workflow workflow = Workflow::load(k_seed);
    CHECK(workflow.workflow_id() == "create-customer");
    REQUIRE(workflow.steps().size() == 2);
    const Step& refresh = workflow.steps()[0];
    CHECK(refresh.id == "refreshToken");
    CHECK(refresh.operation_id == "refreshAuthToken");
    CHECK(refresh.method == "POST");
    CHECK(refresh.path == "/auth/refresh");
    CHECK(refresh.location.line == 43);
    const Step& create = workflow.steps()[1];
    CHECK(create.operation_id == "executeGraphQLQuery");
    CHECK(create.method == "POST");
    CHECK(create.path == "/api");
    CHECK(workflow.default_server_url() == "https://app.prismatic.io");
    REQUIRE(workflow.inputs().size() == 3);
    CHECK(workflow.inputs()[0].name == "refreshToken");
    CHECK(workflow.inputs()[0].required);
    CHECK(workflow.inputs()[2].name == "externalId");
    CHECK_FALSE(workflow.inputs()[2].required);
    REQUIRE(workflow.outputs().size() == 2);
    CHECK(workflow.outputs()[0].name == "customerId");
}

TEST_CASE("a step that uses no per-row input is batch-scoped", "[workflow]") {
    const Workflow workflow = Workflow::load(k_seed);
    CHECK(workflow.steps()[0].batch_scoped);
    CHECK_FALSE(workflow.steps()[1].batch_scoped);
    const Workflow all_per_row = Workflow::load(k_seed, {"name", "externalId", "refreshToken"});
    CHECK_FALSE(all_per_row.steps()[0].batch_scoped);
    CHECK_FALSE(all_per_row.steps()[1].batch_scoped);
}

TEST_CASE("the seed's bare bearer expression is accepted with one warning", "[workflow]") {
    const Workflow workflow = Workflow::load(k_seed);
    CHECK(workflow.warnings() ==
          std::vector<std::string>{k_seed + ":63: bare runtime expression in a string; write "
                                            "{$steps.refreshToken.outputs.accessToken}"});
}

TEST_CASE("secret inputs and the outputs that carry tokens are named", "[workflow]") {
    const Workflow workflow = Workflow::load(k_seed);
    CHECK(workflow.secret_inputs() == std::vector<std::string>{"refreshToken"});
    CHECK(workflow.secret_outputs() == std::vector<std::string>{"refreshToken.accessToken"});
}

TEST_CASE("the refresh request carries the run's refresh token", "[workflow]") {
    const Seed seed;
    Context context;
    context.inputs = Json::parse(R"({"refreshToken":"rt-9"})");
    const auto request = seed.runner.build_request(seed.refresh(), context);
    CHECK(request.method == "POST");
    CHECK(request.url == "http://127.0.0.1:8080/auth/refresh");
    CHECK(request.body == R"({"refresh_token":"rt-9"})");
    CHECK(request.headers == onboard::http::Headers{{"Accept", "application/json"},
                                                    {"Content-Type", "application/json"}});
}

TEST_CASE("the createCustomer request sends the row as graphql variables with the bearer token", "[workflow]") {
    const Seed seed;
    const auto request =
        seed.runner.build_request(seed.create(), row_context(Json::parse(R"({"name":"Acme \"1\"","externalId":"X-1"})")));
    CHECK(request.url == "http://127.0.0.1:8080/api");
    Json expected = Json::object();
    expected.set("query", k_query);
    expected.set("variables", Json::parse(R"({"name":"Acme \"1\"","externalId":"X-1"})"));
    CHECK(request.body == expected.dump());
    CHECK(request.headers == onboard::http::Headers{{"Authorization", "Bearer tok-123"},
                                                    {"Accept", "application/json"},
                                                    {"Content-Type", "application/json"}});
}

TEST_CASE("a JSON body is written as the payload's JSON value would be, a repeated key replacing in place",
          "[workflow]") {
    const Workflow workflow = Workflow::load(k_broken + "rich-payload.yml");
    const Runner runner(workflow, "http://127.0.0.1:8080");
    const auto request =
        runner.build_request(workflow.steps()[1], row_context(Json::parse(R"({"name":"Ann \"Q\"","externalId":"E/1"})")));
    CHECK(request.body ==
          R"j({"query":"mutation { createCustomer(input: {name: \"é \\\" \\\\ tab\t\"}) { customer { id } } }",)j"
          R"j("variables":{"name":"Ann \"Q\" again","label":"Customer Ann \"Q\" (E/1)","externalId":"E/1",)j"
          R"j("tags":["onboard",3,2.5,true,null,{"nested":"Ann \"Q\""}],"count":12},"empty":{},"none":[]})j");
    CHECK(Json::parse(request.body).at_pointer("/variables/name")->as_string() == "Ann \"Q\" again");
    // An absent optional input is null in the body, and still none of the required ones is missing.
    const auto without = runner.build_request(workflow.steps()[1], row_context(Json::parse(R"({"name":"B"})")));
    CHECK(Json::parse(without.body).at_pointer("/variables/externalId")->is_null());
    CHECK(workflow.steps()[1].payload_inputs == std::vector<std::string>{"name", "externalId"});
    CHECK_THROWS_WITH(runner.build_request(workflow.steps()[1], row_context(Json::object())),
                      "step \"createCustomer\": required input \"name\" is missing");
}

TEST_CASE("an absent optional input is sent as json null", "[workflow]") {
    const Seed seed;
    const auto request = seed.runner.build_request(seed.create(), row_context(Json::parse(R"({"name":"A"})")));
    CHECK(Json::parse(request.body).at_pointer("/variables")->dump() == R"({"name":"A","externalId":null})");
}

TEST_CASE("a request cannot be built without its token or a required input", "[workflow]") {
    const Seed seed;
    Context no_token;
    no_token.inputs = Json::parse(R"({"name":"A"})");
    CHECK_THROWS_WITH(seed.runner.build_request(seed.create(), no_token),
                      "step \"createCustomer\": header parameter \"Authorization\": "
                      "$steps.refreshToken.outputs.accessToken is null");
    CHECK_THROWS_WITH(seed.runner.build_request(seed.create(), row_context(Json::parse(R"({"externalId":"X"})"))),
                      "step \"createCustomer\": required input \"name\" is missing");
}

TEST_CASE("without a base url the openapi server is used", "[workflow]") {
    const Workflow workflow = Workflow::load(k_seed);
    const Runner runner(workflow, "");
    Context context;
    context.inputs = Json::parse(R"({"refreshToken":"rt"})");
    CHECK(runner.build_request(workflow.steps()[0], context).url == "https://app.prismatic.io/auth/refresh");
}

TEST_CASE("a created customer succeeds with the step and workflow outputs", "[workflow]") {
    const Seed seed;
    Context context = row_context(Json::parse(R"({"name":"A","externalId":"X"})"));
    const StepResult result = seed.runner.judge(
        seed.create(), context,
        answer(200, R"({"data":{"createCustomer":{"customer":{"id":"Q3VzdG9tZXI6MQ==","name":"A","externalId":"X"}}}})"));
    CHECK(result.succeeded);
    CHECK(result.error_class.empty());
    CHECK(result.outputs.dump() ==
          R"({"customer":{"id":"Q3VzdG9tZXI6MQ==","name":"A","externalId":"X"},"customerId":"Q3VzdG9tZXI6MQ=="})");
    context.step_outputs["createCustomer"] = result.outputs;
    std::string error = "stale";
    const Json outputs = seed.runner.finish(context, error);
    CHECK(error.empty());
    CHECK(outputs.dump() ==
          R"({"customerId":"Q3VzdG9tZXI6MQ==","customer":{"id":"Q3VzdG9tZXI6MQ==","name":"A","externalId":"X"}})");
}

TEST_CASE("the refresh answer yields the access token", "[workflow]") {
    const Seed seed;
    Context context;
    context.inputs = Json::parse(R"({"refreshToken":"rt"})");
    const StepResult result =
        seed.runner.judge(seed.refresh(), context, answer(200, R"({"access_token":"eyJ.x.y","expires_in":3600})"));
    CHECK(result.succeeded);
    CHECK(result.outputs.dump() == R"({"accessToken":"eyJ.x.y"})");
}

TEST_CASE("a payload error saying the name exists is a duplicate with the server's words", "[workflow]") {
    const Seed seed;
    const StepResult result = seed.judge_create(answer(
        200, R"({"data":{"createCustomer":{"customer":null,"errors":[{"field":"name","messages":["Customer with this name already exists."]}]}}})"));
    CHECK_FALSE(result.succeeded);
    CHECK(result.error_class == "duplicate");
    CHECK(result.error_message == "name: Customer with this name already exists.");
    CHECK_FALSE(result.retryable);
}

TEST_CASE("other payload errors are validation failures, also under HTTP 400", "[workflow]") {
    const Seed seed;
    const StepResult result = seed.judge_create(answer(
        400, R"({"data":{"createCustomer":{"customer":null,"errors":[{"field":"name","messages":["Name is too long.","Name has bad characters."]},{"field":"externalId","messages":["Invalid."]}]}}})"));
    CHECK(result.error_class == "validation");
    CHECK(result.error_message == "name: Name is too long.; name: Name has bad characters.; externalId: Invalid.");
    CHECK_FALSE(result.retryable);
}

TEST_CASE("top-level graphql errors fail the row with their messages", "[workflow]") {
    const Seed seed;
    const StepResult result = seed.judge_create(answer(
        200, R"({"data":null,"errors":[{"message":"Syntax Error: Expected Name, found <EOF>.","locations":[{"line":1,"column":2}]}]})"));
    CHECK(result.error_class == "graphql");
    CHECK(result.error_message == "Syntax Error: Expected Name, found <EOF>.");
    CHECK_FALSE(result.retryable);
    const StepResult unauthenticated = seed.judge_create(
        answer(200, R"({"data":null,"errors":[{"message":"Token expired","extensions":{"code":"UNAUTHENTICATED"}}]})"));
    CHECK(unauthenticated.error_class == "auth");
}

TEST_CASE("a seed duplicate with no errors selected fails because the output is null", "[workflow]") {
    const Seed seed;
    Context context = row_context(Json::parse(R"({"name":"A"})"));
    const StepResult result =
        seed.runner.judge(seed.create(), context, answer(200, R"({"data":{"createCustomer":{"customer":null}}})"));
    CHECK(result.succeeded);
    CHECK(result.outputs.dump() == R"({"customer":null,"customerId":null})");
    context.step_outputs["createCustomer"] = result.outputs;
    std::string error;
    seed.runner.finish(context, error);
    CHECK(error == "output customerId is null: the createCustomer response has nothing at "
                   "$response.body#/data/createCustomer/customer/id");
}

TEST_CASE("a seed duplicate reported as a top-level error is a duplicate", "[workflow]") {
    const Seed seed;
    const StepResult result = seed.judge_create(answer(
        200, R"({"data":{"createCustomer":null},"errors":[{"message":"Customer with this name already exists.","path":["createCustomer"]}]})"));
    CHECK(result.error_class == "duplicate");
    CHECK(result.error_message == "Customer with this name already exists.");
}

TEST_CASE("transport failures are network or outcome unknown", "[workflow]") {
    const Seed seed;
    Response refused;
    refused.failure = Failure::connect;
    refused.failure_message = "Connection refused";
    const StepResult network = seed.judge_create(refused);
    CHECK(network.error_class == "network");
    CHECK(network.error_message == "could not connect: Connection refused");
    CHECK(network.retryable);

    Response timeout;
    timeout.failure = Failure::timeout;
    timeout.failure_message = "Operation timed out after 30000 milliseconds";
    const StepResult unknown = seed.judge_create(timeout);
    CHECK(unknown.error_class == "outcome_unknown");
    CHECK(unknown.error_message == "timed out after sending the request, which may have been processed: "
                                   "Operation timed out after 30000 milliseconds");
    CHECK_FALSE(unknown.retryable);
    Response lost = timeout;
    lost.failure = Failure::connection_lost;
    CHECK(seed.judge_create(lost).error_class == "outcome_unknown");
}

TEST_CASE("status codes judge auth, rate limits and server errors", "[workflow]") {
    const Seed seed;
    const StepResult auth = seed.judge_create(answer(401, R"({"errors":[{"message":"Invalid token"}]})"));
    CHECK(auth.error_class == "auth");
    CHECK(auth.error_message == "HTTP 401: Invalid token");
    CHECK_FALSE(auth.retryable);
    CHECK(seed.judge_create(answer(403, "")).error_message == "HTTP 403");

    const StepResult limited = seed.judge_create(answer(429, R"({"message":"slow down"})", {{"retry-after", "7"}}));
    CHECK(limited.error_class == "rate_limited");
    CHECK(limited.error_message == "HTTP 429: slow down");
    CHECK(limited.retryable);
    REQUIRE(limited.retry_after_seconds.has_value());
    CHECK(*limited.retry_after_seconds == 7.0);

    const StepResult server = seed.judge_create(
        answer(502, "<html>\n<head><title>502 Bad Gateway</title></head>\n<body>bad gateway</body>\n</html>"));
    CHECK(server.error_class == "server");
    CHECK(server.error_message ==
          "HTTP 502: <html> <head><title>502 Bad Gateway</title></head> <body>bad gateway</body> </html>");
    CHECK(server.retryable);
    CHECK_FALSE(server.retry_after_seconds.has_value());
}

TEST_CASE("a 200 answer that is not json is a retryable server failure", "[workflow]") {
    const Seed seed;
    const StepResult result = seed.judge_create(answer(200, "<html>maintenance</html>"));
    CHECK(result.error_class == "server");
    CHECK(result.error_message == "HTTP 200: the response is not JSON: <html>maintenance</html>");
    CHECK(result.retryable);
}

TEST_CASE("an unmet success criterion fails the step", "[workflow]") {
    const Seed seed;
    Context context;
    context.inputs = Json::parse(R"({"refreshToken":"rt"})");
    const StepResult result = seed.runner.judge(seed.refresh(), context, answer(400, R"({"error":"invalid_grant"})"));
    CHECK(result.error_class == "validation");
    CHECK(result.error_message == "success criterion not met: $statusCode == 200 (HTTP 400: invalid_grant)");
}

TEST_CASE("retry-after is read as seconds or as an http date", "[workflow]") {
    CHECK(parse_retry_after("3") == std::optional<double>(3.0));
    CHECK(parse_retry_after("1.5") == std::optional<double>(1.5));
    CHECK(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == std::optional<double>(0.0));
    CHECK_FALSE(parse_retry_after("soon").has_value());
    CHECK_FALSE(parse_retry_after("").has_value());
}

TEST_CASE("the shipped job selects payload errors, warns about nothing and retries server errors", "[workflow]") {
    const Workflow workflow = Workflow::load(k_shipped);
    CHECK(workflow.warnings().empty());
    CHECK(workflow.steps()[0].batch_scoped);
    CHECK_FALSE(workflow.steps()[1].batch_scoped);
    const auto& actions = workflow.steps()[1].on_failure;
    REQUIRE(actions.size() == 1);
    CHECK(actions[0].type == "retry");
    CHECK(actions[0].retry_after == 1.0);
    CHECK(actions[0].retry_limit == 5);
    const Runner runner(workflow, "http://127.0.0.1:1");
    const Context context = row_context(Json::parse(R"({"name":"A"})"));
    CHECK(runner.failure_action(workflow.steps()[1], context, answer(503, "")) == &actions[0]);
    CHECK(runner.failure_action(workflow.steps()[1], context, answer(400, "{}")) == nullptr);
    const auto request = runner.build_request(workflow.steps()[1], context);
    CHECK(Json::parse(request.body).at_pointer("/query")->as_string().find("errors {\n      field\n      messages") !=
          std::string::npos);
}

TEST_CASE("check reports every broken reference with file and line", "[workflow][check]") {
    const std::string file = k_broken + "broken-references.yml:";
    CHECK(load_error(k_broken + "broken-references.yml") ==
          file + "20: step \"refreshToken\": unknown operationId \"refreshAuthTokens\"\n" +
          file + "23: unknown input \"refreshTokn\" in $inputs.refreshTokn (not declared in the workflow's inputs)\n" +
          file + "25: malformed condition \"$statusCode = 200\": column 13: expected \"==\"\n" +
          file + "28: reference to a later step \"createCustomer\" in $steps.createCustomer.outputs.customerId\n" +
          file + "34: unknown step \"refreshTokens\" in $steps.refreshTokens.outputs.accessToken\n" +
          file + "37: step \"createCustomer\": runtime expression in the GraphQL query text; pass values as variables\n" +
          file + "40: step \"createCustomer\" refers to its own outputs in $steps.createCustomer.outputs.customerId\n" +
          file + "41: $response.header.Foo is only available in successCriteria and step outputs\n" +
          file + "42: malformed expression \"{$steps.refreshToken.outputs}\": column 21: expected \".outputs.<name>\" "
                 "after \"$steps.refreshToken\"\n" +
          file + "45: step \"refreshToken\" has no output \"missing\" ($steps.refreshToken.outputs.missing)");
}

TEST_CASE("check reports a bare expression whose root is unknown, with the close known root", "[workflow][check]") {
    const std::string file = k_broken + "unknown-roots.yml:";
    CHECK(load_error(k_broken + "unknown-roots.yml") ==
          file + "23: malformed expression \"$input.refreshToken\": column 1: unknown runtime expression "
                 "\"$input\"; did you mean \"$inputs\"?\n" +
          file + "31: malformed expression \"Bearer $step.refreshToken.outputs.accessToken\": column 8: unknown "
                 "runtime expression \"$step\"; did you mean \"$steps\"?\n" +
          file + "39: malformed expression \"$inptus.name\": column 1: unknown runtime expression \"$inptus\"; did "
                 "you mean \"$inputs\"?\n" +
          file + "42: malformed expression \"$respons.body#/data/createCustomer/customer/id\": column 1: unknown "
                 "runtime expression \"$respons\"; did you mean \"$response\"?");
}

TEST_CASE("the graphql query's variables are text, not runtime expressions", "[workflow][check]") {
    for (const std::string& path : {k_seed, k_shipped}) {
        const Workflow workflow = Workflow::load(path);
        const Payload& payload = *workflow.steps()[1].payload;
        REQUIRE(payload.keys[0] == "query");
        CHECK(payload.items[0].kind == Payload::Kind::literal);
        CHECK(payload.items[0].literal.as_string().find("$name: String!") != std::string::npos);
    }
}

TEST_CASE("check reports missing fields and unsupported forms", "[workflow][check]") {
    const std::string file = k_broken + "missing-fields.yml:";
    CHECK(load_error(k_broken + "missing-fields.yml") ==
          file + "9: missing required field \"workflowId\"\n" +
          file + "11: missing required field \"stepId\"\n" +
          file + "11: missing required field \"operationId\"\n" +
          file + "17: parameter \"session\": \"in\" must be header, query or path\n" +
          file + "19: only simple success criteria are supported, not \"jsonpath\"\n" +
          file + "22: failure action \"again\": retryAfter and retryLimit must be non-negative numbers\n" +
          file + "25: failure action \"elsewhere\": unknown step \"nowhere\"");
}

TEST_CASE("check refuses a goto failure action, which onboard cannot follow", "[workflow][check]") {
    CHECK(load_error(k_broken + "goto.yml") ==
          k_broken + "goto.yml:28: failure action \"again\": goto is not supported by onboard (use retry or end)");
}

TEST_CASE("check reports a source description that cannot be read", "[workflow][check]") {
    CHECK(load_error(k_broken + "missing-source.yml") ==
          k_broken + "missing-source.yml:7: source description \"api\": cannot read \"../openapi/nowhere.yml\"");
}

TEST_CASE("check reports invalid yaml and a missing file", "[workflow][check]") {
    CHECK(load_error(k_broken + "invalid-yaml.yml") ==
          k_broken + "invalid-yaml.yml:5: invalid YAML: end of sequence flow not found");
    CHECK(load_error(k_broken + "no-such-file.yml") == k_broken + "no-such-file.yml: cannot read the file");
}

TEST_CASE("the createCustomer step can carry several rows, the refresh step cannot", "[workflow][rows]") {
    const Workflow workflow = Workflow::load(k_shipped);
    CHECK(batching_problem(workflow.steps()[0]) == "it is batch-scoped and runs once per batch already");
    CHECK(batching_problem(workflow.steps()[1]).empty());
    CHECK_THROWS_WITH(MultiRowStep(workflow.steps()[0]),
                      "step \"refreshToken\": cannot send several rows in one request: it is batch-scoped and "
                      "runs once per batch already");
}

TEST_CASE("several rows go in one document under aliases with numbered variables", "[workflow][rows]") {
    const Seed seed;
    const MultiRowStep rows(seed.create());
    CHECK(rows.query(2) ==
          "mutation createCustomer($name_0: String!, $externalId_0: String, $name_1: String!, $externalId_1: String) {"
          " r0: createCustomer(input: {name: $name_0, externalId: $externalId_0}) { customer { id name externalId } }"
          " r1: createCustomer(input: {name: $name_1, externalId: $externalId_1}) { customer { id name externalId } } }");
    const auto request = rows.build_request(
        seed.runner, {row_context(Json::parse(R"({"name":"A","externalId":"X"})")), row_context(Json::parse(R"({"name":"B"})"))});
    CHECK(request.url == "http://127.0.0.1:8080/api");
    CHECK(request.headers == onboard::http::Headers{{"Authorization", "Bearer tok-123"},
                                                    {"Accept", "application/json"},
                                                    {"Content-Type", "application/json"}});
    Json expected = Json::object();
    expected.set("query", rows.query(2));
    expected.set("variables", Json::parse(R"({"name_0":"A","externalId_0":"X","name_1":"B","externalId_1":null})"));
    CHECK(request.body == expected.dump());
}

TEST_CASE("each row of a shared request is judged on its own alias", "[workflow][rows]") {
    const Workflow workflow = Workflow::load(k_shipped);
    const Runner runner(workflow, "http://127.0.0.1:1");
    const MultiRowStep rows(workflow.steps()[1]);
    const std::vector<Context> contexts{row_context(Json::parse(R"({"name":"A"})")),
                                        row_context(Json::parse(R"({"name":"B"})")),
                                        row_context(Json::parse(R"({"name":"C"})"))};
    const auto results = rows.judge(runner, contexts, answer(200, R"({"data":{
        "r0":{"customer":{"id":"c1","name":"A","externalId":null},"errors":[]},
        "r1":{"customer":null,"errors":[{"field":"name","messages":["Customer with this name already exists."]}]},
        "r2":null},
        "errors":[{"message":"Internal error","path":["r2"]}]})"));
    REQUIRE(results.size() == 3);
    CHECK(results[0].succeeded);
    CHECK(results[0].outputs.dump() == R"({"customer":{"id":"c1","name":"A","externalId":null},"customerId":"c1"})");
    CHECK(results[1].error_class == "duplicate");
    CHECK(results[1].error_message == "name: Customer with this name already exists.");
    CHECK(results[2].error_class == "graphql");
    CHECK(results[2].error_message == "Internal error");
}

TEST_CASE("a failure of the whole shared request fails every row alike", "[workflow][rows]") {
    const Seed seed;
    const MultiRowStep rows(seed.create());
    const std::vector<Context> contexts{row_context(Json::parse(R"({"name":"A"})")),
                                        row_context(Json::parse(R"({"name":"B"})"))};
    for (const StepResult& result : rows.judge(seed.runner, contexts, answer(503, "<html>busy</html>"))) {
        CHECK(result.error_class == "server");
        CHECK(result.error_message == "HTTP 503: <html>busy</html>");
    }
    for (const StepResult& result : rows.judge(seed.runner, contexts, answer(200, R"({"errors":[{"message":"Syntax Error"}]})"))) {
        CHECK(result.error_class == "graphql");
        CHECK(result.error_message == "Syntax Error");
    }
}

TEST_CASE("an alias without errors of its own succeeds whether the server answers errors with 200 or 400",
          "[workflow][rows]") {
    const Workflow workflow = Workflow::load(k_shipped);
    const Runner runner(workflow, "http://127.0.0.1:1");
    const MultiRowStep rows(workflow.steps()[1]);
    const std::vector<Context> contexts{row_context(Json::parse(R"({"name":"A"})")),
                                        row_context(Json::parse(R"({"name":"B"})")),
                                        row_context(Json::parse(R"({"name":"C"})"))};
    const std::string created_a = R"({"customer":{"id":"c1","name":"A","externalId":null},"errors":[]})";
    const std::string taken_b =
        R"({"customer":null,"errors":[{"field":"name","messages":["Customer with this name already exists."]}]})";
    const std::string created_c = R"({"customer":{"id":"c3","name":"C","externalId":null},"errors":[]})";
    const std::string body = R"({"data":{"r0":)" + created_a + R"(,"r1":)" + taken_b + R"(,"r2":)" + created_c + "}}";
    for (const int status : {200, 400}) {
        const auto results = rows.judge(runner, contexts, answer(status, body));
        REQUIRE(results.size() == 3);
        // Each row ends as it would have alone: answered 200 when it was created, `status` when refused.
        const auto alone = [&](std::size_t row, int row_status, const std::string& payload) {
            return runner.judge(workflow.steps()[1], contexts[row],
                                answer(row_status, R"({"data":{"createCustomer":)" + payload + "}}"));
        };
        const std::vector<StepResult> expected_results{alone(0, 200, created_a), alone(1, status, taken_b),
                                                       alone(2, 200, created_c)};
        for (std::size_t row = 0; row < results.size(); ++row) {
            INFO("HTTP " << status << ", row " << row);
            const StepResult& expected = expected_results[row];
            CHECK(results[row].succeeded == expected.succeeded);
            CHECK(results[row].error_class == expected.error_class);
            CHECK(results[row].error_message == expected.error_message);
            CHECK(results[row].outputs.dump() == expected.outputs.dump());
        }
        CHECK(results[0].outputs.dump() ==
              R"({"customer":{"id":"c1","name":"A","externalId":null},"customerId":"c1"})");
        CHECK(results[1].error_class == "duplicate");
        CHECK(results[1].error_message == "name: Customer with this name already exists.");
        CHECK(results[2].succeeded);
    }
}

TEST_CASE("an alias with a top-level error of its own keeps the server's error status", "[workflow][rows]") {
    const Workflow workflow = Workflow::load(k_shipped);
    const Runner runner(workflow, "http://127.0.0.1:1");
    const MultiRowStep rows(workflow.steps()[1]);
    const std::vector<Context> contexts{row_context(Json::parse(R"({"name":"A"})")),
                                        row_context(Json::parse(R"({"name":"B"})"))};
    for (const int status : {200, 400}) {
        INFO("HTTP " << status);
        const auto results = rows.judge(runner, contexts, answer(status, R"({"data":{
            "r0":{"customer":{"id":"c1","name":"A","externalId":null},"errors":[]},
            "r1":null},
            "errors":[{"message":"Name is too long.","path":["r1","input","name"]}]})"));
        REQUIRE(results.size() == 2);
        CHECK(results[0].succeeded);
        CHECK(results[1].error_class == "graphql");
        CHECK(results[1].error_message == "Name is too long.");
    }
}

TEST_CASE("a 400 or an auth, rate or server status with data still fails every alias alike", "[workflow][rows]") {
    const Workflow workflow = Workflow::load(k_shipped);
    const Runner runner(workflow, "http://127.0.0.1:1");
    const MultiRowStep rows(workflow.steps()[1]);
    const std::vector<Context> contexts{row_context(Json::parse(R"({"name":"A"})")),
                                        row_context(Json::parse(R"({"name":"B"})"))};
    const std::string created = R"({"data":{"r0":{"customer":{"id":"c1","name":"A","externalId":null},"errors":[]},)"
                                R"("r1":{"customer":{"id":"c2","name":"B","externalId":null},"errors":[]}}})";
    for (const auto& [status, error_class] : {std::pair{401, "auth"}, std::pair{403, "auth"},
                                              std::pair{429, "rate_limited"}, std::pair{503, "server"}}) {
        for (const StepResult& result : rows.judge(runner, contexts, answer(status, created))) {
            INFO("HTTP " << status);
            CHECK(result.error_class == error_class);
        }
    }
    // Errors that name no alias are about the whole document: no alias is clear of them.
    const std::string syntax = R"({"data":null,"errors":[{"message":"Syntax Error"}]})";
    for (const StepResult& result : rows.judge(runner, contexts, answer(400, syntax))) {
        CHECK(result.error_class == "graphql");
        CHECK(result.error_message == "Syntax Error");
    }
    const std::string shared =
        created.substr(0, created.size() - 1) + R"(,"errors":[{"message":"Query too complex"}]})";
    for (const StepResult& result : rows.judge(runner, contexts, answer(400, shared))) {
        CHECK(result.error_class == "graphql");
        CHECK(result.error_message == "Query too complex");
    }
    // A 400 with data but no errors at all: nothing clears the rows of the status.
    for (const StepResult& result : rows.judge(runner, contexts, answer(400, R"({"data":{"r0":null,"r1":null}})"))) {
        CHECK(result.error_class == "validation");
    }
}
