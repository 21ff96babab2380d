#pragma once

#include "core/json.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace onboard::report {

// A table of results: column names and rows of values (null, boolean, integer, number or string).
struct ResultSet {
    std::vector<std::string> columns;
    std::vector<std::vector<core::Json>> rows;
    // Columns marked true hold data meant to be imported again: CsvSafety::round_trip writes them
    // verbatim. Empty means no such column.
    std::vector<bool> verbatim;
    // Columns a table too narrow for all of them leaves out, most dispensable first; columns not
    // listed are left out from the right, and only when even the narrowest layout cannot fit.
    std::vector<std::size_t> drop_order = {};
};

enum class Format { table, csv, json, jsonl };

// How CSV output treats cells a spreadsheet would run as a formula.
enum class CsvSafety {
    neutralise, // every text cell starting with = + - @ tab or CR gets a leading '
    round_trip, // like neutralise, except in columns the result set marks verbatim
};

// How to render a result set.
struct RenderOptions {
    Format format = Format::table;
    int width = 0;      // table width in characters; 0 = unlimited
    bool color = false; // table: bold header (only for a terminal)
    CsvSafety csv_safety = CsvSafety::neutralise;
};

// Parses "table|csv|json|jsonl"; throws onboard::UsageError naming `where` otherwise.
Format parse_format(std::string_view text, std::string_view where);

// Renders a result set in the asked format; throws nothing.
// csv: RFC 4180 with CRLF line ends and a header; json: an array of objects, one per line;
// jsonl: one object per line; object members are named after the columns, in column order.
std::string render(const ResultSet& result, const RenderOptions& options);

// The aligned text table, cells cut with "…" so that each line fits `width` (0 = unlimited);
// columns left out as table_columns says.
std::string format_table(const ResultSet& result, int width, bool color);

// The columns (indexes, in order) a table of `width` characters shows: all of them when they fit
// with each cell at least a readable width (or as wide as its widest cell), else fewer, dropped
// first by the result set's drop_order and, when even the narrowest cells cannot fit, from the
// right; never fewer than one.
std::vector<std::size_t> table_columns(const ResultSet& result, int width);

// `value` with a leading ' when it starts with = + - @ tab or CR (so a spreadsheet shows it as
// text).
std::string neutralise_formula(std::string_view value);

// `value` as an RFC 4180 field: quoted when it holds a comma, quote, CR or LF.
std::string csv_field(std::string_view value);

// The width of the terminal on stdout (ioctl), else $COLUMNS, else 100 on a terminal and 0
// (unlimited) when stdout is a pipe or a file.
int terminal_width();

// Number of characters (UTF-8 code points) in `text`.
std::size_t display_width(std::string_view text);

} // namespace onboard::report
