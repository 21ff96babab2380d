#include "core/error.hpp"
#include "core/json.hpp"
#include "csv/reader.hpp"
#include "loader/importer.hpp"
#include "loader/mapping.hpp"
#include "loader/record_reader.hpp"
#include "store/store.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <SQLiteCpp/Statement.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <streambuf>
#include <string>
#include <unistd.h>

using namespace onboard;
namespace fs = std::filesystem;

namespace {

// The seed workflow's inputs: the refresh token comes from the run, never from the file.
loader::ImportOptions seed_options(const std::string& path) {
    loader::ImportOptions options;
    options.path = path;
    options.inputs = {{"refreshToken", "string", true}, {"name", "string", true}, {"externalId", "string", false}};
    options.run_inputs = {"refreshToken"};
    return options;
}

std::string counts_text(const store::ImportCounts& c) {
    return std::to_string(c.records) + " records " + std::to_string(c.accepted) + " accepted " +
           std::to_string(c.rejected) + " rejected " + std::to_string(c.duplicates) + " duplicates " +
           std::to_string(c.superseded) + " superseded " + std::to_string(c.stale) + " stale";
}

// loader::import_csv, checking that the counts it reports (kept as it writes) are the store's
// recount of the import's rows.
loader::ImportSummary import_recounted(const loader::ImportOptions& options, store::Store& db) {
    auto summary = loader::import_csv(options, db);
    CHECK(counts_text(summary.counts) == counts_text(db.import_counts(summary.import_id)));
    return summary;
}

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// A folder of its own for the CSV files a test writes.
struct TempDir {
    fs::path path = fs::temp_directory_path() / ("onboard-loader-test-" + std::to_string(getpid()));
    TempDir() { fs::create_directories(path); }
    ~TempDir() { fs::remove_all(path); }
    std::string write(const std::string& name, const std::string& text) const {
        std::ofstream(path / name, std::ios::binary) << text;
        return (path / name).string();
    }
};

// Accepted rows as "line|name|externalId" and rejected ones as "line!reason", in line order.
std::vector<std::string> stored_rows(store::Store& db, std::int64_t import_id) {
    SQLite::Statement select(db.database(), "SELECT line, state, COALESCE(name, 'NULL'), COALESCE(external_id, "
                                            "'NULL'), error_message FROM rows WHERE import_id = ? ORDER BY line");
    select.bind(1, import_id);
    std::vector<std::string> rows;
    while (select.executeStep()) {
        const std::string line = select.getColumn(0).getString();
        if (select.getColumn(1).getString() == "rejected") {
            rows.push_back(line + "!" + select.getColumn(4).getString());
        } else {
            rows.push_back(line + "|" + select.getColumn(2).getString() + "|" + select.getColumn(3).getString());
        }
    }
    return rows;
}

// The same shape, from a case's expect.json.
std::vector<std::string> expected_rows(const core::Json& expect) {
    std::vector<std::pair<std::int64_t, std::string>> rows;
    for (const auto& row : expect.find("valid_rows")->items()) {
        const core::Json* id = row.find("externalId");
        const std::int64_t line = row.find("line")->as_int();
        rows.emplace_back(line, std::to_string(line) + "|" + row.find("name")->as_string() + "|" +
                                    (id->is_null() ? std::string("NULL") : id->as_string()));
    }
    for (const auto& row : expect.find("invalid_rows")->items()) {
        const std::int64_t line = row.find("line")->as_int();
        rows.emplace_back(line, std::to_string(line) + "!" + row.find("reason")->as_string());
    }
    std::sort(rows.begin(), rows.end());
    std::vector<std::string> out;
    for (auto& row : rows) {
        out.push_back(std::move(row.second));
    }
    return out;
}

std::string column(store::Store& db, const std::string& sql) {
    SQLite::Statement select(db.database(), sql);
    REQUIRE(select.executeStep());
    return select.getColumn(0).isNull() ? "NULL" : select.getColumn(0).getString();
}

} // namespace

TEST_CASE("every case file imports to exactly the rows its expect.json lists", "[loader]") {
    const fs::path cases = fs::path(ONBOARD_FIXTURES) / "cases";
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(cases)) {
        if (entry.path().extension() == ".csv") {
            files.push_back(entry.path());
        }
    }
    std::sort(files.begin(), files.end());
    REQUIRE(files.size() >= 6);
    for (const auto& file : files) {
        SECTION(file.filename().string()) {
            fs::path expect_path = file;
            expect_path.replace_extension(".expect.json");
            const core::Json expect = core::Json::parse(read_file(expect_path), expect_path.string());
            store::Store db(":memory:");
            const auto summary = import_recounted(seed_options(file.string()), db);
            CHECK(stored_rows(db, summary.import_id) == expected_rows(expect));
            CHECK(summary.counts.accepted == static_cast<std::int64_t>(expect.find("valid_rows")->size()));
            CHECK(summary.counts.rejected == static_cast<std::int64_t>(expect.find("invalid_rows")->size()));
        }
    }
}

TEST_CASE("importing the same file again adds nothing and says so", "[loader]") {
    const std::string file = std::string(ONBOARD_FIXTURES) + "/cases/12-duplicates-in-file.csv";
    store::Store db(":memory:");
    const auto first = import_recounted(seed_options(file), db);
    CHECK_FALSE(first.already_imported);
    CHECK(first.counts.records == 10);
    CHECK(first.counts.duplicates == 4);
    const auto again = import_recounted(seed_options(file), db);
    CHECK(again.already_imported);
    CHECK(again.import_id == first.import_id);
    CHECK(column(db, "SELECT COUNT(*) FROM rows") == "10");
    CHECK(column(db, "SELECT COUNT(*) FROM imports") == "1");
    CHECK(loader::describe(again, "dups.csv") ==
          "dups.csv: already imported as import 1 (same sha256); nothing added\n"
          "  10 records: 6 accepted, 4 rejected (4 duplicates), 0 earlier failed or rejected rows superseded\n");
}

TEST_CASE("importing the same file again with --map says the new mapping was not applied", "[loader]") {
    const std::string file = std::string(ONBOARD_FIXTURES) + "/cases/12-duplicates-in-file.csv";
    store::Store db(":memory:");
    import_recounted(seed_options(file), db);
    auto options = seed_options(file);
    options.overrides = {{"externalId", "name"}};
    const auto again = import_recounted(options, db);
    CHECK(again.already_imported);
    CHECK(again.options_not_applied);
    CHECK(loader::describe(again, "dups.csv").find(
              "  --map and --delimiter are not applied again: its rows keep the mapping of import 1\n") !=
          std::string::npos);
    CHECK(column(db, "SELECT COUNT(*) FROM rows") == "10");
}

TEST_CASE("the summary gives counts, the column mapping and the first rejections", "[loader]") {
    const std::string file = std::string(ONBOARD_FIXTURES) + "/cases/16-ragged-rows.csv";
    store::Store db(":memory:");
    const auto summary = import_recounted(seed_options(file), db);
    CHECK(loader::describe(summary, "ragged.csv") ==
          "ragged.csv: import 1\n"
          "  5 records: 2 accepted, 3 rejected (0 duplicates), 0 earlier failed or rejected rows superseded\n"
          "  columns: externalId <- \"externalId\", name <- \"name\"\n"
          "  ignored column \"email\"\n"
          "  first rejections:\n"
          "    ragged.csv:3: too many fields (4, header has 3)\n"
          "    ragged.csv:4: too few fields (2, header has 3)\n"
          "    ragged.csv:6: too many fields (4, header has 3)\n");
}

TEST_CASE("the summary prints a file's control characters as escapes, not to the terminal", "[loader]") {
    TempDir dir;
    const auto file = dir.write("esc.csv", "name,externalId\n\x1b[2JRed,E-1\n\x1b[2JRed,E-2\n");
    store::Store db(":memory:");
    const auto summary = import_recounted(seed_options(file), db);
    REQUIRE(summary.first_rejections.size() == 1);
    CHECK(summary.first_rejections[0].message == "duplicate name '\x1b[2JRed' (first at line 2)");
    const auto text = loader::describe(summary, "esc.csv");
    CHECK(text.find('\x1b') == std::string::npos);
    CHECK(text.find("esc.csv:3: duplicate name '\\x1b[2JRed' (first at line 2)") != std::string::npos);
}

TEST_CASE("duplicates inside a group of rows queued together are rejected in line order", "[loader]") {
    // 150 rows: groups of 64 go in as one statement; a collision sends its group down the slow path.
    std::string text = "name,externalId\n";
    for (int i = 1; i <= 150; ++i) {
        const int id = i == 70 ? 3 : i; // repeats the externalId of i = 3, line 4
        const std::string name = i == 140 ? "N 100" : "N " + std::to_string(i); // line 141 repeats line 101's name
        text += name + ",E-" + std::to_string(id) + "\n";
        if (i == 10) {
            text += "N 5,E-999\n"; // line 12 repeats line 6's name inside the first group
        }
        if (i == 20) {
            text += ",E-1000\n"; // line 23: no name
        }
    }
    TempDir dir;
    const auto file = dir.write("groups.csv", text);
    store::Store db(":memory:");
    const auto summary = import_recounted(seed_options(file), db);
    CHECK(summary.counts.records == 152);
    CHECK(summary.counts.accepted == 148);
    CHECK(summary.counts.duplicates == 3);
    REQUIRE(summary.first_rejections.size() == 4);
    CHECK(summary.first_rejections[0].line == 12);
    CHECK(summary.first_rejections[0].message == "duplicate name 'N 5' (first at line 6)");
    CHECK(summary.first_rejections[1].line == 23);
    CHECK(summary.first_rejections[2].message == "duplicate externalId E-3 (first at line 4)");
    CHECK(summary.first_rejections[3].message == "duplicate name 'N 100' (first at line 103)");
    CHECK(column(db, "SELECT count(*) FROM rows WHERE state = 'pending'") == "148");
}

TEST_CASE("a duplicate of a row queued by an earlier import is rejected, naming that import", "[loader]") {
    TempDir dir;
    store::Store db(":memory:");
    const auto a = dir.write("a.csv", "name,externalId\nAda,C-1\nBo,C-2\n");
    const auto b = dir.write("b.csv", "name,externalId\nCy,C-1\nBo,C-9\nDee,C-4\n");
    import_recounted(seed_options(a), db);
    const auto summary = import_recounted(seed_options(b), db);
    CHECK(stored_rows(db, summary.import_id) ==
          std::vector<std::string>{"2!duplicate externalId C-1 (first at line 2 of " + a + ", import 1)",
                                   "3!duplicate name 'Bo' (first at line 3 of " + a + ", import 1)", "4|Dee|C-4"});
    CHECK(summary.counts.duplicates == 2);
}

TEST_CASE("headers match inputs ignoring case, spaces, '_' and '-'", "[loader]") {
    TempDir dir;
    store::Store db(":memory:");
    const auto file = dir.write("c.csv", "Customer Name,External ID,NAME_\n Ada , C-1 ,x\n");
    auto options = seed_options(file);
    options.overrides = {{"name", "customer name"}};
    const auto summary = import_recounted(options, db);
    CHECK(summary.mapping == std::map<std::string, std::string>{{"externalId", "External ID"},
                                                                {"name", "Customer Name"}});
    CHECK(summary.ignored_columns == std::vector<std::string>{"NAME_"});
    CHECK(stored_rows(db, summary.import_id) == std::vector<std::string>{"2|Ada|C-1"});
    CHECK(column(db, "SELECT inputs FROM rows_full") == "{\"name\":\"Ada\",\"externalId\":\"C-1\"}");
    CHECK(column(db, "SELECT mapping FROM imports") == "{\"name\":\"Customer Name\",\"externalId\":\"External ID\"}");
}

TEST_CASE("--map picks a column the header would not match", "[loader]") {
    TempDir dir;
    store::Store db(":memory:");
    const auto file = dir.write("m.csv", "Company;Ref\nAcme;R-1\n");
    auto options = seed_options(file);
    options.overrides = {{"name", "Company"}, {"externalId", "Ref"}};
    const auto summary = import_recounted(options, db);
    CHECK(stored_rows(db, summary.import_id) == std::vector<std::string>{"2|Acme|R-1"});
}

TEST_CASE("a refresh-token column is never read or stored", "[loader]") {
    TempDir dir;
    store::Store db(":memory:");
    const auto file = dir.write("t.csv", "name,refresh_token\nAda,secret-token-1\n,secret-token-2\n");
    const auto summary = import_recounted(seed_options(file), db);
    CHECK(summary.refused_columns == std::vector<std::string>{"refresh_token"});
    CHECK(summary.ignored_columns.empty());
    CHECK(column(db, "SELECT COUNT(*) FROM rows_full WHERE inputs LIKE '%secret%' OR source LIKE '%secret%'") == "0");
    CHECK(column(db, "SELECT source FROM rows_full WHERE line = 2") == "[\"Ada\",\"[redacted]\"]");
    CHECK(column(db, "SELECT source FROM rows_full WHERE line = 3") == "[\"\",\"[redacted]\"]");
    auto options = seed_options(file);
    options.overrides = {{"refreshToken", "refresh_token"}};
    CHECK_THROWS_WITH(import_recounted(options, db),
                      "--map refreshToken=refresh_token: \"refreshToken\" is a run input and is never read from the file");
}

TEST_CASE("rows failing the input schema are rejected with their line and reason", "[loader]") {
    TempDir dir;
    store::Store db(":memory:");
    const auto file = dir.write("v.csv", "name,externalId,seats\n"
                                         "Ada,C-1,3\n"
                                         "   ,C-2,1\n"
                                         "Bo,C-3,many\n"
                                         "\"Cy\xff\",C-4,2\n"
                                         "\"Dee,C-5,2\n"
                                         "Eve,,\n"
                                         "  ,  ,  \n");
    auto options = seed_options(file);
    options.inputs.push_back({"seats", "integer", false});
    const auto summary = import_recounted(options, db);
    CHECK(stored_rows(db, summary.import_id) ==
          std::vector<std::string>{"2|Ada|C-1", "3!column \"name\" is empty",
                                   "4!column \"seats\" is not an integer: 'many'",
                                   "5!column \"name\" is not valid UTF-8 (save the file as UTF-8)",
                                   "6!unterminated quoted field (no closing quote before the end of the file)",
                                   "7|Eve|NULL"});
    CHECK(column(db, "SELECT inputs FROM rows_full WHERE line = 2") == "{\"name\":\"Ada\",\"externalId\":\"C-1\",\"seats\":3}");
    CHECK(column(db, "SELECT inputs FROM rows_full WHERE line = 7") == "{\"name\":\"Eve\"}");
    CHECK(column(db, "SELECT error_class FROM rows WHERE line = 3") == "invalid_input");
    CHECK(summary.first_rejections.size() == 4);
    CHECK(summary.first_rejections[0].field == "name");
    CHECK(summary.counts.records == 6);
}

TEST_CASE("file-level problems stop the import with a clear message", "[loader]") {
    TempDir dir;
    store::Store db(":memory:");
    const auto missing = (dir.path / "missing.csv").string();
    CHECK_THROWS_WITH(import_recounted(seed_options(missing), db),
                      missing + ": cannot open: No such file or directory");
    const auto empty = dir.write("empty.csv", "\n\n");
    CHECK_THROWS_WITH(import_recounted(seed_options(empty), db), empty + ": no header line (the file is empty)");
    const auto no_name = dir.write("customers.csv", "externalId,email\nC-1,a@b\n");
    CHECK_THROWS_WITH(import_recounted(seed_options(no_name), db),
                      no_name + ":1: no column for required input \"name\" (columns: externalId, email)");
    const auto twice = dir.write("twice.csv", "name,Name\nA,B\n");
    CHECK_THROWS_WITH(import_recounted(seed_options(twice), db),
                      twice + ":1: columns \"name\" and \"Name\" both match input \"name\" (choose one with --map "
                              "name=COLUMN)");
    auto unknown = seed_options(no_name);
    unknown.overrides = {{"nmae", "email"}};
    CHECK_THROWS_WITH(import_recounted(unknown, db),
                      "--map nmae=email: the workflow has no input \"nmae\" (inputs: refreshToken, name, externalId)");
    auto no_column = seed_options(no_name);
    no_column.overrides = {{"name", "Company"}};
    CHECK_THROWS_WITH(import_recounted(no_column, db),
                      no_name + ":1: --map name=Company: no column \"Company\" (columns: externalId, email)");
    CHECK(column(db, "SELECT COUNT(*) FROM imports") == "0");
}

TEST_CASE("an interrupted import is resumed after its last stored line", "[loader]") {
    TempDir dir;
    store::Store db(":memory:");
    const auto file = dir.write("r.csv", "name,externalId\nA,1\nB,2\nA,3\nD,4\n");
    const auto first = import_recounted(seed_options(file), db);
    db.database().exec("DELETE FROM rows WHERE line > 3; UPDATE imports SET finished_at = NULL");
    const auto resumed = import_recounted(seed_options(file), db);
    CHECK(resumed.resumed);
    CHECK(resumed.import_id == first.import_id);
    CHECK(stored_rows(db, first.import_id) ==
          std::vector<std::string>{"2|A|1", "3|B|2", "4!duplicate name 'A' (first at line 2)", "5|D|4"});
    CHECK(resumed.counts.records == 4);
    CHECK(db.import_finished(first.import_id));
}

TEST_CASE("a failed row is superseded by the fixed row of a later import", "[loader]") {
    TempDir dir;
    store::Store db(":memory:");
    const auto a = dir.write("a.csv", "name,externalId\nAda,C-1\n");
    import_recounted(seed_options(a), db);
    db.database().exec("UPDATE rows SET state = 'failed'");
    const auto b = dir.write("b.csv", "name,externalId\nAda Lovelace,C-1\n");
    const auto summary = import_recounted(seed_options(b), db);
    CHECK(summary.counts.superseded == 1);
    CHECK(summary.counts.accepted == 1);
    CHECK(column(db, "SELECT group_concat(state, ',') FROM (SELECT state FROM rows ORDER BY id)") ==
          "superseded,pending");
}

// The ref column `onboard export --failed` writes for a row of import 1.
std::string ref_of(store::Store& db, std::int64_t line) {
    return store::row_reference(column(db, "SELECT sha256 FROM imports WHERE id = 1"), line);
}

TEST_CASE("a row of a failed export replaces the original it names, whatever its name now", "[loader]") {
    TempDir dir;
    store::Store db(":memory:");
    const auto a = dir.write("a.csv", "name,externalId,email\n"
                                      "Ada,C-1,a@x.org\n"
                                      "Too,Many,Fields,Here\n"  // line 3: read as name Too, externalId Many
                                      "Bob,C-2,b@x.org\n");
    import_recounted(seed_options(a), db);
    db.database().exec("UPDATE rows SET state = 'failed', error_class = 'server', error_message = 'HTTP 502' "
                       "WHERE line = 4");
    // As `onboard export --failed` writes them, then fixed: a new name, the record typed in again.
    const std::string header = "name,externalId,email,import_id,line,error_class,error_message,attempts,record,ref\n";
    const auto fixed = dir.write("fixed.csv", header +
                                 "Too Many,C-3,t@x.org,1,3,invalid_input,\"too many fields (4, header has 3)\",0,," +
                                 ref_of(db, 3) + "\n" + "Bob Fixed,C-4,b@x.org,1,4,server,HTTP 502,1,," +
                                 ref_of(db, 4) + "\n");
    const auto summary = import_recounted(seed_options(fixed), db);
    CHECK(summary.counts.accepted == 2);
    CHECK(summary.counts.superseded == 2);
    CHECK(column(db, "SELECT group_concat(n.line || '>' || o.line || ' ' || o.state, ', ') FROM rows n "
                     "JOIN rows o ON o.id = n.supersedes WHERE n.import_id = 2") == "2>3 superseded, 3>4 superseded");
    CHECK(column(db, "SELECT count(*) FROM rows WHERE live <> (state <> 'rejected' AND state <> 'superseded')") == "0");
}

TEST_CASE("rounds of the same export replace the newest copy, so each problem is listed once", "[loader]") {
    TempDir dir;
    store::Store db(":memory:");
    import_recounted(seed_options(dir.write("a.csv", "name,externalId,email\nAda,C-1,a@x.org\nToo,Many,Fields,Here\n")), db);
    const std::string header = "name,externalId,email,import_id,line,error_class,error_message,attempts,record,ref\n";
    const std::string row = ",,,1,3,invalid_input,\"too many fields (4, header has 3)\",0,\"Too,Many,Fields,Here\"," +
                            ref_of(db, 3) + "\n";
    import_recounted(seed_options(dir.write("round.csv", header + row)), db);
    // One row left to fix, the newest, with the record still whole: the loop does not pile up copies.
    CHECK(column(db, "SELECT group_concat(import_id || ':' || line || ':' || raw_record, ' ') FROM rows "
                     "WHERE state = 'rejected'") == "2:2:Too,Many,Fields,Here");
    CHECK(column(db, "SELECT state FROM rows WHERE import_id = 1 AND line = 3") == "superseded");
    // A stale copy of the first export (a different file, naming import 1 again) replaces the newest.
    import_recounted(seed_options(dir.write("stale.csv", header + row + "\n")), db);
    CHECK(column(db, "SELECT group_concat(import_id || ':' || line, ' ') FROM rows WHERE state = 'rejected'") ==
          "3:2");
}

TEST_CASE("an export row whose source row is done or already replaced is kept as a stale copy, not queued",
          "[loader]") {
    TempDir dir;
    store::Store db(":memory:");
    import_recounted(seed_options(dir.write("a.csv", "name,externalId\nAda,C-1\nBob,C-2\nCy,C-3\n")), db);
    db.database().exec("UPDATE rows SET state = 'failed', error_class = 'server', error_message = 'HTTP 500'");
    const std::string header = "name,externalId,import_id,line,error_class,error_message,attempts,record,ref\n";
    const std::string exported = header + "Ada,C-1,1,2,server,HTTP 500,1,," + ref_of(db, 2) + "\n" +
                                 "Bob,C-2,1,3,server,HTTP 500,1,," + ref_of(db, 3) + "\n";
    // Meanwhile line 2 was retried and succeeded; the export is then edited and imported.
    db.database().exec("UPDATE rows SET state = 'succeeded', customer_id = 'cus-1' WHERE line = 2");
    std::string edited = exported;
    edited.replace(edited.find("Ada,C-1"), 7, "Ada Two,C-1b");
    edited += "Bob Again,C-2b,1,3,server,HTTP 500,1,," + ref_of(db, 3) + "\n"; // a second copy of line 3
    const auto summary = import_recounted(seed_options(dir.write("edited.csv", edited)), db);
    CHECK(summary.counts.accepted == 1); // Bob, replacing line 3
    CHECK(summary.counts.stale == 2);
    CHECK(column(db, "SELECT group_concat(line || ' ' || state || ' ' || COALESCE(error_class, '-'), ', ') FROM rows "
                     "WHERE import_id = 2") == "2 superseded stale_copy, 3 pending -, 4 superseded stale_copy");
    CHECK(column(db, "SELECT error_message FROM rows WHERE import_id = 2 AND line = 4") ==
          "stale copy: the row it was exported from is now carried by line 3 of import 2 (pending); not queued");
    // The stale export again, after the fix: nothing more is queued or listed to fix.
    import_recounted(seed_options(dir.write("stale.csv", exported + "\n")), db);
    CHECK(column(db, "SELECT count(*) FROM rows WHERE live = 1 AND state <> 'succeeded'") == "2"); // Bob, Cy
    CHECK(column(db, "SELECT count(*) FROM rows WHERE state IN ('failed', 'rejected')") == "1");   // Cy
}

TEST_CASE("a column named like one of the export's own is refused in an export and warned about elsewhere",
          "[loader]") {
    TempDir dir;
    store::Store db(":memory:");
    auto options = seed_options(dir.write("own.csv", "Company,ref\nRho Co,R-3\n"));
    options.overrides = {{"name", "Company"}, {"externalId", "ref"}};
    const auto summary = import_recounted(options, db);
    CHECK(loader::describe(summary, "own.csv").find("  warning: column \"ref\" feeds an input") != std::string::npos);
    auto exported = seed_options(dir.write("export.csv", "Company,import_id,line,error_class,error_message,attempts,"
                                                         "record,ref\nRho Co,1,2,server,x,1,,r0\n"));
    exported.overrides = {{"name", "Company"}, {"externalId", "ref"}};
    CHECK_THROWS_WITH(import_recounted(exported, db),
                      Catch::Contains("input \"externalId\" would be read from column \"ref\", which onboard's export "
                                      "writes for itself"));
    CHECK(column(db, "SELECT count(*) FROM imports") == "1");
}

TEST_CASE("an export made safe for spreadsheets and imported back is reported", "[loader]") {
    TempDir dir;
    store::Store db(":memory:");
    const std::string header = "name,externalId,import_id,line,error_class,error_message,attempts,record,ref\n";
    const auto summary = import_recounted(
        seed_options(dir.write("safe.csv", header + "Fine Co,F-1,1,2,server,x,1,,0\n'=Eq Co,'-E-1,1,3,server,x,1,,0\n")), db);
    CHECK(summary.quoted_formulas == 2);
    CHECK(loader::describe(summary, "safe.csv").find("  warning: 2 values start with the quote export "
                                                     "--safe-for-spreadsheet adds (first at line 3)") != std::string::npos);
}

TEST_CASE("an export row naming a row of another database, or a line typed wrong, replaces nothing", "[loader]") {
    TempDir dir;
    store::Store db(":memory:");
    import_recounted(seed_options(dir.write("a.csv", "name,externalId\nAda,C-1\nEve,C-2\n")), db);
    db.database().exec("UPDATE rows SET state = 'failed', error_class = 'server', error_message = 'HTTP 500'");
    const std::string header = "name,externalId,import_id,line,error_class,error_message,attempts,record,ref\n";
    // Line 2 with another file's ref (another database), line 3 with line 2's ref (typed wrong),
    // line 9 does not exist, import 2 is this very file.
    import_recounted(seed_options(dir.write("other.csv", header + "Zed,C-7,1,2,server,HTTP 500,1,," +
                                                                    store::row_reference("another-file", 2) + "\n" +
                                                                    "Wim,C-6,1,3,server,HTTP 500,1,," + ref_of(db, 2) +
                                                                    "\n" + "Yan,C-8,1,9,server,HTTP 500,1,," +
                                                                    ref_of(db, 9) + "\n" +
                                                                    "Xi,C-9,2,2,server,HTTP 500,1,," + ref_of(db, 2) +
                                                                    "\n")),
                       db);
    CHECK(column(db, "SELECT group_concat(state, ',') FROM (SELECT state FROM rows ORDER BY id)") ==
          "failed,failed,pending,pending,pending,pending");
    CHECK(column(db, "SELECT count(*) FROM rows WHERE supersedes IS NOT NULL") == "0");
}

TEST_CASE("a field too long is rejected naming its column", "[loader]") {
    TempDir dir;
    const auto file = dir.write("long.csv", "name,externalId,Notes\nAda,C-1," + std::string(70000, 'x') + "\nBob,C-2,ok\n");
    store::Store db(":memory:");
    const auto summary = import_recounted(seed_options(file), db);
    CHECK(summary.counts.accepted == 1);
    REQUIRE(summary.first_rejections.size() == 1);
    CHECK(summary.first_rejections[0].field == "Notes");
    CHECK(summary.first_rejections[0].message == "column \"Notes\": field 3 is longer than 65536 bytes");
}

TEST_CASE("one input mapped twice is a usage error", "[loader]") {
    auto options = seed_options("unused.csv");
    options.overrides = {{"name", "Company"}, {"name", "Ref"}};
    CHECK_THROWS_WITH(loader::check_overrides(options),
                      "--map name=Company and --map name=Ref: \"name\" is mapped twice; give one column");
}

TEST_CASE("an interrupted import keeps what it stored and the same file resumes it", "[loader]") {
    TempDir dir;
    const auto file = dir.write("i.csv", "name,externalId\nAda,C-1\nBob,C-2\nCy,C-3\n");
    store::Store db(":memory:");
    std::atomic<int> interrupts{1}; // as after a SIGINT: stop after the record at hand
    auto options = seed_options(file);
    options.stop = &interrupts;
    const auto first = import_recounted(options, db);
    CHECK(first.interrupted);
    CHECK(first.last_line == 2);
    CHECK(column(db, "SELECT count(*) FROM rows") == "1");
    CHECK(loader::describe(first, "i.csv").find(
              "  interrupted after line 2: what was read is stored; import the same file again to go on from there\n") !=
          std::string::npos);
    auto remapped = seed_options(file);
    remapped.overrides = {{"name", "externalId"}, {"externalId", "name"}};
    CHECK_THROWS_WITH(import_recounted(remapped, db),
                      Catch::Contains("import 1 of this file was interrupted; resume it with the mapping it began with"));
    CHECK(column(db, "SELECT count(*) FROM rows") == "1");
    const auto again = import_recounted(seed_options(file), db);
    CHECK(again.resumed);
    CHECK_FALSE(again.interrupted);
    CHECK(again.counts.accepted == 3);
    CHECK(column(db, "SELECT group_concat(line, ',') FROM rows") == "2,3,4");
}

TEST_CASE("column keys drop case, spaces, underscores and dashes", "[loader]") {
    CHECK(loader::column_key("External ID") == "externalid");
    CHECK(loader::column_key("external_id") == "externalid");
    CHECK(loader::column_key("Refresh-Token") == "refreshtoken");
}

TEST_CASE("a malformed record keeps its text as it was; well-formed rejections keep none", "[loader]") {
    TempDir dir;
    const auto file = dir.write("m.csv", "name,externalId,email\n"
                                         "Moreno, Bianca,C-2,m@x.org\n"    // too many fields
                                         "Carol,c@x.org\n"                 // too few
                                         "bad\"quote,B-1,x@y\n"            // broken quoting
                                         ",C-5,e@x.org\n"                  // empty name: fields are right
                                         "\"Semi; \"\"Q\"\"\",C-6,q@x\n"); // fine
    store::Store db(":memory:");
    import_recounted(seed_options(file), db);
    CHECK(column(db, "SELECT group_concat(line || '=' || COALESCE(raw_record, 'NULL'), ' | ') FROM "
                     "(SELECT line, raw_record FROM rows ORDER BY line)") ==
          "2=Moreno, Bianca,C-2,m@x.org | 3=Carol,c@x.org | 4=bad\"quote,B-1,x@y | 5=NULL | 6=NULL");
}

TEST_CASE("a malformed record's text leaves out a secret column", "[loader]") {
    TempDir dir;
    const auto file = dir.write("s.csv", "name,refresh_token\nAda,rt-secret,extra\nBo\"b,rt-other\n");
    store::Store db(":memory:");
    import_recounted(seed_options(file), db);
    CHECK(column(db, "SELECT group_concat(raw_record, ' | ') FROM (SELECT raw_record FROM rows ORDER BY line)") ==
          "Ada,[redacted],extra | Bo");
}

namespace {

// Serves `text`, then fails as a disk read error does (the stream sets badbit).
class FailingBuffer : public std::streambuf {
public:
    explicit FailingBuffer(std::string text) : m_text(std::move(text)) {
        setg(m_text.data(), m_text.data(), m_text.data() + m_text.size());
    }

protected:
    int_type underflow() override { throw std::runtime_error("read error"); }

private:
    std::string m_text;
};

// "name,externalId" and rows `Name <i>,C-<i>` for i = 1..count, every `bad`th with a field missing.
std::string numbered_rows(int count, int bad = 0) {
    std::string text = "name,externalId\n";
    for (int i = 1; i <= count; ++i) {
        text += "Name " + std::to_string(i) + (bad > 0 && i % bad == 0 ? "\n" : ",C-" + std::to_string(i) + "\n");
    }
    return text;
}

// What a Reader over the text throws after its header, and the records read before.
std::pair<std::string, std::int64_t> direct_read_error(const std::string& text) {
    FailingBuffer buffer(text);
    std::istream in(&buffer);
    csv::Reader reader(in, "f.csv");
    csv::Record record;
    std::int64_t records = -1; // the header is not one
    try {
        while (reader.next(record)) {
            ++records;
        }
    } catch (const InputError& error) {
        return {error.what(), records};
    }
    return {"", records};
}

} // namespace

TEST_CASE("a read error on the reading thread surfaces unchanged, after the records read before it",
          "[loader]") {
    const std::string text = numbered_rows(8000); // longer than a read: the second one fails
    const auto [message, records_before] = direct_read_error(text);
    REQUIRE(message.starts_with("f.csv:"));
    REQUIRE(message.ends_with(": cannot read the file"));
    FailingBuffer buffer(text);
    std::istream in(&buffer);
    csv::Reader reader(in, "f.csv");
    csv::Record header;
    REQUIRE(reader.next(header));
    const auto options = seed_options("f.csv");
    const loader::ColumnMap map = loader::map_columns(header.fields, options, "f.csv", header.line);
    const loader::ExportColumns exported;
    loader::RecordReader records(reader, map, exported, 0);
    std::int64_t seen = 0;
    std::int64_t last_line = 1;
    auto read_all = [&] {
        for (auto group = records.next(); !group.empty(); group = records.next()) {
            for (const auto& record : group) {
                CHECK(record.row.line == ++last_line);
                CHECK(record.records == ++seen);
            }
        }
    };
    CHECK_THROWS_AS(read_all(), InputError);
    CHECK(seen == records_before);
    CHECK_THROWS_WITH(records.next(), message); // and again: the reading thread is over
}

TEST_CASE("a reader left before the end of the file stops its thread", "[loader]") {
    std::istringstream in(numbered_rows(5000));
    csv::Reader reader(in, "f.csv");
    csv::Record header;
    REQUIRE(reader.next(header));
    const auto options = seed_options("f.csv"); // the map points at its inputs
    const loader::ColumnMap map = loader::map_columns(header.fields, options, "f.csv", header.line);
    const loader::ExportColumns exported;
    {
        loader::RecordReader records(reader, map, exported, 0);
        CHECK(records.next().size() == loader::RecordReader::k_group);
    } // joined here, the thread blocked on a full queue
    csv::Record record;
    CHECK(reader.next(record)); // the file is not read to its end
}

TEST_CASE("the header's problems stop the import with the reader's message", "[loader]") {
    TempDir dir;
    store::Store db(":memory:");
    const auto broken = dir.write("broken.csv", "name,\"externalId\nAda,C-1\n");
    CHECK_THROWS_WITH(import_recounted(seed_options(broken), db),
                      broken + ":1: header: unterminated quoted field (no closing quote before the end of the file)");
    const auto wide = dir.write("wide.csv", "name," + std::string(70000, 'h') + "\nAda,C-1\n");
    CHECK_THROWS_WITH(import_recounted(seed_options(wide), db),
                      wide + ":1: header: field 2 is longer than 65536 bytes");
    CHECK_THROWS_WITH(import_recounted(seed_options(dir.path.string()), db),
                      dir.path.string() + ": is a directory, not a CSV file");
    CHECK(column(db, "SELECT COUNT(*) FROM imports") == "0");
}

TEST_CASE("a FIFO is refused at once rather than waited on: the import reads its file twice", "[loader]") {
    TempDir dir;
    store::Store db(":memory:");
    const std::string fifo = (dir.path / "pipe.csv").string();
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    CHECK_THROWS_WITH(import_recounted(seed_options(fifo), db),
                      Catch::Contains(fifo + ": is not a regular file (a pipe, FIFO or device)"));
    CHECK(column(db, "SELECT COUNT(*) FROM imports") == "0");
}

TEST_CASE("a store failure in the middle of the file ends the import with it, the reading thread joined",
          "[loader]") {
    TempDir dir;
    const auto file = dir.write("n.csv", numbered_rows(3000));
    store::Store db(":memory:");
    db.database().exec("CREATE TRIGGER refuse BEFORE INSERT ON rows WHEN NEW.line = 2001 "
                       "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END");
    CHECK_THROWS_AS(import_recounted(seed_options(file), db), StoreError);
    CHECK(column(db, "SELECT count(*) FROM rows") == "0"); // one transaction, rolled back
    db.database().exec("DROP TRIGGER refuse");
    const auto again = import_recounted(seed_options(file), db);
    CHECK(again.counts.accepted == 3000);
}

TEST_CASE("a progress callback's exception ends the import with it, what was committed kept", "[loader]") {
    TempDir dir;
    const auto file = dir.write("n.csv", numbered_rows(25000));
    store::Store db(":memory:");
    auto options = seed_options(file);
    options.progress = [](std::int64_t) { throw std::runtime_error("progress failed"); };
    CHECK_THROWS_WITH(import_recounted(options, db), "progress failed");
    CHECK(column(db, "SELECT count(*) FROM rows") == std::to_string(loader::k_records_per_transaction));
}

TEST_CASE("an import stopped in the middle of the file resumes it, every line stored once", "[loader]") {
    TempDir dir;
    const auto file = dir.write("n.csv", numbered_rows(25000, 7)); // stopped past several groups and a commit
    store::Store whole(":memory:");
    const auto uninterrupted = import_recounted(seed_options(file), whole);
    store::Store db(":memory:");
    std::atomic<int> interrupts{0};
    auto options = seed_options(file);
    options.stop = &interrupts;
    std::vector<std::int64_t> progress;
    options.progress = [&](std::int64_t records) {
        progress.push_back(records);
        interrupts = 1; // as a SIGINT would: the import stops after the next record
    };
    const auto first = import_recounted(options, db);
    CHECK(progress == std::vector<std::int64_t>{10000});
    CHECK(first.interrupted);
    CHECK(first.last_line == 10002);
    CHECK(first.counts.records == 10001);
    CHECK(column(db, "SELECT max(line) FROM rows") == "10002");
    const auto resumed = import_recounted(seed_options(file), db);
    CHECK(resumed.resumed);
    CHECK(column(db, "SELECT count(*) || ' ' || count(DISTINCT line) || ' ' || min(line) || ' ' || max(line) "
                     "FROM rows") == "25000 25000 2 25001");
    CHECK(stored_rows(db, first.import_id) == stored_rows(whole, uninterrupted.import_id));
    CHECK(resumed.counts.rejected == uninterrupted.counts.rejected);
}

TEST_CASE("rejections keep their order over many groups: at once when read, duplicates when their group is "
          "queued", "[loader]") {
    // Every 7th record misses a field; every 13th other one repeats line 2's name. Each group of
    // k_queue_group valid rows is queued together, its duplicates rejected after it.
    constexpr int k_records = 1000;
    std::string text = "name,externalId\n";
    std::vector<std::int64_t> order; // rejected lines in the order they are stored
    std::vector<std::int64_t> group, duplicates;
    auto flush = [&] {
        order.insert(order.end(), duplicates.begin(), duplicates.end());
        group.clear();
        duplicates.clear();
    };
    for (int i = 1; i <= k_records; ++i) {
        const std::int64_t line = i + 1;
        if (i % 7 == 0) {
            text += "Name " + std::to_string(i) + "\n";
            order.push_back(line);
            continue;
        }
        text += (i % 13 == 0 ? std::string("Name 1") : "Name " + std::to_string(i)) + ",C-" + std::to_string(i) + "\n";
        group.push_back(line);
        if (i % 13 == 0) {
            duplicates.push_back(line);
        }
        if (group.size() == store::Store::k_queue_group) {
            flush();
        }
    }
    flush();
    TempDir dir;
    const auto file = dir.write("bad.csv", text);
    store::Store db(":memory:");
    const auto summary = import_recounted(seed_options(file), db);
    SQLite::Statement select(db.database(), "SELECT line FROM rows WHERE state = 'rejected' ORDER BY id");
    std::vector<std::int64_t> stored;
    while (select.executeStep()) {
        stored.push_back(select.getColumn(0).getInt64());
    }
    CHECK(stored == order);
    CHECK(summary.counts.rejected == static_cast<std::int64_t>(order.size()));
    std::vector<std::string> shown;
    for (const auto& issue : summary.first_rejections) {
        shown.push_back(std::to_string(issue.line) + ": " + issue.message);
    }
    CHECK(shown == std::vector<std::string>{
                       "8: too few fields (1, header has 2)", "14: duplicate name 'Name 1' (first at line 2)",
                       "15: too few fields (1, header has 2)", "22: too few fields (1, header has 2)",
                       "27: duplicate name 'Name 1' (first at line 2)", "29: too few fields (1, header has 2)",
                       "36: too few fields (1, header has 2)", "40: duplicate name 'Name 1' (first at line 2)",
                       "43: too few fields (1, header has 2)", "50: too few fields (1, header has 2)"});
}

TEST_CASE("a row's inputs are stored only when they say more than its name and externalId, as before",
          "[loader]") {
    TempDir dir;
    const auto file = dir.write("k.csv", "name,externalId\nAda,C-1\nBo,\nAda,C-3\n");
    auto stored = [&](const loader::ImportOptions& options) {
        store::Store db(":memory:");
        import_recounted(options, db);
        SQLite::Statement select(db.database(), "SELECT r.line, COALESCE(r.inputs, 'NULL'), f.inputs FROM rows r "
                                                "JOIN rows_full f ON f.id = r.id ORDER BY r.line");
        std::vector<std::string> rows;
        while (select.executeStep()) {
            rows.push_back(select.getColumn(0).getString() + " " + select.getColumn(1).getString() + " " +
                           select.getColumn(2).getString());
        }
        return rows;
    };
    // name, then externalId, as text: left to the two columns (a duplicate's too, rejected a group late).
    CHECK(stored(seed_options(file)) ==
          std::vector<std::string>{"2 NULL {\"name\":\"Ada\",\"externalId\":\"C-1\"}", "3 NULL {\"name\":\"Bo\"}",
                                   "4 NULL {\"name\":\"Ada\",\"externalId\":\"C-3\"}"});
    // In another order, or typed, the inputs say more: written out.
    auto swapped = seed_options(file);
    swapped.inputs = {{"externalId", "string", false}, {"name", "string", true}};
    CHECK(stored(swapped) == std::vector<std::string>{
                                 "2 {\"externalId\":\"C-1\",\"name\":\"Ada\"} {\"externalId\":\"C-1\",\"name\":\"Ada\"}",
                                 "3 NULL {\"name\":\"Bo\"}",
                                 "4 {\"externalId\":\"C-3\",\"name\":\"Ada\"} {\"externalId\":\"C-3\",\"name\":\"Ada\"}"});
    auto typed = seed_options(file);
    typed.inputs[2].type = "integer";
    const auto rows = stored(typed); // C-1 is no integer: rejected, with its keys
    CHECK(rows.front() == "2 NULL {\"name\":\"Ada\",\"externalId\":\"C-1\"}");
    CHECK(rows[1] == "3 NULL {\"name\":\"Bo\"}");
}
