#include "core/error.hpp"
#include "store/migrations.hpp"
#include "store/store.hpp"
#include "store/writer.hpp"

#include <catch2/catch.hpp>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <unistd.h>

using namespace onboard;
using store::Store;

namespace {

store::ImportInfo info(const std::string& file_name, const std::string& sha256) {
    store::ImportInfo result;
    result.file_name = file_name;
    result.file_size = 10;
    result.sha256 = sha256;
    result.columns = {"name", "externalId"};
    result.mapping = core::Json::object();
    result.mapping.set("name", "name");
    result.delimiter = ",";
    return result;
}

store::NewRow new_row(std::int64_t line, std::optional<std::string> name, std::optional<std::string> external_id) {
    store::NewRow row;
    row.line = line;
    row.name = name;
    row.external_id = external_id;
    row.inputs = core::Json::object();
    if (name) {
        row.inputs.set("name", *name);
    }
    if (external_id) {
        row.inputs.set("externalId", *external_id);
    }
    row.source = {name.value_or(""), external_id.value_or("")};
    return row;
}

// One text column of one row, for checking what the store wrote.
std::string column(Store& db, const std::string& sql) {
    SQLite::Statement select(db.database(), sql);
    REQUIRE(select.executeStep());
    return select.getColumn(0).isNull() ? "NULL" : select.getColumn(0).getString();
}

// Records an attempt that leaves the row in `state`.
void finish(Store& db, std::int64_t row, const std::string& state, const std::string& outcome,
            bool counts = true) {
    store::AttemptRecord attempt;
    attempt.row_id = row;
    attempt.started_at = store::now_iso8601();
    attempt.outcome = outcome;
    store::RowUpdate update;
    update.row_id = row;
    update.state = state;
    update.counts_as_attempt = counts;
    if (state == "failed") {
        update.error_class = "validation";
        update.error_message = "bad";
    }
    db.record(attempt, update);
}

std::vector<std::int64_t> lines_of(const std::vector<store::LeasedRow>& rows) {
    std::vector<std::int64_t> lines;
    for (const auto& row : rows) {
        lines.push_back(row.line);
    }
    return lines;
}

struct TempFile {
    std::string path = (std::filesystem::temp_directory_path() /
                        ("onboard-store-test-" + std::to_string(getpid()) + ".db"))
                           .string();
    ~TempFile() {
        for (const char* suffix : {"", "-wal", "-shm"}) {
            std::filesystem::remove(path + suffix);
        }
    }
};

} // namespace

TEST_CASE("a new database is migrated to the newest schema and reopening keeps its data", "[store]") {
    TempFile file;
    std::int64_t import_id = 0;
    {
        Store db(file.path);
        CHECK(db.schema_version() == 9);
        import_id = db.create_import(info("a.csv", "sha-a"));
        REQUIRE(db.queue_row(import_id, new_row(2, "Ada", "C-1")).accepted);
        db.finish_import(import_id, db.import_counts(import_id));
    }
    Store again(file.path, store::OpenMode::read_only);
    CHECK(again.schema_version() == 9);
    CHECK(again.find_import_by_sha256("sha-a") == import_id);
    CHECK(again.import_finished(import_id));
    CHECK(column(again, "SELECT name || '/' || external_id || '/' || state || '/' || inputs FROM rows_full") ==
          "Ada/C-1/pending/{\"name\":\"Ada\",\"externalId\":\"C-1\"}");
}

TEST_CASE("a row stores inputs and source only when they say more than its name and externalId", "[store]") {
    Store db(":memory:");
    const auto id = db.create_import(info("a.csv", "sha-a"));
    REQUIRE(db.queue_row(id, new_row(2, "Ada", "C-1")).accepted);
    REQUIRE(db.queue_row(id, new_row(3, "Bob", std::nullopt)).accepted);
    store::NewRow padded = new_row(4, "Cy", "C-4");
    padded.source = {" Cy ", "C-4"};
    REQUIRE(db.queue_row(id, padded).accepted);
    store::NewRow more = new_row(5, "Di", "C-5");
    more.inputs.set("seats", 3);
    more.source = {"Di", "C-5", "3"};
    REQUIRE(db.queue_row(id, more).accepted);
    store::NewRow swapped = new_row(6, "Ed", "C-6");
    swapped.inputs = core::Json::object();
    swapped.inputs.set("externalId", "C-6");
    swapped.inputs.set("name", "Ed");
    swapped.source = {"C-6", "Ed"};
    REQUIRE(db.queue_row(id, swapped).accepted);
    db.reject_row(id, 7, {"", ""}, core::Json::object(), "column \"name\" is empty");

    auto stored = [&](int line) {
        return column(db, "SELECT COALESCE(inputs, 'NULL') || ' ' || COALESCE(source, 'NULL') FROM rows WHERE line = " +
                              std::to_string(line));
    };
    CHECK(stored(2) == "NULL NULL");
    CHECK(stored(3) == "NULL NULL");
    CHECK(stored(4) == "NULL [\" Cy \",\"C-4\"]");
    CHECK(stored(5) == "{\"name\":\"Di\",\"externalId\":\"C-5\",\"seats\":3} [\"Di\",\"C-5\",\"3\"]");
    CHECK(stored(6) == "{\"externalId\":\"C-6\",\"name\":\"Ed\"} [\"C-6\",\"Ed\"]");
    CHECK(stored(7) == "NULL NULL");

    auto full = [&](int line) {
        return column(db, "SELECT inputs || ' ' || source FROM rows_full WHERE line = " + std::to_string(line));
    };
    CHECK(full(2) == "{\"name\":\"Ada\",\"externalId\":\"C-1\"} [\"Ada\",\"C-1\"]");
    CHECK(full(3) == "{\"name\":\"Bob\"} [\"Bob\",\"\"]");
    CHECK(full(4) == "{\"name\":\"Cy\",\"externalId\":\"C-4\"} [\" Cy \",\"C-4\"]");
    CHECK(full(7) == "{} [\"\",\"\"]");

    const auto run = db.begin_run("me", "http://127.0.0.1:1", 1, 10);
    std::vector<store::LeasedRow> rows;
    db.lease_batch(run, "me", 10, 1000, 60, std::nullopt, rows);
    REQUIRE(rows.size() == 5);
    CHECK(rows[0].inputs.dump() == "{\"name\":\"Ada\",\"externalId\":\"C-1\"}");
    CHECK(rows[1].inputs.dump() == "{\"name\":\"Bob\"}");
    CHECK(rows[3].inputs.dump() == "{\"name\":\"Di\",\"externalId\":\"C-5\",\"seats\":3}");
}

TEST_CASE("a version 6 database keeps its rows, their history and links when migrated to the newest", "[store]") {
    TempFile file;
    {
        SQLite::Database old(file.path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
        for (const auto& migration : store::k_migrations) {
            if (migration.version <= 6) {
                old.exec(std::string(migration.sql));
            }
        }
        old.exec("PRAGMA user_version=6");
        old.exec("INSERT INTO imports (id, file_name, file_size, sha256, columns, mapping, delimiter, imported_at) "
                 "VALUES (1, 'a.csv', 1, 'sha-a', '[\"name\"]', '{}', ',', 'now')");
        old.exec("INSERT INTO rows (id, import_id, line, state, name, inputs, source, updated_at) VALUES "
                 "(1, 1, 2, 'superseded', 'Ada', '{\"name\":\"Ada\"}', '[\"Ada\"]', 'now'), "
                 "(2, 1, 3, 'pending', 'Ada', '{\"name\":\"Ada\"}', '[\"Ada\"]', 'now')");
        old.exec("UPDATE rows SET supersedes = 1 WHERE id = 2");
        old.exec("INSERT INTO runs (id, owner, started_at, api_url, workers, batch_size) VALUES (1, 'o', 'now', 'u', 1, 1)");
        old.exec("INSERT INTO attempts (row_id, run_id, number, started_at, duration_ms, outcome) "
                 "VALUES (1, 1, 1, 'now', 1, 'failed')");
    }
    Store db(file.path);
    CHECK(db.schema_version() == 9);
    CHECK(column(db, "SELECT group_concat(id || ':' || state || ':' || COALESCE(supersedes, '-') || ':' || inputs "
                     "|| source, ' ') FROM rows") ==
          "1:superseded:-:{\"name\":\"Ada\"}[\"Ada\"] 2:pending:1:{\"name\":\"Ada\"}[\"Ada\"]");
    CHECK(column(db, "SELECT count(*) FROM history WHERE row_id = 1") == "1");
    CHECK(column(db, "SELECT count(*) FROM pragma_foreign_key_check") == "0");
    CHECK(column(db, "SELECT count(*) FROM sqlite_master WHERE tbl_name = 'rows' AND type = 'index'") == "9");
    CHECK(column(db, "SELECT group_concat(id || ':' || live, ' ') FROM rows") == "1:0 2:1");
    // The unique index on live names was rebuilt: a second live Ada is refused.
    CHECK_FALSE(db.queue_row(1, new_row(4, "Ada", std::nullopt)).accepted);
}

TEST_CASE("a read-only open of a missing database names it", "[store]") {
    CHECK_THROWS_WITH(Store("/nonexistent/x.db", store::OpenMode::read_only),
                      "/nonexistent/x.db: no such database (run `onboard import` first)");
}

TEST_CASE("an import is unfinished until finish_import and knows its last line", "[store]") {
    Store db(":memory:");
    const auto id = db.create_import(info("a.csv", "sha"));
    CHECK_FALSE(db.find_import_by_sha256("other"));
    CHECK_FALSE(db.import_finished(id));
    CHECK(db.last_line(id) == 0);
    db.queue_row(id, new_row(2, "A", std::nullopt));
    db.reject_row(id, 5, {"x"}, core::Json::object(), "too few fields (1, header has 2)");
    CHECK(db.last_line(id) == 5);
    db.finish_import(id, store::ImportCounts{2, 1, 1, 0, 0});
    CHECK(db.import_finished(id));
    CHECK(column(db, "SELECT records || accepted || rejected FROM imports") == "211");
}

TEST_CASE("a second live row with the same externalId is refused, naming the first", "[store]") {
    Store db(":memory:");
    const auto first = db.create_import(info("a.csv", "sha-a"));
    REQUIRE(db.queue_row(first, new_row(2, "Ada", "C-1")).accepted);
    const auto second = db.create_import(info("b.csv", "sha-b"));
    const auto result = db.queue_row(second, new_row(7, "Bo", "C-1"));
    CHECK_FALSE(result.accepted);
    CHECK(result.duplicate_field == "externalId");
    CHECK(result.first_line == 2);
    CHECK(result.first_import_id == first);
    CHECK(result.first_file_name == "a.csv");
    CHECK(column(db, "SELECT COUNT(*) FROM rows") == "1");
}

TEST_CASE("externalId is checked before name", "[store]") {
    Store db(":memory:");
    const auto id = db.create_import(info("a.csv", "sha"));
    REQUIRE(db.queue_row(id, new_row(2, "Ada", "C-1")).accepted);
    REQUIRE(db.queue_row(id, new_row(3, "Bo", "C-2")).accepted);
    const auto both = db.queue_row(id, new_row(4, "Ada", "C-2"));
    CHECK(both.duplicate_field == "externalId");
    CHECK(both.first_line == 3);
    const auto by_name = db.queue_row(id, new_row(5, "Ada", "C-9"));
    CHECK(by_name.duplicate_field == "name");
    CHECK(by_name.first_line == 2);
}

TEST_CASE("rows without externalId never collide on it", "[store]") {
    Store db(":memory:");
    const auto id = db.create_import(info("a.csv", "sha"));
    CHECK(db.queue_row(id, new_row(2, "Ada", std::nullopt)).accepted);
    CHECK(db.queue_row(id, new_row(3, "Bo", std::nullopt)).accepted);
}

TEST_CASE("rejected rows do not compete for keys", "[store]") {
    Store db(":memory:");
    const auto id = db.create_import(info("a.csv", "sha"));
    core::Json inputs = core::Json::object();
    inputs.set("name", "Ada");
    db.reject_row(id, 2, {"Ada", ""}, inputs, "column \"x\" is empty");
    CHECK(db.queue_row(id, new_row(3, "Ada", "C-1")).accepted);
    CHECK(column(db, "SELECT name || '/' || error_class || '/' || error_message FROM rows WHERE line = 2") ==
          "Ada/invalid_input/column \"x\" is empty");
}

TEST_CASE("a failed row is superseded by a new row with the same key", "[store]") {
    Store db(":memory:");
    const auto run = db.begin_run("me", "http://127.0.0.1:1", 1, 10);
    const auto first = db.create_import(info("a.csv", "sha-a"));
    REQUIRE(db.queue_row(first, new_row(2, "Ada", "C-1")).accepted);
    std::vector<store::LeasedRow> rows;
    db.lease_batch(run, "me", 10, 1000, 60, std::nullopt, rows);
    finish(db, rows.at(0).id, "failed", "failed");
    const auto second = db.create_import(info("b.csv", "sha-b"));
    const auto result = db.queue_row(second, new_row(4, "Ada Fixed", "C-1"));
    CHECK(result.accepted);
    CHECK(result.superseded_failed_row);
    CHECK(column(db, "SELECT state FROM rows WHERE import_id = " + std::to_string(first)) == "superseded");
    CHECK(column(db, "SELECT supersedes FROM rows WHERE import_id = " + std::to_string(second)) ==
          std::to_string(rows.at(0).id));
    CHECK(db.import_counts(second).superseded == 1);
    CHECK(column(db, "SELECT count(*) FROM rows WHERE live <> (state <> 'rejected' AND state <> 'superseded')") == "0");
}

TEST_CASE("a row's state change leaves the name and externalId uniqueness indexes alone", "[store]") {
    // They are partial on `live`, not on state: a run's two updates per row do not rewrite them.
    Store db(":memory:");
    auto opens_for_write = [&](const std::string& sql, const std::string& index) {
        const auto root = column(db, "SELECT rootpage FROM sqlite_master WHERE name = '" + index + "'");
        SQLite::Statement program(db.database(), "EXPLAIN " + sql);
        while (program.executeStep()) {
            if (program.getColumn(1).getString() == "OpenWrite" && program.getColumn(3).getString() == root) {
                return true;
            }
        }
        return false;
    };
    for (const std::string index : {"rows_live_name", "rows_live_external_id"}) {
        CHECK_FALSE(opens_for_write("UPDATE rows SET state = 'succeeded', customer_id = 'c' WHERE id = 1", index));
        CHECK(opens_for_write("UPDATE rows SET state = 'superseded', live = 0 WHERE id = 1", index));
    }
}

TEST_CASE("a succeeded row is never superseded", "[store]") {
    Store db(":memory:");
    const auto run = db.begin_run("me", "http://127.0.0.1:1", 1, 10);
    const auto id = db.create_import(info("a.csv", "sha"));
    REQUIRE(db.queue_row(id, new_row(2, "Ada", "C-1")).accepted);
    std::vector<store::LeasedRow> rows;
    db.lease_batch(run, "me", 10, 1000, 60, std::nullopt, rows);
    finish(db, rows.at(0).id, "succeeded", "succeeded");
    const auto result = db.queue_row(id, new_row(3, "Ada", "C-1"));
    CHECK_FALSE(result.accepted);
    CHECK(result.duplicate_field == "externalId");
}

TEST_CASE("leasing takes unknown and expired rows first, then pending rows in import and line order", "[store]") {
    Store db(":memory:");
    const auto run = db.begin_run("me", "http://127.0.0.1:1", 1, 10);
    const auto a = db.create_import(info("a.csv", "sha-a"));
    const auto b = db.create_import(info("b.csv", "sha-b"));
    db.queue_row(b, new_row(2, "B2", std::nullopt));
    db.queue_row(a, new_row(3, "A3", std::nullopt));
    db.queue_row(a, new_row(2, "A2", std::nullopt));
    db.queue_row(b, new_row(9, "B9", std::nullopt));
    std::vector<store::LeasedRow> rows;
    // An owner that then crashes leases the first row (a.csv line 2) until 1010 and sends its create.
    const auto crashed_batch = db.lease_batch(run, "crashed", 1, 1000, 10, std::nullopt, rows);
    REQUIRE(lines_of(rows) == std::vector<std::int64_t>{2});
    CHECK(rows[0].import_id == a);
    store::AttemptRecord sending;
    sending.row_id = rows[0].id;
    sending.run_id = run;
    sending.batch_id = crashed_batch;
    db.record_sending(sending);
    const auto batch = db.lease_batch(run, "me", 10, 1005, 60, std::nullopt, rows);
    CHECK(batch > 0);
    CHECK(lines_of(rows) == std::vector<std::int64_t>{3, 2, 9});
    CHECK(rows[0].import_id == a);
    CHECK_FALSE(rows[0].outcome_unknown);
    CHECK(column(db, "SELECT rows FROM batches WHERE id = " + std::to_string(batch)) == "3");
    // At 1011 the crashed owner's lease (expired at 1010) is taken over and flagged unknown.
    const auto takeover = db.lease_batch(run, "me", 10, 1011, 60, std::nullopt, rows);
    CHECK(takeover > batch);
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].line == 2);
    CHECK(rows[0].import_id == a);
    CHECK(rows[0].outcome_unknown);
    CHECK(rows[0].attempts == 1); // the create the crashed owner wrote ahead now counts
    CHECK(column(db, "SELECT attempts FROM rows WHERE id = " + std::to_string(rows[0].id)) == "1");
    CHECK(rows[0].inputs.dump() == "{\"name\":\"A2\"}");
    CHECK(db.lease_batch(run, "me", 10, 1012, 60, std::nullopt, rows) == 0);
    CHECK(rows.empty());
}

TEST_CASE("an expired lease whose create was never sent is taken over as safe to send", "[store]") {
    Store db(":memory:");
    const auto run = db.begin_run("me", "http://127.0.0.1:1", 1, 10);
    const auto id = db.create_import(info("a.csv", "sha"));
    db.queue_row(id, new_row(2, "A", std::nullopt));
    std::vector<store::LeasedRow> rows;
    db.lease_batch(run, "crashed", 1, 1000, 10, std::nullopt, rows);
    db.lease_batch(run, "me", 10, 1011, 60, std::nullopt, rows);
    REQUIRE(rows.size() == 1);
    CHECK_FALSE(rows[0].outcome_unknown);
    CHECK_FALSE(rows[0].sent_before);
}

TEST_CASE("a create is recorded before it is sent and completed when its answer comes", "[store]") {
    Store db(":memory:");
    const auto run = db.begin_run("me", "http://127.0.0.1:1", 1, 10);
    const auto id = db.create_import(info("a.csv", "sha"));
    db.queue_row(id, new_row(2, "A", std::nullopt));
    std::vector<store::LeasedRow> rows;
    const auto batch = db.lease_batch(run, "me", 1, 1000, 60, std::nullopt, rows);
    store::AttemptRecord attempt;
    attempt.row_id = rows[0].id;
    attempt.run_id = run;
    attempt.batch_id = batch;
    attempt.started_at = "2026-12-04T00:00:00.000Z";
    attempt.id = db.record_sending(attempt);
    // Until the answer is recorded the history says what is known: sent, outcome unknown.
    CHECK(column(db, "SELECT number || ' ' || outcome || ' ' || duration_ms FROM attempts") == "1 outcome_unknown 0.0");
    // The row is not touched: the open attempt is the one numbered past rows.attempts.
    CHECK(column(db, "SELECT attempts || ' ' || state FROM rows") == "0 in_flight");
    attempt.outcome = "succeeded";
    attempt.duration_ms = 12.5;
    attempt.http_status = 200;
    attempt.customer_id = "c-1";
    store::RowUpdate update;
    update.row_id = rows[0].id;
    update.state = "succeeded";
    update.customer_id = "c-1";
    db.record(attempt, update);
    CHECK(column(db, "SELECT count(*) || ' ' || number || ' ' || outcome || ' ' || http_status || ' ' || customer_id "
                     "FROM attempts") == "1 1 succeeded 200 c-1");
    CHECK(column(db, "SELECT attempts || ' ' || state || ' ' || lease_unknown FROM rows") == "1 succeeded 0");
}

TEST_CASE("a create written ahead early starts when it is sent; one never sent leaves no attempt", "[store]") {
    Store db(":memory:");
    const auto run = db.begin_run("me", "http://127.0.0.1:1", 1, 10);
    const auto id = db.create_import(info("a.csv", "sha"));
    db.queue_row(id, new_row(2, "A", std::nullopt));
    db.queue_row(id, new_row(3, "B", std::nullopt));
    std::vector<store::LeasedRow> rows;
    const auto batch = db.lease_batch(run, "me", 2, 1000, 60, std::nullopt, rows);
    store::AttemptRecord sent;
    sent.row_id = rows[0].id;
    sent.run_id = run;
    sent.batch_id = batch;
    sent.started_at = "2026-12-04T00:00:00.000Z";
    sent.id = db.record_sending(sent);
    store::AttemptRecord unsent = sent;
    unsent.row_id = rows[1].id;
    unsent.id = db.record_sending(unsent);
    sent.started_at = "2026-12-04T00:00:01.500Z"; // when the request went out
    sent.outcome = "succeeded";
    sent.duration_ms = 3;
    store::RowUpdate update;
    update.row_id = rows[0].id;
    update.state = "succeeded";
    db.record(sent, update);
    db.cancel_sending(unsent.id);
    CHECK(column(db, "SELECT group_concat(row_id || ' ' || number || ' ' || outcome || ' ' || started_at) "
                     "FROM attempts") == std::to_string(rows[0].id) + " 1 succeeded 2026-12-04T00:00:01.500Z");
    // A completed attempt is history: cancelling it changes nothing.
    db.cancel_sending(sent.id);
    CHECK(column(db, "SELECT count(*) FROM attempts") == "1");
    CHECK(column(db, "SELECT group_concat(attempts || ' ' || state, ', ') FROM rows ORDER BY line") ==
          "1 succeeded, 0 in_flight");
}

TEST_CASE("outcome_unknown rows are leased before pending rows and flagged", "[store]") {
    Store db(":memory:");
    const auto run = db.begin_run("me", "http://127.0.0.1:1", 1, 10);
    const auto id = db.create_import(info("a.csv", "sha"));
    db.queue_row(id, new_row(2, "A", std::nullopt));
    db.queue_row(id, new_row(3, "B", std::nullopt));
    std::vector<store::LeasedRow> rows;
    db.lease_batch(run, "me", 1, 1000, 60, std::nullopt, rows);
    finish(db, rows.at(0).id, "outcome_unknown", "outcome_unknown");
    db.queue_row(id, new_row(1, "C", std::nullopt));
    db.lease_batch(run, "me", 10, 1001, 60, std::nullopt, rows);
    CHECK(lines_of(rows) == std::vector<std::int64_t>{2, 1, 3});
    CHECK(rows[0].outcome_unknown);
    CHECK(rows[0].attempts == 1);
    CHECK(rows[0].sent_before);
    CHECK_FALSE(rows[1].outcome_unknown);
    CHECK_FALSE(rows[1].sent_before);
}

TEST_CASE("pending rows wait for their next_attempt_at and the import filter holds", "[store]") {
    Store db(":memory:");
    const auto run = db.begin_run("me", "http://127.0.0.1:1", 1, 10);
    const auto a = db.create_import(info("a.csv", "sha-a"));
    const auto b = db.create_import(info("b.csv", "sha-b"));
    db.queue_row(a, new_row(2, "A", std::nullopt));
    db.queue_row(b, new_row(2, "B", std::nullopt));
    std::vector<store::LeasedRow> rows;
    db.lease_batch(run, "me", 1, 1000, 60, a, rows);
    REQUIRE(rows.size() == 1);
    store::AttemptRecord attempt;
    attempt.outcome = "retry";
    store::RowUpdate update;
    update.row_id = rows[0].id;
    update.state = "pending";
    update.next_attempt_at = 1100.0;
    db.record(attempt, update);
    CHECK(db.next_due_time(a) == 1100.0);
    CHECK_FALSE(db.next_due_time(b));
    CHECK(db.lease_batch(run, "me", 10, 1050, 60, a, rows) == 0);
    db.lease_batch(run, "me", 10, 1100, 60, a, rows);
    CHECK(lines_of(rows) == std::vector<std::int64_t>{2});
    CHECK(rows[0].import_id == a);
    CHECK(rows[0].attempts == 1);
}

TEST_CASE("record numbers attempts, stores the outcome and clears the lease", "[store]") {
    Store db(":memory:");
    const auto run = db.begin_run("me", "http://127.0.0.1:1", 1, 10);
    const auto id = db.create_import(info("a.csv", "sha"));
    db.queue_row(id, new_row(2, "A", std::nullopt));
    std::vector<store::LeasedRow> rows;
    const auto batch = db.lease_batch(run, "me", 10, 1000, 60, std::nullopt, rows);
    const auto row = rows.at(0).id;
    finish(db, row, "outcome_unknown", "outcome_unknown");
    db.lease_batch(run, "me", 10, 1001, 60, std::nullopt, rows);
    store::AttemptRecord lookup;
    lookup.row_id = row;
    lookup.run_id = run;
    lookup.batch_id = batch;
    lookup.kind = "reconcile";
    lookup.started_at = "2026-01-01T00:00:00.000Z";
    lookup.duration_ms = 12.5;
    lookup.http_status = 200;
    lookup.outcome = "reconciled";
    lookup.customer_id = "Q3VzdG9tZXI6MQ==";
    store::RowUpdate update;
    update.row_id = row;
    update.state = "succeeded";
    update.customer_id = "Q3VzdG9tZXI6MQ==";
    update.outputs = core::Json::object();
    update.outputs.set("customerId", "Q3VzdG9tZXI6MQ==");
    update.reconciled = true;
    update.counts_as_attempt = false;
    db.record(lookup, update);
    CHECK(column(db, "SELECT group_concat(number || ':' || kind || ':' || outcome || ':' || COALESCE(http_status, "
                     "'-') || ':' || COALESCE(run_id, '-'), ' ') FROM attempts") ==
          "1:create:outcome_unknown:-:- 1:reconcile:reconciled:200:" + std::to_string(run));
    CHECK(column(db, "SELECT state || '/' || attempts || '/' || customer_id || '/' || outputs || '/' || reconciled || "
                     "'/' || COALESCE(lease_owner, 'none') || '/' || COALESCE(error_class, 'none') FROM rows") ==
          "succeeded/1/Q3VzdG9tZXI6MQ==/{\"customerId\":\"Q3VzdG9tZXI6MQ==\"}/1/none/none");
}

TEST_CASE("record refuses an unknown row", "[store]") {
    Store db(":memory:");
    store::AttemptRecord attempt;
    attempt.outcome = "failed";
    store::RowUpdate update;
    update.row_id = 42;
    update.state = "failed";
    CHECK_THROWS_WITH(db.record(attempt, update), "record attempt: no row 42");
}

TEST_CASE("released leases go back to pending, or to outcome_unknown when leased as unknown", "[store]") {
    Store db(":memory:");
    const auto run = db.begin_run("me", "http://127.0.0.1:1", 1, 10);
    const auto id = db.create_import(info("a.csv", "sha"));
    db.queue_row(id, new_row(2, "A", std::nullopt));
    db.queue_row(id, new_row(3, "B", std::nullopt));
    std::vector<store::LeasedRow> rows;
    db.lease_batch(run, "me", 1, 1000, 60, std::nullopt, rows);
    finish(db, rows.at(0).id, "outcome_unknown", "outcome_unknown");
    db.lease_batch(run, "me", 10, 1001, 60, std::nullopt, rows);
    REQUIRE(rows.size() == 2);
    db.lease_batch(run, "other", 10, 1001, 60, std::nullopt, rows);
    CHECK(rows.empty());
    db.release_leases("me");
    CHECK(column(db, "SELECT group_concat(line || ':' || state || ':' || COALESCE(lease_owner, '-'), ' ') FROM "
                     "(SELECT * FROM rows ORDER BY line)") == "2:outcome_unknown:- 3:pending:-");
}

TEST_CASE("extending leases keeps rows from being taken over", "[store]") {
    Store db(":memory:");
    const auto run = db.begin_run("me", "http://127.0.0.1:1", 1, 10);
    const auto id = db.create_import(info("a.csv", "sha"));
    db.queue_row(id, new_row(2, "A", std::nullopt));
    std::vector<store::LeasedRow> rows;
    db.lease_batch(run, "me", 10, 1000, 10, std::nullopt, rows);
    db.extend_leases("me", 2000);
    CHECK(db.lease_batch(run, "other", 10, 1500, 10, std::nullopt, rows) == 0);
    CHECK(db.lease_batch(run, "other", 10, 2001, 10, std::nullopt, rows) > 0);
    CHECK(rows.size() == 1);
}

TEST_CASE("the rows left to do are pending, in flight or of unknown outcome, per import or in all", "[store]") {
    Store db(":memory:");
    const auto run = db.begin_run("me", "http://127.0.0.1:1", 1, 10);
    const auto a = db.create_import(info("a.csv", "sha-a"));
    for (int line = 2; line <= 6; ++line) {
        db.queue_row(a, new_row(line, "A" + std::to_string(line), std::nullopt));
    }
    db.reject_row(a, 7, {}, core::Json::object(), "x");
    const auto b = db.create_import(info("b.csv", "sha-b"));
    db.queue_row(b, new_row(2, "C", std::nullopt));
    std::vector<store::LeasedRow> rows;
    db.lease_batch(run, "me", 3, 1000, 60, a, rows);
    REQUIRE(rows.size() == 3);
    finish(db, rows.at(0).id, "succeeded", "succeeded"); // done
    finish(db, rows.at(1).id, "failed", "failed");       // done
    db.database().exec("UPDATE rows SET state = 'outcome_unknown', lease_owner = NULL WHERE id = " +
                       std::to_string(rows.at(2).id));
    db.lease_batch(run, "me", 1, 1000, 60, a, rows); // one more of a in flight
    // a: 1 outcome_unknown + 1 in flight + 1 pending (the rejected and the finished rows are not left).
    CHECK(db.rows_left(a) == 3);
    CHECK(db.rows_left(b) == 1);
    CHECK(db.rows_left(std::nullopt) == 4);
    CHECK(db.rows_left(99) == 0);
}

TEST_CASE("import counts are recounted from the rows", "[store]") {
    Store db(":memory:");
    const auto id = db.create_import(info("a.csv", "sha"));
    db.queue_row(id, new_row(2, "A", "C-1"));
    db.reject_row(id, 3, {}, core::Json::object(), "duplicate externalId C-1 (first at line 2)");
    db.reject_row(id, 4, {}, core::Json::object(), "column \"name\" is empty");
    const auto counts = db.import_counts(id);
    CHECK(counts.records == 3);
    CHECK(counts.accepted == 1);
    CHECK(counts.rejected == 2);
    CHECK(counts.duplicates == 1);
    CHECK(counts.superseded == 0);
}

TEST_CASE("runs are recorded with their final status", "[store]") {
    Store db(":memory:");
    const auto run = db.begin_run("host:1:2", "http://127.0.0.1:8080", 4, 50);
    db.finish_run(run, "interrupted");
    CHECK(column(db, "SELECT owner || '/' || workers || '/' || batch_size || '/' || status || '/' || "
                     "(finished_at IS NOT NULL) FROM runs") == "host:1:2/4/50/interrupted/1");
}

TEST_CASE("looking up a live externalId uses its partial unique index", "[store]") {
    Store db(":memory:");
    SQLite::Statement plan(db.database(),
                           "EXPLAIN QUERY PLAN SELECT r.id FROM rows r WHERE r.external_id = 'x' "
                           "AND r.live = 1");
    REQUIRE(plan.executeStep());
    CHECK(plan.getColumn(3).getString() == "SEARCH r USING INDEX rows_live_external_id (external_id=?)");
}

TEST_CASE("a fixed row supersedes the rejected original of an earlier import", "[store]") {
    Store db(":memory:");
    const auto first = db.create_import(info("a.csv", "sha-a"));
    core::Json inputs = core::Json::object();
    inputs.set("externalId", "C-9");
    db.reject_row(first, 4, {"", "C-9"}, inputs, "column \"name\" is empty");
    inputs = core::Json::object();
    inputs.set("name", "Short Co");
    db.reject_row(first, 5, {"Short Co"}, inputs, "too few fields (1, header has 2)");
    db.reject_row(first, 6, {"x"}, core::Json::object(), "stray quote in unquoted field 1");
    const auto second = db.create_import(info("fixed.csv", "sha-b"));
    CHECK(db.queue_row(second, new_row(2, "Nine Co", "C-9")).superseded_failed_row);
    CHECK(db.queue_row(second, new_row(3, "Short Co", "C-10")).superseded_failed_row);
    CHECK_FALSE(db.queue_row(second, new_row(4, "Other Co", "C-11")).superseded_failed_row);
    CHECK(column(db, "SELECT group_concat(line || ' ' || state, ', ') FROM rows WHERE import_id = " +
                         std::to_string(first)) == "4 superseded, 5 superseded, 6 rejected");
    CHECK(column(db, "SELECT group_concat(n.line || '>' || o.line, ', ') FROM rows n JOIN rows o ON o.id = n.supersedes") ==
          "2>4, 3>5");
    CHECK(column(db, "SELECT count(*) FROM rows WHERE live <> (state <> 'rejected' AND state <> 'superseded')") == "0");
}

TEST_CASE("a requeued row counts its attempt allowance from the retry", "[store]") {
    Store db(":memory:");
    const auto run = db.begin_run("me", "http://127.0.0.1:1", 1, 10);
    const auto id = db.create_import(info("a.csv", "sha"));
    db.queue_row(id, new_row(2, "A", std::nullopt));
    db.database().exec("UPDATE rows SET state = 'failed', attempts = 5");
    std::vector<store::LeasedRow> rows;
    db.database().exec("UPDATE rows SET state = 'pending', attempts_before_retry = attempts");
    db.lease_batch(run, "me", 1, 1000, 60, std::nullopt, rows);
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].attempts == 0);
}

TEST_CASE("a requeued row is known to have been sent before, though its allowance starts again", "[store]") {
    Store db(":memory:");
    const auto run = db.begin_run("me", "http://127.0.0.1:1", 1, 10);
    const auto id = db.create_import(info("a.csv", "sha"));
    db.queue_row(id, new_row(2, "A", std::nullopt));
    db.queue_row(id, new_row(3, "B", std::nullopt));
    std::vector<store::LeasedRow> rows;
    db.lease_batch(run, "me", 2, 1000, 60, std::nullopt, rows);
    REQUIRE(rows.size() == 2);
    CHECK_FALSE(rows[0].sent_before);
    finish(db, rows[0].id, "failed", "failed");
    db.release_leases("me");
    db.database().exec("UPDATE rows SET state = 'pending', attempts_before_retry = attempts WHERE state = 'failed'");
    db.lease_batch(run, "me", 2, 1001, 60, std::nullopt, rows);
    REQUIRE(lines_of(rows) == std::vector<std::int64_t>{2, 3});
    CHECK(rows[0].attempts == 0);
    CHECK(rows[0].sent_before);
    CHECK_FALSE(rows[1].sent_before);
}

TEST_CASE("only a create that may have made the customer counts as sent before, and from another run as created "
          "elsewhere",
          "[store]") {
    Store db(":memory:");
    const auto run = db.begin_run("me", "http://127.0.0.1:1", 1, 10);
    const auto other = db.begin_run("them", "http://127.0.0.1:1", 1, 10);
    const auto id = db.create_import(info("a.csv", "sha"));
    db.queue_row(id, new_row(2, "Taken", std::nullopt));
    db.queue_row(id, new_row(3, "Open", std::nullopt));
    std::vector<store::LeasedRow> rows;
    db.lease_batch(run, "me", 2, 1000, 60, std::nullopt, rows);
    REQUIRE(rows.size() == 2);
    // "Already exists": that create made nothing.
    store::AttemptRecord refused;
    refused.row_id = rows[0].id;
    refused.run_id = run;
    refused.started_at = store::now_iso8601();
    refused.outcome = "failed";
    refused.error_class = "duplicate";
    store::RowUpdate failed;
    failed.row_id = rows[0].id;
    failed.state = "failed";
    failed.error_class = "duplicate";
    db.record(refused, failed);
    // Another run's create written ahead for the second row, its answer never recorded.
    store::AttemptRecord sending;
    sending.row_id = rows[1].id;
    sending.run_id = other;
    db.record_sending(sending);
    CHECK_FALSE(db.created_elsewhere(rows[0].id, other));
    CHECK(db.created_elsewhere(rows[1].id, run));
    CHECK_FALSE(db.created_elsewhere(rows[1].id, other));
    db.release_leases("me");
    db.database().exec("UPDATE rows SET state = 'pending', attempts_before_retry = attempts WHERE state = 'failed'");
    db.lease_batch(run, "me", 2, 1001, 60, std::nullopt, rows);
    REQUIRE(lines_of(rows) == std::vector<std::int64_t>{2, 3});
    CHECK_FALSE(rows[0].sent_before); // a retry of a row refused as a duplicate is not ours to find
    CHECK(rows[1].sent_before);
}

TEST_CASE("the writer runs work on a thread of its own and collect waits for it", "[store][writer]") {
    Store store(":memory:");
    std::atomic<int> done_calls{0};
    store::Writer writer(store, [&] { ++done_calls; });
    CHECK_FALSE(writer.busy());
    writer.collect(); // nothing started: no wait, no error
    std::thread::id worked_on;
    std::int64_t run_id = 0;
    writer.start([&](Store& target) {
        worked_on = std::this_thread::get_id();
        run_id = target.begin_run("host:1:2", "http://127.0.0.1:1", 4, 10);
    });
    CHECK(writer.busy());
    writer.collect();
    CHECK_FALSE(writer.busy());
    CHECK(writer.finished());
    CHECK(worked_on != std::this_thread::get_id());
    CHECK(run_id == 1);
    CHECK(done_calls == 1);
    // The store is the caller's again: what the writer wrote is there.
    CHECK(store.database().execAndGet("SELECT owner FROM runs").getString() == "host:1:2");
}

TEST_CASE("the writer's error is rethrown by collect, and it takes more work after", "[store][writer]") {
    Store store(":memory:");
    store::Writer writer(store, {});
    writer.start([](Store&) { throw StoreError("record attempt: no row 7"); });
    CHECK_THROWS_WITH(writer.collect(), "record attempt: no row 7");
    CHECK_FALSE(writer.busy());
    int runs = 0;
    writer.start([&](Store&) { ++runs; });
    writer.collect();
    CHECK(runs == 1);
}

TEST_CASE("the writer reports its work finished before it is collected", "[store][writer]") {
    Store store(":memory:");
    std::mutex gate;
    std::unique_lock hold(gate);
    store::Writer writer(store, {});
    writer.start([&](Store&) { std::lock_guard wait_for_test(gate); });
    CHECK_FALSE(writer.finished()); // held at the gate
    hold.unlock();
    while (!writer.finished()) {
        std::this_thread::yield();
    }
    CHECK(writer.busy()); // finished, not yet collected
    writer.collect();
    CHECK_FALSE(writer.busy());
}
