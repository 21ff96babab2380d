#include "core/error.hpp"
#include "core/log.hpp"

#include <catch2/catch.hpp>

using onboard::core::Secrets;

TEST_CASE("registered secrets are replaced wherever they appear", "[log]") {
    Secrets secrets;
    secrets.add("rt-very-secret");
    CHECK(secrets.redact("token=rt-very-secret and again rt-very-secret") ==
          "token=[redacted] and again [redacted]");
}

TEST_CASE("a secret holding a quote or a backslash is redacted in its JSON-escaped form too", "[log]") {
    Secrets secrets;
    secrets.add(R"(abc\def"SECRET3/x)");
    CHECK(secrets.redact(R"({"refresh_token":"abc\\def\"SECRET3/x"})") == R"({"refresh_token":"[redacted]"})");
    CHECK(secrets.redact(R"({"refresh_token":"abc\\def\"SECRET3\/x"})") == R"({"refresh_token":"[redacted]"})");
    CHECK(secrets.redact(R"(raw abc\def"SECRET3/x end)") == "raw [redacted] end");
}

TEST_CASE("a secret is redacted in its percent-encoded form (a query or form value)", "[log]") {
    Secrets secrets;
    secrets.add("rt+a/b=c d");
    CHECK(secrets.redact("GET /x?token=rt%2Ba%2Fb%3Dc%20d&y=1") == "GET /x?token=[redacted]&y=1");
}

TEST_CASE("anything shaped like a JWT is redacted even if never registered", "[log]") {
    const Secrets secrets;
    CHECK(secrets.redact("Bearer eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjF9.c2ln end") == "Bearer [redacted] end");
    CHECK(secrets.redact("eyJ alone is fine") == "eyJ alone is fine");
}

TEST_CASE("an unknown log level is a usage error naming it", "[log]") {
    CHECK(onboard::core::parse_log_level("debug") == onboard::core::LogLevel::debug);
    CHECK_THROWS_WITH(onboard::core::parse_log_level("loud"),
                      "unknown log level \"loud\" (trace, debug, info, warn, error, off)");
}
