#include "cli/report_commands.hpp"
#include "core/error.hpp"
#include "report/queries.hpp"
#include "report/render.hpp"
#include "report/retry.hpp"
#include "report/summary.hpp"
#include "store/store.hpp"

#include <SQLiteCpp/Statement.h>
#include <atomic>
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <unistd.h>

using onboard::core::Json;
using onboard::report::CsvSafety;
using onboard::report::Format;
using onboard::report::RenderOptions;
using onboard::report::ResultSet;
using onboard::store::OpenMode;
using onboard::store::Store;

namespace {

// A database file in the temp folder, removed (with its WAL files) afterwards.
struct TempDb {
    std::string path;
    TempDb() {
        static std::atomic<int> counter{0};
        path = (std::filesystem::temp_directory_path() /
                ("onboard-report-" + std::to_string(getpid()) + "-" + std::to_string(counter++) +
                 ".db"))
                   .string();
    }
    ~TempDb() {
        for (const auto* suffix : {"", "-wal", "-shm", ".out"}) {
            std::filesystem::remove(path + suffix);
        }
    }
};

// The ref column a failed export gives the row at `line` of an import made by add_import(file).
std::string ref(const std::string& file, std::int64_t line) {
    return onboard::store::row_reference("sha-" + file, line);
}

std::int64_t add_import(Store& store, const std::string& file, const std::string& columns) {
    SQLite::Statement insert(
        store.database(),
        "INSERT INTO imports (file_name, file_size, sha256, columns, mapping, delimiter, "
        "imported_at) VALUES (?, 10, ?, ?, '{}', ',', '2026-01-02T03:04:05.000Z')");
    insert.bind(1, file);
    insert.bind(2, "sha-" + file);
    insert.bind(3, columns);
    insert.exec();
    return store.database().getLastInsertRowid();
}

// Inserts a row; `source` is the JSON array of its fields, the name taken from its first field.
std::int64_t add_row(Store& store, std::int64_t import_id, int line, const std::string& state,
                     const std::string& source, const std::string& error_class = "",
                     const std::string& error_message = "", int attempts = 0,
                     const std::string& customer = "") {
    const Json fields = Json::parse(source);
    const std::string name = fields.size() > 0 ? fields.items()[0].as_string() : "";
    const std::string external = fields.size() > 1 ? fields.items()[1].as_string() : "";
    Json inputs = Json::object();
    inputs.set("name", name);
    if (!external.empty()) {
        inputs.set("externalId", external);
    }
    SQLite::Statement insert(
        store.database(),
        "INSERT INTO rows (import_id, line, state, name, external_id, inputs, source, attempts, "
        "error_class, error_message, customer_id, next_attempt_at, updated_at) VALUES "
        "(?, ?, ?, NULLIF(?, ''), NULLIF(?, ''), ?, ?, ?, NULLIF(?, ''), NULLIF(?, ''), "
        "NULLIF(?, ''), 123.0, '2026-01-02T03:05:00.000Z')");
    insert.bind(1, import_id);
    insert.bind(2, line);
    insert.bind(3, state);
    insert.bind(4, name);
    insert.bind(5, external);
    insert.bind(6, inputs.dump());
    insert.bind(7, source);
    insert.bind(8, attempts);
    insert.bind(9, error_class);
    insert.bind(10, error_message);
    insert.bind(11, customer);
    insert.exec();
    return store.database().getLastInsertRowid();
}

void add_attempt(Store& store, std::int64_t row_id, int number, const std::string& started_at,
                 double duration_ms, const std::string& outcome) {
    SQLite::Statement insert(store.database(),
                             "INSERT INTO attempts (row_id, number, started_at, duration_ms, "
                             "outcome) VALUES (?, ?, ?, ?, ?)");
    insert.bind(1, row_id);
    insert.bind(2, number);
    insert.bind(3, started_at);
    insert.bind(4, duration_ms);
    insert.bind(5, outcome);
    insert.exec();
}

std::string scalar(Store& store, const std::string& sql) {
    return store.database().execAndGet(sql).getString();
}

std::string csv(const ResultSet& result, CsvSafety safety = CsvSafety::neutralise) {
    RenderOptions options;
    options.format = Format::csv;
    options.csv_safety = safety;
    return onboard::report::render(result, options);
}

std::string column_of(const ResultSet& result, std::size_t row, const std::string& column) {
    for (std::size_t i = 0; i < result.columns.size(); ++i) {
        if (result.columns[i] == column) {
            return result.rows.at(row).at(i).is_string() ? result.rows[row][i].as_string()
                                                         : result.rows[row][i].dump();
        }
    }
    FAIL("no column " << column);
    return "";
}

const std::string k_awkward_name = "Smith, \"Bob\"\nJr";

// The backquoted names in the first cell of each row of the README table that follows the first
// line starting with `heading`.
std::vector<std::string> readme_table_names(const std::string& heading) {
    std::ifstream readme(ONBOARD_SOURCE_DIR "/README.md");
    std::string line;
    while (std::getline(readme, line) && line.rfind(heading, 0) != 0) {
    }
    std::vector<std::string> names;
    bool in_table = false;
    while (std::getline(readme, line)) {
        if (line.rfind("|", 0) != 0) {
            if (in_table) {
                break;
            }
            continue;
        }
        in_table = true;
        const std::string cell = line.substr(1, line.find('|', 1) - 1);
        for (auto open = cell.find('`'); open != std::string::npos;
             open = cell.find('`', cell.find('`', open + 1) + 1)) {
            names.push_back(cell.substr(open + 1, cell.find('`', open + 1) - open - 1));
        }
    }
    return names;
}

} // namespace

// ---- rendering ----

TEST_CASE("a csv field with a comma, a quote and a line break is quoted with its quotes doubled",
          "[report]") {
    CHECK(onboard::report::csv_field(k_awkward_name) == "\"Smith, \"\"Bob\"\"\nJr\"");
    CHECK(onboard::report::csv_field("plain text") == "plain text");
    CHECK(onboard::report::csv_field("cr\ronly") == "\"cr\ronly\"");
}

TEST_CASE("csv output neutralises every text cell a spreadsheet would run as a formula",
          "[report]") {
    ResultSet result;
    result.columns = {"value", "number"};
    for (const auto* text :
         {"=HYPERLINK(\"http://x\",\"y\")", "+1", "-2", "@SUM(A1)", "\tx", "\rx", "plain"}) {
        result.rows.push_back({Json(text), Json(std::int64_t{-5})});
    }
    CHECK(csv(result) == "value,number\r\n"
                         "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",-5\r\n"
                         "'+1,-5\r\n"
                         "'-2,-5\r\n"
                         "'@SUM(A1),-5\r\n"
                         "'\tx,-5\r\n"
                         "\"'\rx\",-5\r\n"
                         "plain,-5\r\n");
}

TEST_CASE("csv and table cells show infinities as the sqlite3 shell does, not as an empty NULL", "[report]") {
    ResultSet result;
    result.columns = {"big", "small", "none"};
    result.rows.push_back({Json(HUGE_VAL), Json(-HUGE_VAL), Json()});
    CHECK(csv(result) == "big,small,none\r\nInf,-Inf,\r\n");
    CHECK(onboard::report::format_table(result, 0, false).find("Inf") != std::string::npos);
}

TEST_CASE("round-trip csv writes verbatim columns as they are and still neutralises the others",
          "[report]") {
    ResultSet result;
    result.columns = {"name", "error_message"};
    result.verbatim = {true, false};
    result.rows.push_back({Json("=Acme"), Json("-bad value")});
    CHECK(csv(result, CsvSafety::round_trip) == "name,error_message\r\n=Acme,'-bad value\r\n");
    CHECK(csv(result, CsvSafety::neutralise) == "name,error_message\r\n'=Acme,'-bad value\r\n");
}

TEST_CASE("json output keeps value types and names members after the columns", "[report]") {
    ResultSet result;
    result.columns = {"id", "ratio", "name", "missing", "ok", "id"};
    result.rows.push_back({Json(std::int64_t{7}), Json(0.5), Json(k_awkward_name), Json(),
                           Json(true), Json(std::int64_t{8})});
    result.rows.push_back({Json(std::int64_t{9}), Json(1.25), Json("x"), Json(), Json(false),
                           Json(std::int64_t{10})});
    RenderOptions options;
    options.format = Format::json;
    CHECK(
        onboard::report::render(result, options) ==
        "[\n{\"id\":7,\"ratio\":0.5,\"name\":\"Smith, "
        "\\\"Bob\\\"\\nJr\",\"missing\":null,\"ok\":true,\"id_2\":8},\n"
        "{\"id\":9,\"ratio\":1.25,\"name\":\"x\",\"missing\":null,\"ok\":false,\"id_2\":10}\n]\n");
    options.format = Format::jsonl;
    CHECK(onboard::report::render(result, options) ==
          "{\"id\":7,\"ratio\":0.5,\"name\":\"Smith, "
          "\\\"Bob\\\"\\nJr\",\"missing\":null,\"ok\":true,\"id_2\":8}\n"
          "{\"id\":9,\"ratio\":1.25,\"name\":\"x\",\"missing\":null,\"ok\":false,\"id_2\":10}\n");
}

TEST_CASE("json of no rows is an empty array and jsonl of no rows is empty", "[report]") {
    ResultSet result;
    result.columns = {"a"};
    RenderOptions options;
    options.format = Format::json;
    CHECK(onboard::report::render(result, options) == "[]\n");
    options.format = Format::jsonl;
    CHECK(onboard::report::render(result, options).empty());
}

TEST_CASE("a table aligns columns, right-aligns numbers and shows line breaks as a mark",
          "[report]") {
    ResultSet result;
    result.columns = {"id", "name"};
    result.rows.push_back({Json(std::int64_t{1}), Json(k_awkward_name)});
    result.rows.push_back({Json(std::int64_t{22}), Json()});
    CHECK(onboard::report::format_table(result, 0, false) == "id  name\n"
                                                             " 1  Smith, \"Bob\"\xE2\x86\xB5Jr\n"
                                                             "22\n");
}

TEST_CASE("a table cuts the widest cells with an ellipsis so each line fits the width",
          "[report]") {
    ResultSet result;
    result.columns = {"state", "message"};
    result.rows.push_back(
        {Json("failed"), Json("the server refused the name because it is far too long")});
    const std::string table = onboard::report::format_table(result, 30, false);
    CHECK(table == "state   message\n"
                   "failed  the server refused th\xE2\x80\xA6\n");
    std::istringstream lines(table);
    for (std::string line; std::getline(lines, line);) {
        CHECK(onboard::report::display_width(line) <= 30);
    }
}

TEST_CASE("a table too narrow for every column leaves out the dispensable ones first", "[report]") {
    ResultSet result;
    result.columns = {"id", "name", "message", "updated_at"};
    result.drop_order = {3, 0};
    result.rows.push_back({Json(std::int64_t{1}), Json("Acme Holdings International"),
                           Json("name: A customer with this name already exists."),
                           Json("2026-01-02T03:05:00.000Z")});
    CHECK(onboard::report::table_columns(result, 0) == std::vector<std::size_t>{0, 1, 2, 3});
    CHECK(onboard::report::table_columns(result, 120) == std::vector<std::size_t>{0, 1, 2, 3});
    // 2 + 12 + 12 + 12 and three gaps do not fit 40: updated_at goes, and then 30 fits.
    CHECK(onboard::report::table_columns(result, 40) == std::vector<std::size_t>{0, 1, 2});
    CHECK(onboard::report::table_columns(result, 30) == std::vector<std::size_t>{0, 1, 2});
    CHECK(onboard::report::table_columns(result, 29) == std::vector<std::size_t>{1, 2});
    CHECK(onboard::report::format_table(result, 28, false) == "name           message\n"
                                                              "Acme Holding\xE2\x80\xA6  name: "
                                                              "A cust\xE2\x80\xA6\n");
}

TEST_CASE("a table that cannot fit even its narrowest cells leaves columns out from the right",
          "[report]") {
    ResultSet result;
    result.columns = {"first_column", "second_column", "third_column"};
    result.rows.push_back({Json("aaaaaaaaaaaa"), Json("bbbbbbbbbbbb"), Json("cccccccccccc")});
    CHECK(onboard::report::table_columns(result, 14) == std::vector<std::size_t>{0, 1});
    CHECK(onboard::report::format_table(result, 14, false) ==
          "first\xE2\x80\xA6  secon\xE2\x80\xA6\n"
          "aaaaa\xE2\x80\xA6  bbbbb\xE2\x80\xA6\n");
    CHECK(onboard::report::table_columns(result, 3) == std::vector<std::size_t>{0});
}

TEST_CASE("a report table on a narrow terminal keeps line, state, name and the error", "[report]") {
    Store store(":memory:");
    const auto id = add_import(store, "a.csv", R"(["name","externalId"])");
    add_row(store, id, 2, "failed", R"(["Taken Co","C-1"])", "duplicate",
            "name: A customer with this name already exists.", 1);
    const auto result = onboard::report::report_rows(store, {});
    std::vector<std::string> shown;
    for (const auto column : onboard::report::table_columns(result, 60)) {
        shown.push_back(result.columns[column]);
    }
    CHECK(shown ==
          std::vector<std::string>{"line", "state", "name", "error_class", "error_message"});
    std::istringstream lines(onboard::report::format_table(result, 60, false));
    for (std::string line; std::getline(lines, line);) {
        CHECK(onboard::report::display_width(line) <= 60);
    }
}

TEST_CASE("a table header is bold only when colour is asked for", "[report]") {
    ResultSet result;
    result.columns = {"a"};
    CHECK(onboard::report::format_table(result, 0, true) == "\x1b[1ma\x1b[0m\n");
    CHECK(onboard::report::format_table(result, 0, false) == "a\n");
}

TEST_CASE("an unknown format is a usage error naming the command", "[report]") {
    CHECK(onboard::report::parse_format("jsonl", "report") == Format::jsonl);
    REQUIRE_THROWS_AS(onboard::report::parse_format("xml", "report"), onboard::UsageError);
    REQUIRE_THROWS_WITH(onboard::report::parse_format("xml", "report"),
                        "report: unknown format \"xml\" (expected table, csv, json or jsonl)");
}

TEST_CASE("without a terminal the table width comes from COLUMNS, else nothing is cut", "[report]") {
    if (isatty(STDOUT_FILENO) == 1) {
        return; // a terminal's own width wins; this case is about redirected output
    }
    setenv("COLUMNS", "77", 1);
    CHECK(onboard::report::terminal_width() == 77);
    setenv("COLUMNS", "wide", 1);
    CHECK(onboard::report::terminal_width() == 0);
    unsetenv("COLUMNS");
    CHECK(onboard::report::terminal_width() == 0);
}

// ---- documented names ----

TEST_CASE("the failure classes are the README's, in its order", "[report]") {
    const auto documented = readme_table_names("### Failure classes");
    CHECK(documented == std::vector<std::string>(onboard::report::k_failure_classes.begin(),
                                                 onboard::report::k_failure_classes.end()));
}

TEST_CASE("the report's json field names are the README's, in its order", "[report]") {
    Store store(":memory:");
    CHECK(readme_table_names("`report` (one object per row") ==
          onboard::report::report_rows(store, {}).columns);
}

TEST_CASE("the summary's json field names are the README's, in its order", "[report]") {
    Store store(":memory:");
    CHECK(readme_table_names("`status --json` prints") ==
          onboard::report::summary_json(onboard::report::summarize(store, std::nullopt)).keys());
}

// ---- reports and exports ----

TEST_CASE("report lists rows with the stable columns, filtered by state, class and import",
          "[report]") {
    Store store(":memory:");
    const auto first = add_import(store, "a.csv", R"(["name","externalId"])");
    const auto second = add_import(store, "b.csv", R"(["name","externalId"])");
    add_row(store, first, 2, "succeeded", R"(["Abel","C-1"])", "", "", 1, "cus-1");
    add_row(store, first, 3, "failed", R"(["Bea","C-2"])", "server", "HTTP 503", 3);
    add_row(store, second, 2, "failed", R"(["Cy","C-3"])", "network", "connection reset", 2);
    add_row(store, second, 3, "rejected", R"(["","C-4"])", "invalid_input",
            "column \"name\" is empty");

    const auto all = onboard::report::report_rows(store, {});
    CHECK(all.columns == std::vector<std::string>{"row_id", "import_id", "line", "state", "name",
                                                  "external_id", "error_class", "error_message",
                                                  "attempts", "customer_id", "reconciled",
                                                  "updated_at"});
    REQUIRE(all.rows.size() == 4);
    RenderOptions options;
    options.format = Format::jsonl;
    ResultSet first_only{all.columns, {all.rows[0]}, {}};
    CHECK(onboard::report::render(first_only, options) ==
          "{\"row_id\":1,\"import_id\":1,\"line\":2,\"state\":\"succeeded\",\"name\":\"Abel\","
          "\"external_id\":"
          "\"C-1\",\"error_class\":null,\"error_message\":null,\"attempts\":1,\"customer_id\":"
          "\"cus-1\","
          "\"reconciled\":false,\"updated_at\":\"2026-01-02T03:05:00.000Z\"}\n");

    onboard::report::RowFilter failed;
    failed.states = {"failed"};
    const auto failed_rows = onboard::report::report_rows(store, failed);
    REQUIRE(failed_rows.rows.size() == 2);
    CHECK(column_of(failed_rows, 0, "name") == "Bea");
    CHECK(column_of(failed_rows, 1, "name") == "Cy");

    failed.classes = {"network"};
    const auto network = onboard::report::report_rows(store, failed);
    REQUIRE(network.rows.size() == 1);
    CHECK(column_of(network, 0, "error_message") == "connection reset");

    onboard::report::RowFilter in_second;
    in_second.import_id = second;
    CHECK(onboard::report::report_rows(store, in_second).rows.size() == 2);
}

TEST_CASE("a report filter with an unknown state or class is a usage error listing the known ones",
          "[report]") {
    Store store(":memory:");
    onboard::report::RowFilter filter;
    filter.states = {"done"};
    REQUIRE_THROWS_WITH(
        onboard::report::report_rows(store, filter),
        "report: unknown state \"done\" (expected one of pending, in_flight, succeeded, failed, "
        "outcome_unknown, rejected, superseded)");
    filter.states = {};
    filter.classes = {"timeout"};
    REQUIRE_THROWS_WITH(
        onboard::report::report_rows(store, filter),
        "report: unknown failure class \"timeout\" (expected one of invalid_input, validation, "
        "duplicate, graphql, auth, rate_limited, server, network, outcome_unknown, stale_copy)");
}

TEST_CASE("report, export and retry of an import that does not exist are usage errors",
          "[report]") {
    Store store(":memory:");
    const auto id = add_import(store, "a.csv", R"(["name"])");
    add_row(store, id, 2, "failed", R"(["Ann"])", "server", "HTTP 500", 3);
    onboard::report::RowFilter rows;
    rows.import_id = 9;
    REQUIRE_THROWS_AS(onboard::report::report_rows(store, rows), onboard::UsageError);
    REQUIRE_THROWS_WITH(onboard::report::report_rows(store, rows), "report: no import with id 9");
    REQUIRE_THROWS_WITH(onboard::report::export_failed(store, 9), "export: no import with id 9");
    REQUIRE_THROWS_WITH(onboard::report::export_succeeded(store, 9), "export: no import with id 9");
    onboard::report::RetryFilter retry;
    retry.import_id = 9;
    REQUIRE_THROWS_WITH(onboard::report::requeue_failed(store, retry),
                        "retry: no import with id 9");
    CHECK(scalar(store, "SELECT state FROM rows") == "failed");
}

TEST_CASE("the failed export gives the source columns in file order plus line, class, message and "
          "attempts",
          "[report]") {
    Store store(":memory:");
    const auto id = add_import(store, "customers.csv", R"(["name","externalId","email"])");
    add_row(store, id, 2, "succeeded", R"(["Abel","C-1","a@x.org"])", "", "", 1, "cus-1");
    add_row(store, id, 3, "failed", R"(["Bea","C-2","b@x.org"])", "duplicate", "name is taken", 1);
    add_row(store, id, 4, "rejected", R"(["Moreno"," Bianca","C-3","m@x.org"])", "invalid_input",
            "too many fields (4, header has 3)");
    add_row(store, id, 5, "rejected", R"(["Carol","c@x.org"])", "invalid_input",
            "too few fields (2, header has 3)");
    add_row(store, id, 6, "superseded", R"(["Dev","C-5","d@x.org"])", "server", "HTTP 500", 2);

    const auto result = onboard::report::export_failed(store, id);
    CHECK(csv(result, CsvSafety::round_trip) ==
          "name,externalId,email,extra_1,import_id,line,error_class,error_message,attempts,record,ref\r\n"
          "Bea,C-2,b@x.org,,1,3,duplicate,name is taken,1,," + ref("customers.csv", 3) + "\r\n" +
          "Moreno, Bianca,C-3,m@x.org,1,4,invalid_input,\"too many fields (4, header has 3)\",0,," +
          ref("customers.csv", 4) + "\r\n" +
          "Carol,c@x.org,,,1,5,invalid_input,\"too few fields (2, header has 3)\",0,," + ref("customers.csv", 5) +
          "\r\n");
}

TEST_CASE("a record rejected for a NUL byte is exported with the byte shown as U+2400", "[report]") {
    Store store(":memory:");
    const auto id = add_import(store, "c.csv", R"(["name","externalId"])");
    add_row(store, id, 3, "rejected", "[]", "invalid_input", "NUL byte in field 1 (is this a text file?)");
    SQLite::Statement raw(store.database(), "UPDATE rows SET raw_record = ? WHERE line = 3");
    raw.bind(1, std::string("Acme\0Ltd,A-1", 12));
    raw.exec();
    const std::string exported = csv(onboard::report::export_failed(store, id), CsvSafety::round_trip);
    CHECK(exported.find('\0') == std::string::npos);
    CHECK(exported.find("\"Acme\xE2\x90\x80Ltd,A-1\"") != std::string::npos);
}

TEST_CASE(
    "a failed name with a comma, a quote and a line break is exported as one quoted csv field",
    "[report]") {
    Store store(":memory:");
    const auto id = add_import(store, "c.csv", R"(["name","externalId"])");
    Json source = Json::array();
    source.push_back(k_awkward_name);
    source.push_back("C-9");
    add_row(store, id, 7, "failed", source.dump(), "validation", "name: too long", 1);
    CHECK(csv(onboard::report::export_failed(store, std::nullopt), CsvSafety::round_trip) ==
          "name,externalId,import_id,line,error_class,error_message,attempts,record,ref\r\n"
          "\"Smith, \"\"Bob\"\"\nJr\",C-9,1,7,validation,name: too long,1,," + ref("c.csv", 7) + "\r\n");
}

TEST_CASE("a record rejected for bytes that are not UTF-8 is exported with them; json and tables show U+FFFD",
          "[report]") {
    Store store(":memory:");
    // A header column no input reads may hold such bytes too: its rows are imported.
    const auto id = add_import(store, "latin1.csv", "[\"name\",\"externalId\",\"r\xE9gion\"]");
    std::string source;
    onboard::core::append_json_string(source, "Caf\xE9");
    source = "[" + source + ",\"C-1\",\"x\"]";
    // As the import stores it: the fields as they were, no name (it is not text).
    const auto row = add_row(store, id, 3, "rejected", R"(["","C-1"])", "invalid_input",
                             "column \"name\" is not valid UTF-8");
    SQLite::Statement update(store.database(), "UPDATE rows SET source = ? WHERE id = ?");
    update.bind(1, source);
    update.bind(2, row);
    update.exec();
    const auto result = onboard::report::export_failed(store, id);
    // As in the file: fixed in an editor that reads it as Latin-1, or imported back as it is.
    CHECK(csv(result, CsvSafety::round_trip) ==
          "name,externalId,r\xE9gion,import_id,line,error_class,error_message,attempts,record,ref\r\n"
          "Caf\xE9,C-1,x,1,3,invalid_input,\"column \"\"name\"\" is not valid UTF-8\",0,," + ref("latin1.csv", 3) + "\r\n");
    const std::string json = onboard::report::render(result, {Format::json});
    CHECK(onboard::core::is_valid_utf8(json));
    CHECK(json.find("\"name\":\"Caf\xEF\xBF\xBD\"") != std::string::npos);
    const std::string table = onboard::report::render(result, {Format::table});
    CHECK(onboard::core::is_valid_utf8(table));
    CHECK(table.find("Caf\xEF\xBF\xBD ") != std::string::npos);
}

TEST_CASE("a formula-like failed name is exported verbatim unless the export is made safe for "
          "spreadsheets",
          "[report]") {
    Store store(":memory:");
    const auto id = add_import(store, "c.csv", R"(["name"])");
    add_row(store, id, 2, "failed", R"(["=Acme-Corp"])", "graphql", "=cmd|' /C calc'!A0", 1);
    const auto result = onboard::report::export_failed(store, id);
    CHECK(csv(result, CsvSafety::round_trip) == "name,import_id,line,error_class,error_message,attempts,record,ref\r\n="
                                                "Acme-Corp,1,2,graphql,'=cmd|' /C calc'!A0,1,," + ref("c.csv", 2) + "\r\n");
    CHECK(csv(result, CsvSafety::neutralise) == "name,import_id,line,error_class,error_message,attempts,record,ref\r\n'="
                                                "Acme-Corp,1,2,graphql,'=cmd|' /C calc'!A0,1,," + ref("c.csv", 2) + "\r\n");
}

TEST_CASE("a failed export over imports with different headers uses the union of their columns",
          "[report]") {
    Store store(":memory:");
    const auto first = add_import(store, "a.csv", R"(["name","externalId"])");
    const auto second = add_import(store, "b.csv", R"(["externalId","name","note"])");
    add_row(store, first, 2, "failed", R"(["Ann","A-1"])", "server", "HTTP 502", 3);
    add_row(store, second, 2, "failed", R"(["Bob","B-1","vip"])", "server", "HTTP 502", 3);
    CHECK(csv(onboard::report::export_failed(store, std::nullopt), CsvSafety::round_trip) ==
          "name,externalId,note,import_id,line,error_class,error_message,attempts,record,ref\r\n"
          "Ann,A-1,,1,2,server,HTTP 502,3,," + ref("a.csv", 2) + "\r\n" +
          "B-1,Bob,vip,2,2,server,HTTP 502,3,," + ref("b.csv", 2) + "\r\n");
}

TEST_CASE("a failed export merges columns spelled differently that import reads as one", "[report]") {
    Store store(":memory:");
    const auto first = add_import(store, "a.csv", R"(["name","externalId"])");
    const auto second = add_import(store, "b.csv", R"(["External ID","Name"])");
    add_row(store, first, 2, "failed", R"(["Ann","A-1"])", "server", "HTTP 502", 3);
    add_row(store, second, 2, "failed", R"(["B-1","Bob"])", "server", "HTTP 502", 3);
    CHECK(csv(onboard::report::export_failed(store, std::nullopt), CsvSafety::round_trip) ==
          "name,externalId,import_id,line,error_class,error_message,attempts,record,ref\r\n"
          "Ann,A-1,1,2,server,HTTP 502,3,," + ref("a.csv", 2) + "\r\n" +
          "Bob,B-1,2,2,server,HTTP 502,3,," + ref("b.csv", 2) + "\r\n");
}

TEST_CASE("a failed export of a fixed export, failed again, keeps one set of failure columns",
          "[report]") {
    Store store(":memory:");
    const auto id = add_import(
        store, "failed.csv",
        R"(["name","externalId","extra_1","line","error_class","error_message","attempts"])");
    add_row(store, id, 2, "failed",
            R"(["Taken Co","C-1","","5","duplicate","name: taken","1","surplus"])", "duplicate",
            "name: still taken", 1);
    CHECK(csv(onboard::report::export_failed(store, id), CsvSafety::round_trip) ==
          "name,externalId,extra_1,extra_2,import_id,line,error_class,error_message,attempts,record,ref\r\n"
          "Taken Co,C-1,,surplus,1,2,duplicate,name: still taken,1,," + ref("failed.csv", 2) + "\r\n");
}

TEST_CASE("with nothing failed the export still has the import's header", "[report]") {
    Store store(":memory:");
    const auto id = add_import(store, "a.csv", R"(["name","externalId"])");
    add_row(store, id, 2, "succeeded", R"(["Ann","A-1"])", "", "", 1, "cus-1");
    CHECK(csv(onboard::report::export_failed(store, id)) ==
          "name,externalId,import_id,line,error_class,error_message,attempts,record,ref\r\n");
}

TEST_CASE("the succeeded export gives each customer id with the inputs it was created from",
          "[report]") {
    Store store(":memory:");
    const auto id = add_import(store, "a.csv", R"(["name","externalId"])");
    add_row(store, id, 2, "succeeded", R"(["Ann","A-1"])", "", "", 1, "cus-1");
    add_row(store, id, 3, "failed", R"(["Bob","B-1"])", "server", "HTTP 500", 3);
    add_row(store, id, 4, "succeeded", R"(["-Cy"])", "", "", 2, "cus-3");
    CHECK(csv(onboard::report::export_succeeded(store, std::nullopt), CsvSafety::round_trip) ==
          "customer_id,name,externalId,import_id,line\r\n"
          "cus-1,Ann,A-1,1,2\r\n"
          "cus-3,-Cy,,1,4\r\n");
}

// ---- query ----

TEST_CASE("query returns SQLite's values with their types", "[report]") {
    TempDb db;
    {
        Store store(db.path);
        const auto id = add_import(store, "a.csv", R"(["name"])");
        add_row(store, id, 2, "failed", R"(["Ann"])", "server", "HTTP 500", 3);
    }
    Store store(db.path, OpenMode::read_only);
    const auto result = onboard::report::run_query(
        store, "SELECT name, attempts, 1.5 AS ratio, customer_id, x'00ff' AS raw FROM rows;");
    CHECK(result.columns ==
          std::vector<std::string>{"name", "attempts", "ratio", "customer_id", "raw"});
    REQUIRE(result.rows.size() == 1);
    CHECK(result.rows[0] == std::vector<Json>{Json("Ann"), Json(std::int64_t{3}), Json(1.5), Json(),
                                              Json("x'00ff'")});
    CHECK(result.rows[0][1].type() == Json::Type::integer);
}

TEST_CASE("a write through query fails because the database is opened read-only", "[report]") {
    TempDb db;
    {
        Store store(db.path);
        const auto id = add_import(store, "a.csv", R"(["name"])");
        add_row(store, id, 2, "failed", R"(["Ann"])", "server", "HTTP 500", 3);
    }
    Store store(db.path, OpenMode::read_only);
    REQUIRE_THROWS_AS(onboard::report::run_query(store, "DELETE FROM rows"), onboard::UsageError);
    REQUIRE_THROWS_WITH(onboard::report::run_query(store, "UPDATE rows SET state = 'succeeded'"),
                        "query: attempt to write a readonly database");
    CHECK(scalar(store, "SELECT state FROM rows") == "failed");
}

TEST_CASE("query refuses statements that would write a file or attach one", "[report]") {
    TempDb db;
    { Store store(db.path); }
    Store store(db.path, OpenMode::read_only);
    const std::string copy = db.path + ".out";
    REQUIRE_THROWS_WITH(onboard::report::run_query(store, "VACUUM INTO '" + copy + "'"),
                        "query: attempt to write a readonly database");
    REQUIRE_THROWS_WITH(onboard::report::run_query(store, "CREATE TEMP TABLE t (x)"),
                        "query: attempt to write a readonly database");
    REQUIRE_THROWS_AS(onboard::report::run_query(store, "ATTACH DATABASE '" + copy + "' AS other"),
                      onboard::UsageError);
    REQUIRE_THROWS_WITH(
        onboard::report::run_query(store, "ATTACH DATABASE '" + copy + "' AS other"),
        "query: unable to open database: " + copy);
    CHECK_FALSE(std::filesystem::exists(copy));
}

TEST_CASE("query takes exactly one statement and reports SQL errors in SQLite's words",
          "[report]") {
    Store store(":memory:");
    REQUIRE_THROWS_WITH(onboard::report::run_query(store, "  -- nothing\n"),
                        "query: no SQL statement given");
    REQUIRE_THROWS_WITH(onboard::report::run_query(store, "SELECT 1; SELECT 2"),
                        "query: give one SQL statement at a time");
    REQUIRE_THROWS_WITH(onboard::report::run_query(store, "SELEC 1"),
                        "query: near \"SELEC\": syntax error");
    CHECK(onboard::report::run_query(store, "SELECT 1; -- done").rows.size() == 1);
}

// ---- retry ----

TEST_CASE("retry puts only failed rows back in the queue and keeps their history", "[report]") {
    Store store(":memory:");
    const auto id = add_import(store, "a.csv", R"(["name"])");
    const auto failed = add_row(store, id, 2, "failed", R"(["Ann"])", "server", "HTTP 500", 3);
    add_attempt(store, failed, 1, "2026-01-02T03:04:06.000Z", 12, "failed");
    add_row(store, id, 3, "succeeded", R"(["Bob"])", "", "", 1, "cus-2");
    add_row(store, id, 4, "rejected", R"([""])", "invalid_input", "column \"name\" is empty");
    add_row(store, id, 5, "outcome_unknown", R"(["Cy"])", "outcome_unknown", "timeout after send",
            1);

    CHECK(onboard::report::requeue_failed(store, {}) == 1);
    CHECK(scalar(store, "SELECT group_concat(line || ':' || state, ' ') FROM rows ORDER BY line") ==
          "2:pending 3:succeeded 4:rejected 5:outcome_unknown");
    CHECK(
        scalar(store, "SELECT next_attempt_at IS NULL AND attempts = 3 FROM rows WHERE line = 2") ==
        "1");
    // The history keeps counting, the allowance starts again: --max-attempts fresh tries.
    CHECK(scalar(store, "SELECT attempts_before_retry FROM rows WHERE line = 2") == "3");
    CHECK(scalar(store, "SELECT COUNT(*) FROM attempts") == "1");
    const auto left = onboard::report::count_leftovers(store, {});
    CHECK(left.rejected == 1);
    CHECK(left.outcome_unknown == 1);
    CHECK(onboard::report::requeue_failed(store, {}) == 0);
}

TEST_CASE("retry honours the import, class and line filters", "[report]") {
    Store store(":memory:");
    const auto first = add_import(store, "a.csv", R"(["name"])");
    const auto second = add_import(store, "b.csv", R"(["name"])");
    add_row(store, first, 2, "failed", R"(["A2"])", "server", "HTTP 500", 3);
    add_row(store, first, 3, "failed", R"(["A3"])", "network", "reset", 3);
    add_row(store, first, 4, "failed", R"(["A4"])", "network", "reset", 3);
    add_row(store, second, 2, "failed", R"(["B2"])", "network", "reset", 3);

    onboard::report::RetryFilter filter;
    filter.import_id = first;
    filter.classes = {"network"};
    filter.lines = {4, 2};
    CHECK(onboard::report::requeue_failed(store, filter) == 1);
    CHECK(scalar(store, "SELECT group_concat(name, ' ') FROM rows WHERE state = 'pending'") ==
          "A4");
    filter.lines.clear();
    filter.import_id.reset();
    CHECK(onboard::report::requeue_failed(store, filter) == 2);
    CHECK(scalar(store, "SELECT group_concat(name, ' ') FROM rows WHERE state = 'failed'") == "A2");
}

TEST_CASE("retry with an unknown failure class is a usage error and changes nothing", "[report]") {
    Store store(":memory:");
    const auto id = add_import(store, "a.csv", R"(["name"])");
    add_row(store, id, 2, "failed", R"(["A2"])", "server", "HTTP 500", 3);
    onboard::report::RetryFilter filter;
    filter.classes = {"servers"};
    REQUIRE_THROWS_WITH(
        onboard::report::requeue_failed(store, filter),
        "retry: unknown failure class \"servers\" (expected one of invalid_input, validation, "
        "duplicate, graphql, auth, rate_limited, server, network, outcome_unknown, stale_copy)");
    CHECK(scalar(store, "SELECT state FROM rows") == "failed");
}

// ---- summaries ----

namespace {

// Import 1: three succeeded, one failed, one superseded; ten requests of 10..100 ms, one a second.
Store& summary_fixture(Store& store) {
    const auto id = add_import(store, "customers.csv", R"(["name"])");
    std::vector<std::int64_t> rows;
    int line = 2;
    for (const auto* state : {"succeeded", "succeeded", "succeeded", "failed", "superseded"}) {
        rows.push_back(add_row(store, id, line, state, "[\"R" + std::to_string(line) + "\"]"));
        ++line;
    }
    for (int i = 0; i < 10; ++i) {
        add_attempt(store, rows[static_cast<std::size_t>(i % 5)], i / 5 + 1,
                    "2026-01-02T03:04:0" + std::to_string(i) + ".000Z", 10.0 * (i + 1), "failed");
    }
    add_import(store, "empty.csv", R"(["name"])");
    return store;
}

} // namespace

TEST_CASE("a summary counts rows per state and computes success rate, latency and throughput",
          "[report]") {
    Store store(":memory:");
    summary_fixture(store);
    const auto s = onboard::report::summarize(store, 1);
    CHECK(s.file_name == "customers.csv");
    CHECK(s.counts.succeeded == 3);
    CHECK(s.counts.failed == 1);
    CHECK(s.counts.superseded == 1);
    CHECK(s.counts.total() == 5);
    REQUIRE(s.success_rate);
    CHECK(*s.success_rate == Approx(0.75));
    CHECK(s.attempts == 10);
    CHECK(*s.latency_p50_ms == Approx(50));
    CHECK(*s.latency_p95_ms == Approx(100));
    // 3 successes over 9.1 s: the last request starts at 9 s and lasts 100 ms.
    REQUIRE(s.throughput_per_s);
    CHECK(*s.throughput_per_s == Approx(3.0 / 9.1).epsilon(1e-4));
    CHECK(s.first_request_at == "2026-01-02T03:04:00.000Z");
    CHECK(s.last_request_at == "2026-01-02T03:04:09.000Z");

    const auto empty = onboard::report::summarize(store, 2);
    CHECK(empty.counts.total() == 0);
    CHECK_FALSE(empty.success_rate);
    CHECK_FALSE(empty.latency_p50_ms);
    CHECK_FALSE(empty.throughput_per_s);
}

TEST_CASE("a success rate reads 100.0% only when every row succeeded, 0.0% only when none did", "[report]") {
    using onboard::report::format_percent;
    CHECK(format_percent(7.0 / 9.0) == "77.8%");
    CHECK(format_percent(3500.0 / 3501.0) == "99.9%");
    CHECK(format_percent(1.0) == "100.0%");
    CHECK(format_percent(1.0 / 3001.0) == "0.1%");
    CHECK(format_percent(0.0) == "0.0%");
    CHECK(format_percent(std::nullopt) == "-");
    // The JSON rate (4 decimals) keeps the same promise.
    auto json_rate = [](double rate) {
        onboard::report::ImportSummary summary;
        summary.success_rate = rate;
        return onboard::report::summary_json(summary).find("success_rate")->as_double();
    };
    CHECK(json_rate(1'499'999.0 / 1'500'000.0) == 0.9999);
    CHECK(json_rate(1.0 / 1'500'000.0) == 0.0001);
    CHECK(json_rate(0.75) == 0.75);
    CHECK(json_rate(1.0) == 1.0);
}

TEST_CASE("the terminal summary names the import and what its rows came to", "[report]") {
    Store store(":memory:");
    summary_fixture(store);
    CHECK(onboard::report::format_summary(onboard::report::summarize(store, 1)) ==
          "import 1 (customers.csv, imported 2026-01-02T03:04:05.000Z)\n"
          "  rows        5: 3 succeeded, 1 failed, 1 superseded\n"
          "  success     75.0%\n"
          "  attempts    10, latency p50 50 ms, p95 100 ms\n"
          "  throughput  0.3 rows/s\n"
          "  requests    2026-01-02T03:04:00.000Z to 2026-01-02T03:04:09.000Z\n");
    CHECK(onboard::report::format_summary(onboard::report::summarize(store, 2)) ==
          "import 2 (empty.csv, imported 2026-01-02T03:04:05.000Z)\n"
          "  rows        0: none\n"
          "  success     -\n"
          "  attempts    0\n");
}

TEST_CASE("status json has one stable object per import and a total", "[report]") {
    Store store(":memory:");
    summary_fixture(store);
    const auto imports = onboard::report::summarize_imports(store);
    REQUIRE(imports.size() == 2);
    const auto json =
        onboard::report::status_json(imports, onboard::report::summarize(store, std::nullopt));
    CHECK(json.at_pointer("/imports/0")->dump() ==
          "{\"import_id\":1,\"file_name\":\"customers.csv\",\"imported_at\":\"2026-01-02T03:04:05."
          "000Z\","
          "\"rows\":5,\"pending\":0,\"in_flight\":0,\"succeeded\":3,\"failed\":1,\"outcome_"
          "unknown\":0,"
          "\"rejected\":0,\"superseded\":1,\"success_rate\":0.75,\"attempts\":10,\"latency_p50_"
          "ms\":50,"
          "\"latency_p95_ms\":100,\"throughput_per_s\":0.33,\"first_request_at\":\"2026-01-02T03:"
          "04:00.000Z\","
          "\"last_request_at\":\"2026-01-02T03:04:09.000Z\"}");
    CHECK(json.at_pointer("/imports/1/success_rate")->is_null());
    CHECK(json.at_pointer("/total/import_id")->is_null());
    CHECK(json.at_pointer("/total/rows")->as_int() == 5);
}

TEST_CASE("the status table has a line per import and a total line", "[report]") {
    Store store(":memory:");
    summary_fixture(store);
    const auto imports = onboard::report::summarize_imports(store);
    CHECK(onboard::report::format_status_table(
              imports, onboard::report::summarize(store, std::nullopt), 0, false) ==
          "import  file           rows  succeeded  failed  rejected  pending  in_flight  unknown  "
          "superseded  success\n"
          "     1  customers.csv     5          3       1         0        0          0        0   "
          "        1  75.0%\n"
          "     2  empty.csv         0          0       0         0        0          0        0   "
          "        0  -\n"
          "        total             5          3       1         0        0          0        0   "
          "        1  75.0%\n");
}

TEST_CASE("status summarises every import and the total in one pass, as each would be alone", "[report]") {
    Store store(":memory:");
    summary_fixture(store);
    // A third import whose rows two runs sent, the second an hour after the first; runs counted apart.
    const auto third = add_import(store, "more.csv", R"(["name"])");
    const auto a = add_row(store, third, 2, "succeeded", R"(["M2"])");
    const auto b = add_row(store, third, 3, "pending", R"(["M3"])");
    store.database().exec("INSERT INTO runs (id, owner, started_at, api_url, workers, batch_size) VALUES "
                          "(7, 'h:1:1', '2026-01-02T03:00:00.000Z', 'x', 1, 1), "
                          "(8, 'h:1:2', '2026-01-02T04:00:00.000Z', 'x', 1, 1)");
    add_attempt(store, a, 1, "2026-01-02T03:04:01.500Z", 250, "succeeded");
    add_attempt(store, b, 1, "2026-01-02T04:00:00.000Z", 1000, "retry");
    add_attempt(store, b, 2, "2026-01-02T04:00:03.000Z", 2000, "retry");
    store.database().exec("UPDATE attempts SET run_id = 7 WHERE row_id = " + std::to_string(a));
    store.database().exec("UPDATE attempts SET run_id = 8 WHERE row_id = " + std::to_string(b));
    const auto status = onboard::report::summarize_all(store);
    REQUIRE(status.imports.size() == 3);
    for (const auto& one : status.imports) {
        CHECK(onboard::report::summary_json(one).dump() ==
              onboard::report::summary_json(onboard::report::summarize(store, one.import_id)).dump());
    }
    CHECK(onboard::report::summary_json(status.total).dump() ==
          onboard::report::summary_json(onboard::report::summarize(store, std::nullopt)).dump());
    // Import 3: one success over run 7's 0.25 s and run 8's 5 s; the hour between them not counted.
    REQUIRE(status.imports[2].throughput_per_s);
    CHECK(*status.imports[2].throughput_per_s == Approx(1.0 / 5.25));
    CHECK(status.total.attempts == 13);
    CHECK(status.total.first_request_at == "2026-01-02T03:04:00.000Z");
    CHECK(status.total.last_request_at == "2026-01-02T04:00:03.000Z");
    // The fixture's attempts (no run) span 9.1 s, run 7's 0.25 s, run 8's 5 s: 4 successes in all.
    CHECK(*status.total.throughput_per_s == Approx(4.0 / (9.1 + 0.25 + 5.0)).epsilon(1e-4));
}

TEST_CASE("a narrow status table leaves out in_flight, superseded, unknown and pending first",
          "[report]") {
    Store store(":memory:");
    summary_fixture(store);
    const auto table = onboard::report::status_table(
        onboard::report::summarize_imports(store), onboard::report::summarize(store, std::nullopt));
    std::vector<std::string> shown;
    for (const auto column : onboard::report::table_columns(table, 70)) {
        shown.push_back(table.columns[column]);
    }
    CHECK(shown == std::vector<std::string>{"import", "file", "rows", "succeeded", "failed",
                                            "rejected", "success"});
}

TEST_CASE("the status table and summary name an import's file by its last path component, json "
          "by its path",
          "[report]") {
    Store store(":memory:");
    add_import(store, "/srv/exports/2026/customers.csv", R"(["name"])");
    const auto summary = onboard::report::summarize(store, 1);
    CHECK(onboard::report::format_summary(summary).rfind(
              "import 1 (customers.csv, imported 2026-01-02T03:04:05.000Z)\n", 0) == 0);
    const auto table = onboard::report::format_status_table({summary}, summary, 0, false);
    CHECK(table.find("\n     1  customers.csv ") != std::string::npos);
    CHECK(onboard::report::summary_json(summary).at_pointer("/file_name")->as_string() ==
          "/srv/exports/2026/customers.csv");
}

TEST_CASE("a summary of an unknown import is a usage error", "[report]") {
    Store store(":memory:");
    REQUIRE_THROWS_AS(onboard::report::summarize(store, 9), onboard::UsageError);
    REQUIRE_THROWS_WITH(onboard::report::summarize(store, 9), "status: no import with id 9");
}

// ---- commands ----

namespace {

// Runs `onboard <args>` with only the report commands, returning what it printed.
std::string run_command(std::vector<std::string> args, int& exit_code) {
    CLI::App app("onboard");
    onboard::cli::GlobalOptions global;
    exit_code = -1;
    onboard::cli::add_report_commands(app, global, exit_code);
    args.insert(args.begin(), "onboard");
    std::vector<const char*> argv;
    for (const auto& arg : args) {
        argv.push_back(arg.c_str());
    }
    std::ostringstream captured;
    auto* saved = std::cout.rdbuf(captured.rdbuf());
    try {
        app.parse(static_cast<int>(argv.size()), argv.data());
    } catch (...) {
        std::cout.rdbuf(saved);
        throw;
    }
    std::cout.rdbuf(saved);
    return captured.str();
}

std::string read_file(const std::string& path) {
    std::ifstream file(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(file), {});
}

} // namespace

TEST_CASE("export --failed writes the fixable csv to --out and retry requeues the failed rows",
          "[report]") {
    TempDb db;
    {
        Store store(db.path);
        const auto id = add_import(store, "a.csv", R"(["name","externalId"])");
        add_row(store, id, 2, "failed", R"(["=Ann","A-1"])", "server", "HTTP 500", 3);
        add_row(store, id, 3, "rejected", R"(["","A-2"])", "invalid_input",
                "column \"name\" is empty");
    }
    int exit_code = -1;
    CHECK(run_command({"export", "--failed", "--db", db.path, "--out", db.path + ".out"}, exit_code)
              .empty());
    CHECK(exit_code == 0);
    CHECK(read_file(db.path + ".out") ==
          "name,externalId,import_id,line,error_class,error_message,attempts,record,ref\r\n"
          "=Ann,A-1,1,2,server,HTTP 500,3,," + ref("a.csv", 2) + "\r\n" +
          ",A-2,1,3,invalid_input,\"column \"\"name\"\" is empty\",0,," + ref("a.csv", 3) + "\r\n");
    run_command({"export", "--failed", "--safe-for-spreadsheet", "--db", db.path, "--out",
                 db.path + ".out"},
                exit_code);
    CHECK(read_file(db.path + ".out").find("\r\n'=Ann,A-1,1,2,") != std::string::npos);

    CHECK(run_command({"retry", "--db", db.path}, exit_code) ==
          "requeued 1 failed row; `onboard run` sends it\n"
          "1 rejected row cannot be retried: fix it (`onboard export --failed`) and import the "
          "file again\n");
    CHECK(exit_code == 0);
    CHECK(run_command({"status", "--json", "--db", db.path}, exit_code).find("\"pending\":1,") !=
          std::string::npos);
}

TEST_CASE("export needs --failed or --succeeded and query needs a readable database", "[report]") {
    TempDb db;
    int exit_code = -1;
    { Store store(db.path); }
    REQUIRE_THROWS_WITH(run_command({"export", "--db", db.path}, exit_code),
                        "export: give --failed or --succeeded");
    CHECK(
        run_command({"query", "--db", db.path, "--format", "csv", "SELECT 1 AS one, 'x,y' AS two"},
                    exit_code) == "one,two\r\n1,\"x,y\"\r\n");
    REQUIRE_THROWS_WITH(run_command({"query", "--db", db.path + ".missing", "SELECT 1"}, exit_code),
                        db.path + ".missing: no such database (run `onboard import` first)");
}
