#include "core/text.hpp"

#include <catch2/catch.hpp>

using onboard::core::printable;

TEST_CASE("printable text keeps ordinary text and UTF-8 as they are", "[text]") {
    CHECK(printable("Acme, \"Ltd\"") == "Acme, \"Ltd\"");
    CHECK(printable("Zürich AG 東京") == "Zürich AG 東京");
    CHECK(printable("").empty());
}

TEST_CASE("printable text shows control characters as escapes a terminal does not act on", "[text]") {
    CHECK(printable("a\nb\r\tc") == "a\\nb\\r\\tc");
    CHECK(printable("\x1b[2J\x1b[31mred") == "\\x1b[2J\\x1b[31mred");
    CHECK(printable(std::string("nul\0end", 7)) == "nul\\x00end");
    CHECK(printable("del\x7f") == "del\\x7f");
}
