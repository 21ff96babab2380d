#pragma once

#include "store/store.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace onboard::loader {

// Records written per transaction while importing.
inline constexpr std::size_t k_records_per_transaction = 10000;
// Rejections an ImportSummary keeps to show.
inline constexpr std::size_t k_rejections_shown = 10;

// One of the workflow's inputs: "string", "integer", "number" or "boolean" (others are read as text).
struct InputSpec {
    std::string name;
    std::string type;
    bool required = false;
};

// What to import and how to read it.
struct ImportOptions {
    std::string path;
    std::vector<InputSpec> inputs;
    std::vector<std::pair<std::string, std::string>> overrides; // --map input=Column
    std::optional<char> delimiter;                              // none = detect
    std::vector<std::string> run_inputs; // inputs NOT taken from the CSV (e.g. refreshToken)
    // Called after each committed group of records with the records read so far (long imports).
    std::function<void(std::int64_t records)> progress;
    // When set and above zero (SIGINT), the import stops after the record it is at, keeps what it
    // stored and stays unfinished: importing the same file again resumes it.
    const std::atomic<int>* stop = nullptr;
};

// Why a record was not queued.
struct RowIssue {
    std::int64_t line = 0;
    std::string field; // the CSV column concerned, empty for the record as a whole
    std::string message;
};

// What an import did.
struct ImportSummary {
    std::int64_t import_id = 0;
    bool already_imported = false; // the same bytes were imported before: nothing was added
    bool resumed = false;          // an interrupted import of the same bytes was completed
    bool options_not_applied = false; // already imported, and --map or --delimiter was given anyway
    bool interrupted = false;         // stopped by ImportOptions::stop; resumable
    std::int64_t last_line = 0;       // the last line read when interrupted
    store::ImportCounts counts;
    std::vector<RowIssue> first_rejections;     // the first k_rejections_shown
    std::vector<std::string> ignored_columns;   // columns no input reads
    std::vector<std::string> refused_columns;   // columns named like a run input: never read
    std::vector<std::string> reserved_columns;   // mapped columns named like an export's own
    std::int64_t quoted_formulas = 0;            // in an export: values starting "'=", "'+", "'-", "'@"
    std::int64_t first_quoted_formula_line = 0;
    std::map<std::string, std::string> mapping; // input -> column
};

// Reads the CSV at options.path into the store's queue: maps columns to inputs, validates and
// dedupes each record, records rejections. Throws InputError for file-level problems (missing
// file, empty file, bad header, required column absent), UsageError for a bad --map, StoreError.
ImportSummary import_csv(const ImportOptions& options, store::Store& store);

// The human summary `onboard import` prints, one fact per line.
std::string describe(const ImportSummary& summary, const std::string& file_name);

// The header key inputs are matched by: lower case, without spaces, '_' and '-'.
std::string column_key(std::string_view name);

} // namespace onboard::loader
