#include "core/error.hpp"
#include "core/json.hpp"

#include <catch2/catch.hpp>

using onboard::core::Json;

TEST_CASE("json text round-trips with member order kept", "[json]") {
    const std::string text = R"({"b":1,"a":[true,null,"x\ny"],"c":{"d":-2.5}})";
    CHECK(Json::parse(text).dump() == text);
}

TEST_CASE("a json pointer walks objects and arrays", "[json]") {
    const Json doc = Json::parse(R"({"data":{"list":[{"id":"c1"}],"a/b":7,"m~n":8}})");
    REQUIRE(doc.at_pointer("/data/list/0/id") != nullptr);
    CHECK(doc.at_pointer("/data/list/0/id")->as_string() == "c1");
    CHECK(doc.at_pointer("/data/a~1b")->as_int() == 7);
    CHECK(doc.at_pointer("/data/m~0n")->as_int() == 8);
    CHECK(doc.at_pointer("") == &doc);
    CHECK(doc.at_pointer("/data/list/1") == nullptr);
    CHECK(doc.at_pointer("/data/list/x") == nullptr);
    CHECK(doc.at_pointer("data") == nullptr);
}

TEST_CASE("control characters are escaped in json strings", "[json]") {
    std::string out;
    onboard::core::append_json_string(out, std::string("a\"b\\c\x01", 6));
    CHECK(out == R"("a\"b\\c\u0001")");
}

TEST_CASE("malformed json names its source", "[json]") {
    CHECK_THROWS_WITH(Json::parse("{\"a\":", "response body"),
                      Catch::Matchers::StartsWith("response body: invalid JSON"));
}

TEST_CASE("set replaces a member of the same name", "[json]") {
    Json object;
    object.set("a", 1);
    object.set("a", "two");
    CHECK(object.dump() == R"({"a":"two"})");
}

TEST_CASE("utf-8 validation rejects a truncated sequence", "[json]") {
    CHECK(onboard::core::is_valid_utf8("J\xC3\xBCrgen"));
    CHECK_FALSE(onboard::core::is_valid_utf8("J\xC3"));
}

TEST_CASE("a double dumps as text that parses back to the same number", "[json]") {
    // Found by the json fuzz target: a 22-digit integral double dumped without a decimal point was
    // read back as an integer too large for simdjson.
    CHECK(Json::parse("3333033440003330330331.000").dump() == "3333033440003330408448.0");
    CHECK(Json::parse(Json::parse("3333033440003330330331.000").dump()).dump() == "3333033440003330408448.0");
    CHECK(Json::parse("-0.0").dump() == "-0.0");
    CHECK(Json(50.0).dump() == "50");
    CHECK(Json(0.75).dump() == "0.75");
    CHECK(Json(1e300).dump() == "1e+300");
}

TEST_CASE("an array of strings reads back byte for byte, bytes that are not utf-8 included", "[json]") {
    const std::vector<std::string> fields = {"Caf\xE9", "quote \" back\\slash", "line\nbreak\ttab\x01", "", "/"};
    std::string text = "[";
    for (const auto& field : fields) {
        text += text.size() > 1 ? "," : "";
        onboard::core::append_json_string(text, field);
    }
    text += "]";
    CHECK(onboard::core::parse_string_array(text, "t") == fields);
    CHECK(onboard::core::parse_string_array("[]", "t").empty());
    for (const char* bad : {"", "[", "[\"a\"", "[\"a\",]", "[1]", "[\"a\"] x", "[\"\\u12\"]", "{}"}) {
        CHECK_THROWS_AS(onboard::core::parse_string_array(bad, "t"), onboard::InputError);
    }
}
