// Fuzz target for csv::Reader: reads the input once with the defaults (delimiter detected) and
// once with tiny limits and a delimiter chosen by the input's size, checking the reader's promises.
// Only onboard::Error is an expected outcome; any other exception, crash or broken promise is a finding.

#include "core/error.hpp"
#include "csv/reader.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>

namespace {

// Stops the run so that libFuzzer (or the replay main) reports the input.
void broken(const char* promise) {
    std::fprintf(stderr, "csv_fuzz: broken promise: %s\n", promise);
    std::abort();
}

void read_all(const std::string& text, const onboard::csv::ReaderOptions& options) {
    std::istringstream in(text);
    onboard::csv::Reader reader(in, "fuzz.csv", options);
    onboard::csv::Record record;
    std::int64_t last_line = 0;
    while (reader.next(record)) {
        if (record.line <= last_line) {
            broken("record lines increase strictly");
        }
        last_line = record.line;
        if (record.fields.empty()) {
            broken("a record has at least one field");
        }
        if (!record.error.empty()) {
            continue;
        }
        if (record.fields.size() > options.max_fields) {
            broken("a good record has at most max_fields fields");
        }
        for (const std::string& field : record.fields) {
            if (field.size() > options.max_field_bytes || field.find('\0') != std::string::npos) {
                broken("a good field is within max_field_bytes and holds no NUL");
            }
        }
    }
    const char delimiter = reader.delimiter();
    if (delimiter != ',' && delimiter != ';' && delimiter != '\t') {
        broken("the delimiter is ',', ';' or tab");
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    try {
        read_all(text, onboard::csv::ReaderOptions{});
    } catch (const onboard::Error&) {
    }
    onboard::csv::ReaderOptions tiny;
    constexpr char k_delimiters[] = {',', ';', '\t'};
    tiny.delimiter = k_delimiters[size % 3];
    tiny.max_field_bytes = 8;
    tiny.max_record_bytes = 32;
    tiny.max_fields = 4;
    try {
        read_all(text, tiny);
    } catch (const onboard::Error&) {
    }
    return 0;
}
