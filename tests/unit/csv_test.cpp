#include "core/error.hpp"
#include "csv/reader.hpp"

#include <catch2/catch.hpp>

#include <sstream>
#include <string>
#include <vector>

using onboard::csv::Reader;
using onboard::csv::ReaderOptions;
using onboard::csv::Record;

namespace {

// What a reader saw: one entry per record, "line|field|field..." or "line!error".
std::vector<std::string> read_all(const std::string& text, ReaderOptions options = {}) {
    std::istringstream in(text);
    Reader reader(in, "t.csv", options);
    std::vector<std::string> out;
    Record record;
    while (reader.next(record)) {
        std::string entry = std::to_string(record.line);
        if (!record.error.empty()) {
            entry += "!" + record.error;
        } else {
            for (const auto& field : record.fields) {
                entry += "|" + field;
            }
        }
        out.push_back(entry);
    }
    return out;
}

using Lines = std::vector<std::string>;

} // namespace

TEST_CASE("plain records are split on commas and numbered by line", "[csv]") {
    CHECK(read_all("name,id\nAda,1\nBo,2\n") == Lines{"1|name|id", "2|Ada|1", "3|Bo|2"});
}

TEST_CASE("the last record may lack a line break", "[csv]") {
    CHECK(read_all("a,b\nc,d") == Lines{"1|a|b", "2|c|d"});
}

TEST_CASE("CRLF is one line break, and LF and CRLF may be mixed", "[csv]") {
    CHECK(read_all("a,b\r\nc,d\ne,f\r\n") == Lines{"1|a|b", "2|c|d", "3|e|f"});
}

TEST_CASE("a lone CR is a line break", "[csv]") {
    CHECK(read_all("a,b\rc,d\r") == Lines{"1|a|b", "2|c|d"});
}

TEST_CASE("a quoted field may contain the delimiter", "[csv]") {
    CHECK(read_all("n,e\n\"Okonkwo, Adaeze\",X\nQ,\"C,3\"\n") ==
          Lines{"1|n|e", "2|Okonkwo, Adaeze|X", "3|Q|C,3"});
}

TEST_CASE("doubled quotes inside a quoted field are one quote", "[csv]") {
    CHECK(read_all("a\n\"say \"\"hi\"\"\"\n") == Lines{"1|a", "2|say \"hi\""});
}

TEST_CASE("a quoted empty field is empty", "[csv]") {
    CHECK(read_all("a,b\n\"\",x\n") == Lines{"1|a|b", "2||x"});
}

TEST_CASE("a quoted field may contain line breaks, kept verbatim, and lines go on counting", "[csv]") {
    CHECK(read_all("n,e\n\"Vik\nDepot\",1\nW,2\n\"X\r\nY\",3\nZ,4\n") ==
          Lines{"1|n|e", "2|Vik\nDepot|1", "4|W|2", "5|X\r\nY|3", "7|Z|4"});
}

TEST_CASE("a UTF-8 byte order mark is dropped", "[csv]") {
    CHECK(read_all("\xEF\xBB\xBF" "externalId,name\nX,Y\n") == Lines{"1|externalId|name", "2|X|Y"});
}

TEST_CASE("a UTF-16 file is refused as a whole", "[csv]") {
    std::istringstream in(std::string("\xFF\xFEn\0a\0", 6));
    Reader reader(in, "t.csv");
    Record record;
    CHECK_THROWS_WITH(reader.next(record), "t.csv:1: the file is UTF-16; save it as UTF-8 CSV");
}

TEST_CASE("blank lines and all-empty records are skipped but still counted as lines", "[csv]") {
    CHECK(read_all("a,b\n\n,\r\n\"\",\"\"\nc,d\n\n") == Lines{"1|a|b", "5|c|d"});
}

TEST_CASE("a semicolon header without commas selects ';'", "[csv]") {
    std::istringstream in("Name;Id\r\nBrandt, Helga;1\r\n\"Koch; S\";2\r\n");
    Reader reader(in, "t.csv");
    CHECK(reader.delimiter() == ';');
    CHECK(read_all("Name;Id\r\nBrandt, Helga;1\r\n\"Koch; S\";2\r\n") ==
          Lines{"1|Name|Id", "2|Brandt, Helga|1", "3|Koch; S|2"});
}

TEST_CASE("a comma outside quotes in the header keeps ','", "[csv]") {
    CHECK(read_all("a;b,c\n1;2,3\n") == Lines{"1|a;b|c", "2|1;2|3"});
    CHECK(read_all("\"a,b\";c\n1;2\n") == Lines{"1|a,b|c", "2|1|2"});
}

TEST_CASE("a tab-only header selects tab", "[csv]") {
    CHECK(read_all("a\tb\n1\t2\n") == Lines{"1|a|b", "2|1|2"});
}

TEST_CASE("an explicit delimiter overrides detection", "[csv]") {
    ReaderOptions options;
    options.delimiter = ',';
    CHECK(read_all("a;b\n1;2\n", options) == Lines{"1|a;b", "2|1;2"});
}

TEST_CASE("an unsupported delimiter is refused", "[csv]") {
    std::istringstream in("a|b\n");
    ReaderOptions options;
    options.delimiter = '|';
    CHECK_THROWS_WITH(Reader(in, "t.csv", options), "csv: unsupported delimiter '|' (use ',', ';' or tab)");
}

TEST_CASE("spaces around a quoted field are dropped", "[csv]") {
    CHECK(read_all("a,b\n x , \"y, z\" \n") == Lines{"1|a|b", "2| x |y, z"});
}

TEST_CASE("an unterminated quote rejects its record only and reading resumes on the next line", "[csv]") {
    CHECK(read_all("n,e\n\"Ann,1\nBob,2\nCarl,3\n") ==
          Lines{"1|n|e", "2!unterminated quoted field (no closing quote before the end of the file)",
                "3|Bob|2", "4|Carl|3"});
}

TEST_CASE("a quote closed on a later line by another record's quote rejects the broken record", "[csv]") {
    CHECK(read_all("n,e\n\"Ann,1\nBob,2\n\"Carl\",3\n") ==
          Lines{"1|n|e", "2!text after the closing quote of field 1", "3|Bob|2", "4|Carl|3"});
}

TEST_CASE("text after a closing quote rejects the record", "[csv]") {
    CHECK(read_all("a,b\n\"Ann\" Smith,1\nc,d\n") ==
          Lines{"1|a|b", "2!text after the closing quote of field 1", "3|c|d"});
}

TEST_CASE("a quote inside an unquoted field rejects the record", "[csv]") {
    CHECK(read_all("a,b\nx,Bob \"B\" Smith\nc,d\n") ==
          Lines{"1|a|b", "2!stray quote in unquoted field 2 (quote the field and double its quotes)",
                "3|c|d"});
}

TEST_CASE("a NUL byte rejects its record", "[csv]") {
    CHECK(read_all(std::string("a,b\nx,y\0z\nc,d\n", 14)) ==
          Lines{"1|a|b", "2!NUL byte in field 2 (is this a text file?)", "3|c|d"});
}

TEST_CASE("a field over the size limit rejects its record", "[csv]") {
    ReaderOptions options;
    options.max_field_bytes = 4;
    CHECK(read_all("a,b\nx,12345\n\"12345\",y\nc,d\n", options) ==
          Lines{"1|a|b", "2!field 2 is longer than 4 bytes",
                "3!field 1 is longer than 4 bytes (or its closing quote is missing)", "4|c|d"});
}

TEST_CASE("a record over the size limit rejects it and skips to the next line", "[csv]") {
    ReaderOptions options;
    options.max_record_bytes = 8;
    CHECK(read_all("a,b\n1,2,3,4,5,6,7\nc,d\n", options) ==
          Lines{"1|a|b", "2!record is longer than 8 bytes", "3|c|d"});
}

TEST_CASE("too many fields reject the record", "[csv]") {
    ReaderOptions options;
    options.max_fields = 3;
    CHECK(read_all("a,b\n1,2,3,4\nc,d\n", options) == Lines{"1|a|b", "2!more than 3 fields", "3|c|d"});
}

TEST_CASE("a one megabyte field gets a clear error with the default limits", "[csv]") {
    const std::string text = "name,id\n" + std::string(1000 * 1000, 'x') + ",1\nBo,2\n";
    CHECK(read_all(text) == Lines{"1|name|id", "2!field 1 is longer than 65536 bytes", "3|Bo|2"});
}

TEST_CASE("a 30 MB single line gets a clear error and the next line is still read", "[csv]") {
    std::string text = "name,id\n";
    text.reserve(31 * 1000 * 1000);
    for (int i = 0; i < 3 * 1000 * 1000; ++i) {
        text += "abcdefghi,";
    }
    text += "\nBo,2\n";
    CHECK(read_all(text) == Lines{"1|name|id", "2!more than 10000 fields", "3|Bo|2"});
    std::string quoted = "name,id\n\"" + std::string(30 * 1000 * 1000, 'q') + "\",1\nBo,2\n";
    CHECK(read_all(quoted) == Lines{"1|name|id",
                                    "2!field 1 is longer than 65536 bytes (or its closing quote is missing)",
                                    "3|Bo|2"});
}

TEST_CASE("a header with 100000 columns gets a clear error", "[csv]") {
    std::string header;
    for (int i = 0; i < 100000; ++i) {
        header += (i ? ",c" : "c") + std::to_string(i);
    }
    CHECK(read_all(header + "\n1,2\n") == Lines{"1!more than 10000 fields", "2|1|2"});
}

TEST_CASE("records longer than the read chunk are read whole", "[csv]") {
    const std::string big(200 * 1000, 'n');
    const std::string text = "a,b\n\"" + big + "\r\n" + big + "\",x\nc,d\n";
    std::istringstream in(text);
    ReaderOptions options;
    options.max_field_bytes = 500 * 1000;
    Reader reader(in, "t.csv", options);
    Record record;
    REQUIRE(reader.next(record));
    REQUIRE(reader.next(record));
    CHECK(record.line == 2);
    CHECK(record.error.empty());
    REQUIRE(record.fields.size() == 2);
    CHECK((record.fields[0] == big + "\r\n" + big));
    CHECK(record.fields[1] == "x");
    REQUIRE(reader.next(record));
    CHECK(record.line == 4);
    CHECK(record.fields == std::vector<std::string>{"c", "d"});
    CHECK_FALSE(reader.next(record));
}
