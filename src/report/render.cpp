#include "report/render.hpp"

#include "core/error.hpp"
#include "core/text.hpp"

#include <algorithm>
#include <cmath>
#include <charconv>
#include <cstdlib>
#include <sys/ioctl.h>
#include <unistd.h>

namespace onboard::report {

namespace {

constexpr std::size_t k_min_column_width = 6;
// Below this a cut name or message says little: a table leaves out dispensable columns rather than
// cut every cell this short.
constexpr std::size_t k_readable_column_width = 12;
constexpr std::string_view k_ellipsis = "\xE2\x80\xA6";     // …
constexpr std::string_view k_newline_mark = "\xE2\x86\xB5"; // ↵

bool is_continuation(char c) {
    return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

// A value as text for table and CSV cells: null is empty, strings as they are.
std::string cell_text(const core::Json& value) {
    switch (value.type()) {
    case core::Json::Type::null:
        return "";
    case core::Json::Type::boolean:
        return value.as_bool() ? "true" : "false";
    case core::Json::Type::string:
        return value.as_string();
    case core::Json::Type::number:
        if (!std::isfinite(value.as_double())) {
            // As the sqlite3 shell prints them: JSON's null would read as SQL NULL (an empty cell).
            return std::isnan(value.as_double()) ? "NaN" : value.as_double() > 0 ? "Inf" : "-Inf";
        }
        return value.dump();
    default:
        return value.dump();
    }
}

// A cell on one line: line breaks shown as ↵, other control characters as spaces, bytes that are
// not UTF-8 as U+FFFD (they would garble the terminal and the column widths).
std::string one_line(std::string_view raw) {
    const std::string valid = core::replace_invalid_utf8(raw);
    const std::string_view text = valid;
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
            continue;
        }
        if (c == '\n' || c == '\r') {
            out += k_newline_mark;
        } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
            out += ' ';
        } else {
            out += c;
        }
    }
    return out;
}

// The first `width` characters of `text`, the last one replaced by … when it is longer.
std::string fit(const std::string& text, std::size_t width) {
    if (display_width(text) <= width) {
        return text;
    }
    if (width == 0) {
        return "";
    }
    std::size_t kept = 0;
    std::size_t end = 0;
    while (end < text.size() && kept < width - 1) {
        ++end;
        while (end < text.size() && is_continuation(text[end])) {
            ++end;
        }
        ++kept;
    }
    return text.substr(0, end) + std::string(k_ellipsis);
}

// Shrinks the widest columns, one character at a time, until the line fits `width`.
void shrink_to(std::vector<std::size_t>& widths, int width) {
    const std::size_t gaps = widths.empty() ? 0 : 2 * (widths.size() - 1);
    auto total = [&] {
        std::size_t sum = gaps;
        for (const auto w : widths) {
            sum += w;
        }
        return sum;
    };
    while (width > 0 && total() > static_cast<std::size_t>(width)) {
        const auto widest = std::max_element(widths.begin(), widths.end());
        if (*widest <= k_min_column_width) {
            return; // cannot fit: let the terminal wrap rather than cut everything to nothing
        }
        --*widest;
    }
}

// The width of a line showing `shown` columns, each at most `cap` (or its natural width) wide.
std::size_t line_width(const std::vector<std::size_t>& natural,
                       const std::vector<std::size_t>& shown, std::size_t cap) {
    std::size_t sum = shown.empty() ? 0 : 2 * (shown.size() - 1);
    for (const auto column : shown) {
        sum += std::min(natural[column], cap);
    }
    return sum;
}

std::vector<std::size_t> choose_columns(const std::vector<std::size_t>& natural,
                                        const std::vector<std::size_t>& drop_order, int width) {
    std::vector<std::size_t> shown;
    for (std::size_t i = 0; i < natural.size(); ++i) {
        shown.push_back(i);
    }
    if (width <= 0) {
        return shown;
    }
    const auto limit = static_cast<std::size_t>(width);
    for (const auto column : drop_order) {
        if (shown.size() <= 1 || line_width(natural, shown, k_readable_column_width) <= limit) {
            break;
        }
        shown.erase(std::remove(shown.begin(), shown.end(), column), shown.end());
    }
    while (shown.size() > 1 && line_width(natural, shown, k_min_column_width) > limit) {
        shown.pop_back();
    }
    return shown;
}

// The cells of a table on one line each, and each column's natural width (header included).
struct TableCells {
    std::vector<std::string> header;
    std::vector<std::vector<std::string>> rows;
    std::vector<std::size_t> widths;
    std::vector<bool> right; // numbers are right-aligned
};

TableCells table_cells(const ResultSet& result) {
    TableCells table;
    table.right.assign(result.columns.size(), false);
    for (const auto& column : result.columns) {
        table.header.push_back(one_line(column));
        table.widths.push_back(display_width(table.header.back()));
    }
    for (const auto& row : result.rows) {
        auto& line = table.rows.emplace_back();
        for (std::size_t i = 0; i < table.widths.size(); ++i) {
            line.push_back(i < row.size() ? one_line(cell_text(row[i])) : std::string());
            table.widths[i] = std::max(table.widths[i], display_width(line.back()));
            table.right[i] = table.right[i] || (i < row.size() && row[i].is_number());
        }
    }
    return table;
}

template <typename T>
std::vector<T> pick(const std::vector<T>& values, const std::vector<std::size_t>& shown) {
    std::vector<T> out;
    for (const auto column : shown) {
        out.push_back(values[column]);
    }
    return out;
}

void pad(std::string& out, const std::string& text, std::size_t width, bool right) {
    const std::string spaces(width - std::min(width, display_width(text)), ' ');
    out += right ? spaces + text : text + spaces;
}

void append_line(std::string& out, const std::vector<std::string>& cells,
                 const std::vector<std::size_t>& widths, const std::vector<bool>& right) {
    std::string line;
    for (std::size_t i = 0; i < cells.size(); ++i) {
        if (i > 0) {
            line += "  ";
        }
        pad(line, fit(cells[i], widths[i]), widths[i], right[i]);
    }
    while (!line.empty() && line.back() == ' ') {
        line.pop_back();
    }
    out += line;
    out += '\n';
}

std::string object_line(const std::vector<std::string>& keys, const std::vector<core::Json>& row) {
    std::string out = "{";
    for (std::size_t i = 0; i < keys.size(); ++i) {
        if (i > 0) {
            out += ',';
        }
        core::append_json_string(out, core::is_valid_utf8(keys[i]) ? keys[i] : core::replace_invalid_utf8(keys[i]));
        out += ':';
        if (row[i].is_string() && !core::is_valid_utf8(row[i].as_string())) {
            core::append_json_string(out, core::replace_invalid_utf8(row[i].as_string())); // JSON is UTF-8
        } else {
            row[i].dump_to(out);
        }
    }
    out += '}';
    return out;
}

// Column names as object keys: a repeated name gets a suffix (_2, _3, ...) so no member is lost.
std::vector<std::string> unique_keys(const std::vector<std::string>& columns) {
    std::vector<std::string> keys;
    for (const auto& column : columns) {
        std::string key = column;
        for (int n = 2; std::find(keys.begin(), keys.end(), key) != keys.end(); ++n) {
            key = column + "_" + std::to_string(n);
        }
        keys.push_back(key);
    }
    return keys;
}

std::string render_csv(const ResultSet& result, CsvSafety safety) {
    std::string out;
    for (std::size_t i = 0; i < result.columns.size(); ++i) {
        out += (i > 0 ? "," : "") + csv_field(result.columns[i]);
    }
    out += "\r\n";
    for (const auto& row : result.rows) {
        for (std::size_t i = 0; i < row.size(); ++i) {
            const bool verbatim =
                safety == CsvSafety::round_trip && i < result.verbatim.size() && result.verbatim[i];
            std::string text = cell_text(row[i]);
            if (row[i].is_string() && !verbatim) {
                text = neutralise_formula(text);
            }
            out += (i > 0 ? "," : "") + csv_field(text);
        }
        out += "\r\n";
    }
    return out;
}

std::string render_json(const ResultSet& result, bool lines) {
    const auto keys = unique_keys(result.columns);
    std::string out = lines ? "" : "[";
    for (std::size_t i = 0; i < result.rows.size(); ++i) {
        if (!lines) {
            out += i > 0 ? ",\n" : "\n";
        }
        out += object_line(keys, result.rows[i]);
        if (lines) {
            out += '\n';
        }
    }
    if (!lines) {
        out += result.rows.empty() ? "]\n" : "\n]\n";
    }
    return out;
}

} // namespace

Format parse_format(std::string_view text, std::string_view where) {
    if (text == "table")
        return Format::table;
    if (text == "csv")
        return Format::csv;
    if (text == "json")
        return Format::json;
    if (text == "jsonl")
        return Format::jsonl;
    throw UsageError(std::string(where) + ": unknown format \"" + std::string(text) +
                     "\" (expected table, csv, json or jsonl)");
}

std::string render(const ResultSet& result, const RenderOptions& options) {
    switch (options.format) {
    case Format::table:
        return format_table(result, options.width, options.color);
    case Format::csv:
        return render_csv(result, options.csv_safety);
    case Format::json:
        return render_json(result, false);
    case Format::jsonl:
        return render_json(result, true);
    }
    return "";
}

std::string format_table(const ResultSet& result, int width, bool color) {
    const TableCells table = table_cells(result);
    const auto shown = choose_columns(table.widths, result.drop_order, width);
    auto widths = pick(table.widths, shown);
    const auto right = pick(table.right, shown);
    shrink_to(widths, width);
    std::string out;
    std::string head;
    append_line(head, pick(table.header, shown), widths, right);
    out += color ? "\x1b[1m" + head.substr(0, head.size() - 1) + "\x1b[0m\n" : head;
    for (const auto& line : table.rows) {
        append_line(out, pick(line, shown), widths, right);
    }
    return out;
}

std::vector<std::size_t> table_columns(const ResultSet& result, int width) {
    return choose_columns(table_cells(result).widths, result.drop_order, width);
}

std::string neutralise_formula(std::string_view value) {
    if (!value.empty() &&
        std::string_view("=+-@\t\r").find(value.front()) != std::string_view::npos) {
        return "'" + std::string(value);
    }
    return std::string(value);
}

std::string csv_field(std::string_view value) {
    if (value.find_first_of(",\"\r\n") == std::string_view::npos) {
        return std::string(value);
    }
    std::string out = "\"";
    for (const char c : value) {
        out += c;
        if (c == '"') {
            out += '"';
        }
    }
    out += '"';
    return out;
}

int terminal_width() {
    const bool on_terminal = isatty(STDOUT_FILENO) == 1;
    winsize size{};
    if (on_terminal && ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) {
        return size.ws_col;
    }
    if (const char* columns = std::getenv("COLUMNS")) {
        int value = 0;
        const std::string_view text(columns);
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (ec == std::errc() && end == text.data() + text.size() && value > 0) {
            return value;
        }
    }
    // A pipe or a file without COLUMNS: nothing to fit, so nothing is cut.
    return on_terminal ? 100 : 0;
}

std::size_t display_width(std::string_view text) {
    return static_cast<std::size_t>(
        std::count_if(text.begin(), text.end(), [](char c) { return !is_continuation(c); }));
}

} // namespace onboard::report
