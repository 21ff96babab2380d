#include "core/log.hpp"
#include "store/store.hpp"
#include "worker/pacing.hpp"
#include "worker/pool.hpp"
#include "worker/reconcile.hpp"
#include "workflow/workflow.hpp"

#include <catch2/catch.hpp>
#include <httplib.h>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>
#include <unistd.h>

using onboard::core::Json;
using namespace onboard::worker;

TEST_CASE("backoff stays within the exponential ceiling and the cap", "[worker]") {
    Backoff backoff(0.5, 8, 42);
    for (int attempt = 1; attempt <= 10; ++attempt) {
        const double ceiling = std::min(8.0, 0.5 * (1 << (attempt - 1)));
        for (int i = 0; i < 50; ++i) {
            const double delay = backoff.delay(attempt, std::nullopt);
            CHECK(delay >= 0);
            CHECK(delay <= ceiling);
        }
    }
}

TEST_CASE("a longer Retry-After wins over the jittered delay", "[worker]") {
    Backoff backoff(0.5, 8, 1);
    CHECK(backoff.delay(1, 5.0) == 5.0);
}

TEST_CASE("the rate budget spaces requests evenly and allows no burst after a pause", "[worker]") {
    RateBudget budget(10);
    int taken = 0;
    for (int i = 0; i < 100; ++i) {
        taken += budget.try_take(100.0) ? 1 : 0;
    }
    CHECK(taken == 1); // the first call only starts the clock with one token
    CHECK(budget.wait_time(100.0) == Approx(0.1));
    // Polled every millisecond: one request per 100 ms (the tenth is due at 1.0 s, taken at the first
    // poll past it).
    taken = 0;
    for (int ms = 1; ms <= 1001; ++ms) {
        taken += budget.try_take(100.0 + ms / 1000.0) ? 1 : 0;
    }
    CHECK(taken == 10);
    // After ten idle seconds there is still one request's worth, not a burst a server would refuse.
    taken = 0;
    for (int i = 0; i < 100; ++i) {
        taken += budget.try_take(111.0) ? 1 : 0;
    }
    CHECK(taken == 1);
}

TEST_CASE("a 429 halves the rate and good answers add it back slowly", "[worker]") {
    RateBudget budget(20);
    budget.on_throttled(10.0, 0);
    CHECK(budget.current_rate() == 10);
    budget.on_throttled(10.5, 0); // at most one decrease per second
    CHECK(budget.current_rate() == 10);
    budget.on_success(12.0);
    CHECK(budget.current_rate() == 11);
    budget.on_success(12.5); // at most one increase per second
    CHECK(budget.current_rate() == 11);
}

TEST_CASE("an unlimited budget starts limiting at half the observed rate after a 429", "[worker]") {
    RateBudget budget(0);
    CHECK(budget.try_take(1.0));
    budget.on_throttled(2.0, 300);
    CHECK(budget.current_rate() == 150);
}

TEST_CASE("the lookup asks by externalId and reuses the create request's endpoint and token", "[worker]") {
    onboard::http::Request create{"POST", "http://127.0.0.1:9/api", {{"Authorization", "Bearer t"}}, "{}"};
    const Json inputs = Json::parse(R"({"name":"Ada, Ltd","externalId":"C-1"})");
    const auto lookup = build_lookup(create, inputs);
    CHECK(lookup.url == create.url);
    CHECK(lookup.headers == create.headers);
    const Json body = Json::parse(lookup.body);
    CHECK(body.at_pointer("/variables")->dump() == R"({"externalId":"C-1"})");
    CHECK(body.at_pointer("/query")->as_string().find("customers(externalId: $externalId") != std::string::npos);
}

TEST_CASE("without an externalId the lookup asks by name", "[worker]") {
    const auto lookup = build_lookup({}, Json::parse(R"({"name":"Ada"})"));
    CHECK(Json::parse(lookup.body).at_pointer("/variables")->dump() == R"({"name":"Ada"})");
}

TEST_CASE("a lookup finds the customer only when name and externalId match", "[worker]") {
    const Json inputs = Json::parse(R"({"name":"Ada","externalId":"C-1"})");
    onboard::http::Response response;
    response.status = 200;
    response.body = R"({"data":{"customers":{"nodes":[{"id":"Q3VzdG9tZXI6MQ==","name":"Ada","externalId":"C-1"}],"totalCount":1}}})";
    auto found = read_lookup(response, inputs);
    CHECK(found.kind == LookupResult::Kind::found);
    CHECK(found.customer_id == "Q3VzdG9tZXI6MQ==");

    response.body = R"({"data":{"customers":{"nodes":[{"id":"x","name":"Bob","externalId":"C-1"}],"totalCount":1}}})";
    found = read_lookup(response, inputs);
    CHECK(found.kind == LookupResult::Kind::conflict);
    CHECK(found.message == "a customer with this externalId exists with other values");

    response.body = R"({"data":{"customers":{"nodes":[],"totalCount":0}}})";
    CHECK(read_lookup(response, inputs).kind == LookupResult::Kind::not_found);

    response.status = 502;
    response.body = "<html>bad gateway</html>";
    found = read_lookup(response, inputs);
    CHECK(found.kind == LookupResult::Kind::failed);
    CHECK(found.message == "lookup answered HTTP 502");
}

TEST_CASE("a row without externalId is matched by name only to a customer it may have created", "[worker]") {
    const Json inputs = Json::parse(R"({"name":"Ada"})");
    const double first_sent = 1'796'000'000; // 2026-11-30T00:53:20Z
    onboard::http::Response response;
    response.status = 200;
    auto answer = [&](const std::string& node) {
        response.body = R"({"data":{"customers":{"nodes":[)" + node + R"(],"totalCount":1}}})";
        return read_lookup(response, inputs, first_sent);
    };
    // Created after our first send (within the clock skew allowed): ours.
    CHECK(answer(R"({"id":"c1","name":"Ada","externalId":null,"createdAt":"2026-11-30T00:53:18.500000+00:00"})").kind ==
          LookupResult::Kind::found);
    // Created a minute before we ever sent it: someone else's.
    const auto before = answer(R"({"id":"c2","name":"Ada","externalId":null,"createdAt":"2026-11-30T00:52:20Z"})");
    CHECK(before.kind == LookupResult::Kind::conflict);
    CHECK(before.message == "a customer with this name exists with an externalId, or from before this row was first "
                            "sent: someone else's");
    // We never send an externalId for this row: a customer with one is not ours.
    CHECK(answer(R"({"id":"c3","name":"Ada","externalId":"X-1","createdAt":"2026-11-30T01:00:00Z"})").kind ==
          LookupResult::Kind::conflict);
    // No createdAt to compare: the name match stands.
    CHECK(answer(R"({"id":"c4","name":"Ada","externalId":null})").kind == LookupResult::Kind::found);
}

TEST_CASE("ISO 8601 date-times are read in UTC whatever their offset", "[worker]") {
    CHECK(onboard::worker::parse_iso8601("2026-11-30T00:53:20Z") == std::optional<double>(1'796'000'000));
    CHECK(onboard::worker::parse_iso8601("2026-11-30T01:53:20+01:00") == std::optional<double>(1'796'000'000));
    CHECK(onboard::worker::parse_iso8601("2026-11-30T00:53:20.250Z").value() == Approx(1'796'000'000.25));
    CHECK(onboard::worker::parse_iso8601("2026-11-30T00:53:20") == std::optional<double>(1'796'000'000));
    CHECK_FALSE(onboard::worker::parse_iso8601("yesterday"));
}

TEST_CASE("the exp claim is read from a JWT and garbage is not a JWT", "[worker]") {
    // {"alg":"HS256"} . {"exp":1767225600} . signature
    CHECK(jwt_expiry("eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjE3NjcyMjU2MDB9.c2ln") == std::optional<double>(1767225600));
    CHECK_FALSE(jwt_expiry("not-a-jwt"));
    CHECK_FALSE(jwt_expiry("a.b.c"));
}

namespace {

// A Prismatic stand-in on 127.0.0.1 that, before answering a createCustomer, looks in the run's
// database from a connection of its own: the create must be committed there as sent already.
class WriteAheadChecker {
public:
    explicit WriteAheadChecker(std::string db_path) : m_db_path(std::move(db_path)) {
        m_server.new_task_queue = [] { return new httplib::ThreadPool(16); };
        m_server.Post("/auth/refresh", [](const httplib::Request&, httplib::Response& response) {
            response.set_content(R"({"access_token":"test-access-token"})", "application/json");
        });
        m_server.Post("/api", [this](const httplib::Request& request, httplib::Response& response) {
            const Json body = Json::parse(request.body, "request");
            const std::string name = body.find("variables")->find("name")->as_string();
            SQLite::Database db(m_db_path, SQLite::OPEN_READONLY);
            db.setBusyTimeout(5000);
            SQLite::Statement sent(db, "SELECT count(*) FROM attempts a JOIN rows r ON r.id = a.row_id "
                                       "WHERE r.name = ? AND a.kind = 'create'");
            sent.bind(1, name);
            sent.executeStep();
            if (sent.getColumn(0).getInt() == 0) {
                ++m_unrecorded;
            }
            ++m_creates;
            Json customer = Json::object();
            customer.set("id", "c-" + name);
            customer.set("name", name);
            customer.set("externalId", *body.find("variables")->find("externalId"));
            Json payload = Json::object();
            payload.set("customer", customer);
            payload.set("errors", Json::array());
            Json data = Json::object();
            data.set("createCustomer", payload);
            Json answer = Json::object();
            answer.set("data", data);
            response.set_content(answer.dump(), "application/json");
        });
        m_port = m_server.bind_to_any_port("127.0.0.1");
        m_thread = std::thread([this] { m_server.listen_after_bind(); });
        while (!m_server.is_running()) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    }
    ~WriteAheadChecker() {
        m_server.stop();
        m_thread.join();
    }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(m_port); }
    int creates() const { return m_creates; }
    int unrecorded() const { return m_unrecorded; }

private:
    std::string m_db_path;
    std::atomic<int> m_creates{0};
    std::atomic<int> m_unrecorded{0};
    httplib::Server m_server;
    int m_port = 0;
    std::thread m_thread;
};

} // namespace

TEST_CASE("every create is committed as sent before it reaches the server, though commits run off the loop",
          "[worker]") {
    const auto dir = std::filesystem::temp_directory_path() / ("onboard-worker-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const std::string db_path = (dir / "run.db").string();
    constexpr int k_rows = 600;
    {
        onboard::store::Store store(db_path);
        onboard::store::ImportInfo info;
        info.file_name = "c.csv";
        info.sha256 = "f00d";
        info.columns = {"name", "externalId"};
        info.mapping = Json::object();
        info.delimiter = ",";
        const auto import_id = store.create_import(info);
        for (int line = 2; line < k_rows + 2; ++line) {
            onboard::store::NewRow row;
            row.line = line;
            row.name = "Customer " + std::to_string(line);
            row.external_id = "C-" + std::to_string(line);
            row.inputs_derived = true;
            row.source = {*row.name, *row.external_id};
            REQUIRE(store.queue_row(import_id, row).accepted);
        }
        store.finish_import(import_id, {});
    }
    WriteAheadChecker server(db_path);
    onboard::store::Store store(db_path, onboard::store::OpenMode::existing);
    const auto job = onboard::workflow::Workflow::load(ONBOARD_SOURCE_DIR "/jobs/arazzo/onboard-create-customer.yml",
                                                       {"name", "externalId"});
    PoolOptions options;
    options.api_url = server.url();
    options.workers = 16;
    options.batch_size = 100;
    options.seed = 1;
    Json run_inputs = Json::object();
    run_inputs.set("refreshToken", "test-refresh-token");
    Pool pool(store, job, options, run_inputs, std::make_shared<onboard::core::Secrets>());
    const std::atomic<int> interrupts{0};
    const RunTotals totals = pool.run(interrupts);
    CHECK(totals.succeeded == k_rows);
    CHECK(totals.batches == k_rows / options.batch_size);
    CHECK(server.creates() == k_rows);
    CHECK(server.unrecorded() == 0);
    CHECK(store.database().execAndGet("SELECT count(*) FROM attempts WHERE outcome = 'succeeded'").getInt() == k_rows);
    std::filesystem::remove_all(dir);
}
