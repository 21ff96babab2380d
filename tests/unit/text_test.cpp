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

TEST_CASE("printable escapes bytes that are not utf-8 and keeps well-formed utf-8", "[text]") {
    CHECK(onboard::core::printable("r\xE9gion") == "r\\xe9gion");
    CHECK(onboard::core::printable("r\xC3\xA9gion \xF0\x9F\x98\x80") == "r\xC3\xA9gion \xF0\x9F\x98\x80");
    CHECK(onboard::core::printable("\xE2\x82") == "\\xe2\\x82");
}

TEST_CASE("bytes that are not utf-8 are each replaced by U+FFFD, well-formed text is kept", "[text]") {
    using onboard::core::replace_invalid_utf8;
    const std::string fffd = "\xEF\xBF\xBD";
    CHECK(replace_invalid_utf8("Caf\xC3\xA9 \xF0\x9F\x98\x80") == "Caf\xC3\xA9 \xF0\x9F\x98\x80");
    CHECK(replace_invalid_utf8("Caf\xE9") == "Caf" + fffd);
    CHECK(replace_invalid_utf8("a\xE2\x82") == "a" + fffd + fffd);          // truncated
    CHECK(replace_invalid_utf8("\xC0\x80") == fffd + fffd);                 // overlong NUL
    CHECK(replace_invalid_utf8("\xED\xA0\x80x") == fffd + fffd + fffd + "x"); // a surrogate
    CHECK(replace_invalid_utf8("\xF4\x90\x80\x80") == fffd + fffd + fffd + fffd); // past U+10FFFF
}
