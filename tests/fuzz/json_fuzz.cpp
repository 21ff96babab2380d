// Fuzz target for core::Json: parses the input and, when it parses, checks that its dump parses
// back to a value with the same dump, and walks a few JSON pointers. Only onboard::Error is expected.

#include "core/error.hpp"
#include "core/json.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

using onboard::core::Json;

namespace {

// Stops the run so that libFuzzer (or the replay main) reports the input.
void broken(const char* promise) {
    std::fprintf(stderr, "json_fuzz: broken promise: %s\n", promise);
    std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    Json value;
    try {
        value = Json::parse(text, "fuzz.json");
    } catch (const onboard::Error&) {
        return 0;
    }
    const std::string dumped = value.dump();
    try {
        if (Json::parse(dumped).dump() != dumped) {
            broken("a value's dump parses back to a value with the same dump");
        }
    } catch (const onboard::Error&) {
        broken("a value's dump is valid JSON");
    }
    for (const char* pointer : {"", "/", "/0", "/a", "/a/0/b", "/~0~1", "/-"}) {
        if (const Json* found = value.at_pointer(pointer)) {
            found->dump();
        }
    }
    return 0;
}
