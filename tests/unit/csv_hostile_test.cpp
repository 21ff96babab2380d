#include "core/error.hpp"
#include "csv/reader.hpp"
#include "loader/importer.hpp"
#include "store/store.hpp"

#include <catch2/catch.hpp>

#include <SQLiteCpp/Statement.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

using namespace onboard;
namespace fs = std::filesystem;

namespace {

using Lines = std::vector<std::string>;

const std::string k_one_mb(1024 * 1024, 'x');

// What a reader saw: "line|field|field..." or "line!error"; fields over 40 bytes read "<N bytes>".
Lines read_all(const std::string& text) {
    std::istringstream in(text);
    csv::Reader reader(in, "hostile.csv");
    Lines out;
    csv::Record record;
    while (reader.next(record)) {
        std::string entry = std::to_string(record.line);
        if (!record.error.empty()) {
            entry += "!" + record.error;
        } else {
            for (const auto& field : record.fields) {
                entry += "|" + (field.size() > 40 ? "<" + std::to_string(field.size()) + " bytes>" : field);
            }
        }
        out.push_back(entry);
    }
    return out;
}

// A header of `count` columns named c1, c2, ...
std::string wide_header(std::size_t count) {
    std::string header;
    for (std::size_t i = 1; i <= count; ++i) {
        header += (i > 1 ? "," : "") + ("c" + std::to_string(i));
    }
    return header;
}

// A folder of its own for the CSV files a test writes.
struct TempDir {
    fs::path path = fs::temp_directory_path() / ("onboard-csv-hostile-" + std::to_string(getpid()));
    TempDir() { fs::create_directories(path); }
    ~TempDir() { fs::remove_all(path); }
    std::string write(const std::string& name, const std::string& text) const {
        std::ofstream(path / name, std::ios::binary) << text;
        return (path / name).string();
    }
};

// The seed workflow's inputs, as the loader tests use them.
loader::ImportOptions seed_options(const std::string& path) {
    loader::ImportOptions options;
    options.path = path;
    options.inputs = {{"refreshToken", "string", true}, {"name", "string", true}, {"externalId", "string", false}};
    options.run_inputs = {"refreshToken"};
    return options;
}

// Stored rows as "line|name|externalId" or "line!reason", in line order.
Lines stored_rows(store::Store& db, std::int64_t import_id) {
    SQLite::Statement select(db.database(), "SELECT line, state, COALESCE(name, 'NULL'), COALESCE(external_id, "
                                            "'NULL'), error_message FROM rows WHERE import_id = ? ORDER BY line");
    select.bind(1, import_id);
    Lines rows;
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

// The message import_csv throws for the file, or "no error".
std::string import_error(const std::string& path, store::Store& db) {
    try {
        loader::import_csv(seed_options(path), db);
    } catch (const Error& e) {
        return e.what();
    }
    return "no error";
}

} // namespace

// ---- the reader ----

TEST_CASE("an empty input has no records", "[csv][hostile]") {
    CHECK(read_all("").empty());
    CHECK(read_all("\xEF\xBB\xBF").empty());
    CHECK(read_all("\n\r\n\r").empty());
}

TEST_CASE("a header-only input is one record, with or without a final line break", "[csv][hostile]") {
    CHECK(read_all("name,externalId") == Lines{"1|name|externalId"});
    CHECK(read_all("name,externalId\r\n") == Lines{"1|name|externalId"});
}

TEST_CASE("a NUL byte makes its record malformed and the next line is read", "[csv][hostile]") {
    using namespace std::string_literals;
    CHECK(read_all("name,id\nA\0da,1\nBo,2\n"s) ==
          Lines{"1|name|id", "2!NUL byte in field 1 (is this a text file?)", "3|Bo|2"});
    // Inside quotes the record's end is unknown: reading resumes at the line after its start, as
    // for an unterminated quote, so the rest of the broken field is a record of its own.
    CHECK(read_all("name,id\n\"Ok\",\"quoted\0\nstill quoted\"\nBo,2\n"s) ==
          Lines{"1|name|id", "2!NUL byte in field 2 (is this a text file?)",
                "3!stray quote in unquoted field 1 (quote the field and double its quotes)", "4|Bo|2"});
    CHECK(read_all("\0\0\0\0"s) == Lines{"1!NUL byte in field 1 (is this a text file?)"});
}

TEST_CASE("invalid UTF-8 passes the reader verbatim, for the importer to judge", "[csv][hostile]") {
    CHECK(read_all("name,id\n\xC3\x28,\xFF\xFE\xFD\n\xED\xA0\x80,1\n") ==
          Lines{"1|name|id", "2|\xC3\x28|\xFF\xFE\xFD", "3|\xED\xA0\x80|1"});
}

TEST_CASE("a UTF-16 file is refused with a hint", "[csv][hostile]") {
    CHECK_THROWS_WITH(read_all("\xFF\xFEn\0a\0"), "hostile.csv:1: the file is UTF-16; save it as UTF-8 CSV");
    CHECK_THROWS_WITH(read_all("\xFE\xFF\0n\0a"), "hostile.csv:1: the file is UTF-16; save it as UTF-8 CSV");
}

TEST_CASE("a 1 MB field is refused and the records after it are read", "[csv][hostile]") {
    CHECK(read_all("name,id\n" + k_one_mb + ",1\nBo,2\n") ==
          Lines{"1|name|id", "2!field 1 is longer than 65536 bytes", "3|Bo|2"});
    CHECK(read_all("name,id\nA,\"" + k_one_mb + "\"\nBo,2\n") ==
          Lines{"1|name|id", "2!field 2 is longer than 65536 bytes (or its closing quote is missing)", "3|Bo|2"});
}

TEST_CASE("a 100,000-column header is refused as too many fields", "[csv][hostile]") {
    CHECK(read_all(wide_header(100000) + "\nA,1\n") == Lines{"1!more than 10000 fields", "2|A|1"});
    CHECK(read_all(wide_header(10000) + "\n").size() == 1);
    CHECK(read_all(wide_header(10000) + "\n").front().substr(0, 9) == "1|c1|c2|c");
}

TEST_CASE("a 30 MB single line is refused and skipped in bounded memory", "[csv][hostile]") {
    const std::string line(30 * 1024 * 1024, 'a');
    CHECK(read_all(line) == Lines{"1!field 1 is longer than 65536 bytes"});
    CHECK(read_all(line + "\nBo,2\n") == Lines{"1!field 1 is longer than 65536 bytes", "2|Bo|2"});
    std::string commas(30 * 1024 * 1024, ',');
    CHECK(read_all(commas + "\nBo,2\n") == Lines{"1!more than 10000 fields", "2|Bo|2"});
    CHECK(read_all("\"" + line) == Lines{"1!field 1 is longer than 65536 bytes (or its closing quote is missing)"});
}

TEST_CASE("an unterminated quote costs only its own record", "[csv][hostile]") {
    CHECK(read_all("name,id\n\"never closed,1\nBo,2\nCy,3\n") ==
          Lines{"1|name|id", "2!unterminated quoted field (no closing quote before the end of the file)", "3|Bo|2",
                "4|Cy|3"});
}

// ---- the importer ----

TEST_CASE("importing an empty file fails naming the file", "[csv][hostile][loader]") {
    TempDir dir;
    store::Store db(":memory:");
    const auto empty = dir.write("empty.csv", "");
    CHECK(import_error(empty, db) == empty + ": no header line (the file is empty)");
}

TEST_CASE("importing a header-only file queues nothing", "[csv][hostile][loader]") {
    TempDir dir;
    store::Store db(":memory:");
    const auto header_only = dir.write("header.csv", "name,externalId\n");
    const auto summary = loader::import_csv(seed_options(header_only), db);
    CHECK(summary.counts.records == 0);
    CHECK(summary.counts.accepted == 0);
    CHECK(summary.counts.rejected == 0);
    CHECK(stored_rows(db, summary.import_id).empty());
}

TEST_CASE("importing NUL bytes rejects the record, or the file when in the header", "[csv][hostile][loader]") {
    using namespace std::string_literals;
    TempDir dir;
    store::Store db(":memory:");
    const auto in_row = dir.write("row.csv", "name,externalId\nA\0da,C-1\nBo,C-2\n"s);
    const auto summary = loader::import_csv(seed_options(in_row), db);
    CHECK(stored_rows(db, summary.import_id) == Lines{"2!NUL byte in field 1 (is this a text file?)", "3|Bo|C-2"});
    const auto in_header = dir.write("header.csv", "na\0me,externalId\nBo,C-2\n"s);
    CHECK(import_error(in_header, db) == in_header + ":1: header: NUL byte in field 1 (is this a text file?)");
}

TEST_CASE("importing invalid UTF-8 rejects the record naming its column", "[csv][hostile][loader]") {
    TempDir dir;
    store::Store db(":memory:");
    const auto path = dir.write("latin1.csv", "name,externalId\nZo\xEB,C-1\nBo,\xC3\x28\nCy,C-3\n");
    const auto summary = loader::import_csv(seed_options(path), db);
    CHECK(stored_rows(db, summary.import_id) ==
          Lines{"2!column \"name\" is not valid UTF-8 (save the file as UTF-8)",
                "3!column \"externalId\" is not valid UTF-8 (save the file as UTF-8)", "4|Cy|C-3"});
    REQUIRE(summary.first_rejections.size() == 2);
    CHECK(summary.first_rejections[0].line == 2);
    CHECK(summary.first_rejections[0].field == "name");
}

TEST_CASE("importing a UTF-16 file fails naming the file", "[csv][hostile][loader]") {
    TempDir dir;
    store::Store db(":memory:");
    const auto path = dir.write("utf16.csv", std::string("\xFF\xFEn\0a\0m\0e\0\n\0", 12));
    CHECK(import_error(path, db) == path + ":1: the file is UTF-16; save it as UTF-8 CSV");
}

TEST_CASE("importing a 1 MB field rejects its record and goes on", "[csv][hostile][loader]") {
    TempDir dir;
    store::Store db(":memory:");
    const auto path = dir.write("big.csv", "name,externalId\n" + k_one_mb + ",C-1\nBo,C-2\n");
    const auto summary = loader::import_csv(seed_options(path), db);
    CHECK(stored_rows(db, summary.import_id) == Lines{"2!column \"name\": field 1 is longer than 65536 bytes", "3|Bo|C-2"});
}

TEST_CASE("importing a 100,000-column header fails naming file and line", "[csv][hostile][loader]") {
    TempDir dir;
    store::Store db(":memory:");
    const auto path = dir.write("wide.csv", "name," + wide_header(100000) + "\nBo,1\n");
    CHECK(import_error(path, db) == path + ":1: header: more than 10000 fields");
}

TEST_CASE("importing a 30 MB single line fails naming file and line", "[csv][hostile][loader]") {
    TempDir dir;
    store::Store db(":memory:");
    const auto path = dir.write("line.csv", "name" + std::string(30 * 1024 * 1024, 'a'));
    CHECK(import_error(path, db) == path + ":1: header: field 1 is longer than 65536 bytes");
    const auto row = dir.write("row.csv", "name,externalId\n" + std::string(30 * 1024 * 1024, 'a') + "\nBo,C-2\n");
    const auto summary = loader::import_csv(seed_options(row), db);
    CHECK(stored_rows(db, summary.import_id) == Lines{"2!column \"name\": field 1 is longer than 65536 bytes", "3|Bo|C-2"});
}
