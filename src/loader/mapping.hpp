#pragma once

#include "loader/importer.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace onboard::loader {

// How the header's columns feed the workflow's inputs.
struct ColumnMap {
    struct Entry {
        const InputSpec* input;
        std::size_t column;
    };
    std::vector<std::string> header; // trimmed, in file order
    std::vector<Entry> entries;      // in the workflow's input order
    std::vector<std::string> ignored;
    std::vector<std::string> refused;             // columns named like a run input
    std::vector<std::size_t> refused_positions;   // their positions: their values are never stored
    char delimiter = ',';                         // the file's, for rewriting a malformed record
};

// Maps header columns to the inputs not listed in options.run_inputs, by column_key or --map.
// Throws as check_overrides does, and InputError (at the header line of `source`) for a --map
// naming no column, two columns matching one input, or a required input no column feeds.
ColumnMap map_columns(const std::vector<std::string>& header, const ImportOptions& options,
                      const std::string& source, std::int64_t header_line);

// Throws UsageError for a --map naming an unknown input or a run input.
void check_overrides(const ImportOptions& options);

// `text` without leading and trailing ASCII whitespace.
std::string_view trim(std::string_view text);

} // namespace onboard::loader
