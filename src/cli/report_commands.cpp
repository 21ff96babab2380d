#include "cli/report_commands.hpp"

#include "core/error.hpp"
#include "report/queries.hpp"
#include "report/retry.hpp"
#include "report/summary.hpp"
#include "store/store.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <unistd.h>

namespace onboard::cli {

namespace {

// Where a command's output goes and how it looks.
struct Output {
    std::string format = "table";
    std::string out;                      // empty: stdout
    const GlobalOptions* global = nullptr; // for the --db an --out must not overwrite
};

void add_output_options(CLI::App& command, Output& output, const std::string& default_format,
                        const GlobalOptions& global) {
    output.format = default_format;
    output.global = &global;
    command.add_option("--format", output.format, "table|csv|json|jsonl")->capture_default_str();
    command.add_option("--out", output.out, "write to this file instead of stdout");
}

bool colour_wanted(const Output& output) {
    return output.out.empty() && isatty(STDOUT_FILENO) == 1 && std::getenv("NO_COLOR") == nullptr;
}

void write_output(const std::string& text, const std::string& path, const std::string& where,
                  const std::string& db = "") {
    if (path.empty()) {
        errno = 0;
        std::cout << text << std::flush;
        if (!std::cout) {
            throw UsageError(where + ": cannot write to stdout: " + std::strerror(errno != 0 ? errno : EIO));
        }
        return;
    }
    refuse_database_as_output(path, db, where);
    std::ofstream file(path, std::ios::binary | std::ios::trunc);
    file << text;
    file.close();
    if (!file) {
        throw UsageError(where + ": cannot write \"" + path + "\": " + std::strerror(errno));
    }
}

// A table that left columns out to fit says so on stderr, so nothing on stdout changes shape.
void note_left_out(const report::ResultSet& result, int width, const std::string& where) {
    if (width <= 0) {
        return; // nothing was fitted
    }
    const auto shown = report::table_columns(result, width);
    if (shown.size() >= result.columns.size()) {
        return;
    }
    std::string names;
    for (std::size_t i = 0; i < result.columns.size(); ++i) {
        if (std::find(shown.begin(), shown.end(), i) == shown.end()) {
            names += (names.empty() ? "" : ", ") + result.columns[i];
        }
    }
    const auto count = result.columns.size() - shown.size();
    std::cerr << where << ": " << count << (count == 1 ? " column" : " columns")
              << " left out to fit " << width << " characters (" << names
              << (where == "status" ? "); status --json shows them all\n"
                                    : "); --format csv, json or jsonl shows them all\n");
}

void emit(const report::ResultSet& result, const Output& output, const std::string& where,
          report::CsvSafety safety = report::CsvSafety::neutralise) {
    report::RenderOptions options;
    options.format = report::parse_format(output.format, where);
    // A table written to a file has no terminal to fit.
    options.width = output.out.empty() ? report::terminal_width() : 0;
    options.color = colour_wanted(output);
    options.csv_safety = safety;
    write_output(report::render(result, options), output.out, where, output.global->db);
    if (options.format == report::Format::table) {
        note_left_out(result, options.width, where);
    }
}

std::optional<std::int64_t> optional_id(const CLI::Option* option, std::int64_t value) {
    return option->count() > 0 ? std::optional<std::int64_t>(value) : std::nullopt;
}

std::string rows_text(std::int64_t count, const std::string& what) {
    return std::to_string(count) + " " + what + (count == 1 ? " row" : " rows");
}

struct ImportOption {
    std::int64_t id = 0;
    CLI::Option* option = nullptr;
    std::optional<std::int64_t> value() const { return optional_id(option, id); }
};

void add_import_option(CLI::App& command, ImportOption& import) {
    import.option =
        command.add_option("--import", import.id, "only this import (id from `onboard status`)");
}

// One import's summary, or a table of every import with the overall summary under it.
void print_status(store::Store& store, std::optional<std::int64_t> import_id, bool json) {
    if (import_id) {
        const auto summary = report::summarize(store, import_id);
        // The total is every import shown, not one import: no id or file of its own (README).
        report::ImportSummary total = summary;
        total.import_id.reset();
        total.file_name.clear();
        total.imported_at.clear();
        write_output(json ? report::status_json({summary}, total).dump() + "\n"
                          : report::format_summary(summary),
                     "", "status");
        return;
    }
    const auto [imports, total] = report::summarize_all(store);
    if (json) {
        write_output(report::status_json(imports, total).dump() + "\n", "", "status");
        return;
    }
    const auto table = report::status_table(imports, total);
    const int width = report::terminal_width();
    write_output(report::format_table(table, width, colour_wanted(Output{})) + "\n" +
                     report::format_summary(total),
                 "", "status");
    note_left_out(table, width, "status");
}

void add_status(CLI::App& app, GlobalOptions& global, int& exit_code) {
    auto* command =
        app.add_subcommand("status", "rows per state, success rate and timing, per import");
    add_global_options(*command, global);
    auto options = std::make_shared<std::pair<bool, ImportOption>>();
    command->add_flag("--json", options->first, "print JSON (stable field names, see README)");
    add_import_option(*command, options->second);
    command->callback([&global, &exit_code, options] {
        store::Store store(global.db, store::OpenMode::read_only);
        const bool json = options->first;
        print_status(store, options->second.value(), json);
        exit_code = k_exit_ok;
    });
}

void add_report(CLI::App& app, GlobalOptions& global, int& exit_code) {
    auto* command =
        app.add_subcommand("report", "list rows with their state, error and customer id");
    add_global_options(*command, global);
    struct Options {
        report::RowFilter filter;
        ImportOption import;
        Output output;
    };
    auto options = std::make_shared<Options>();
    command->add_option("--status,--state", options->filter.states, "only rows in these states");
    command->add_option("--class", options->filter.classes, "only rows with these failure classes");
    add_import_option(*command, options->import);
    add_output_options(*command, options->output, "table", global);
    command->callback([&global, &exit_code, options] {
        store::Store store(global.db, store::OpenMode::read_only);
        options->filter.import_id = options->import.value();
        emit(report::report_rows(store, options->filter), options->output, "report");
        exit_code = k_exit_ok;
    });
}

void add_export(CLI::App& app, GlobalOptions& global, int& exit_code) {
    auto* command =
        app.add_subcommand("export", "write the failed rows (to fix and import again) or the "
                                     "customers created");
    add_global_options(*command, global);
    struct Options {
        bool failed = false, succeeded = false, safe = false;
        ImportOption import;
        Output output;
    };
    auto options = std::make_shared<Options>();
    auto* failed = command->add_flag("--failed", options->failed,
                                     "failed and rejected rows, as in the source CSV");
    auto* succeeded = command->add_flag("--succeeded", options->succeeded,
                                        "customer ids created, with the inputs");
    failed->excludes(succeeded);
    command->add_flag(
        "--safe-for-spreadsheet", options->safe,
        "neutralise formula-like cells in the source columns too (they then re-import changed)");
    add_import_option(*command, options->import);
    add_output_options(*command, options->output, "csv", global);
    command->callback([&global, &exit_code, options] {
        if (!options->failed && !options->succeeded) {
            throw UsageError("export: give --failed or --succeeded");
        }
        store::Store store(global.db, store::OpenMode::read_only);
        const auto import_id = options->import.value();
        const auto result = options->failed ? report::export_failed(store, import_id)
                                            : report::export_succeeded(store, import_id);
        emit(result, options->output, "export",
             options->safe ? report::CsvSafety::neutralise : report::CsvSafety::round_trip);
        exit_code = k_exit_ok;
    });
}

void add_query(CLI::App& app, GlobalOptions& global, int& exit_code) {
    auto* command =
        app.add_subcommand("query", "run one read-only SQL statement on the results database");
    add_global_options(*command, global);
    struct Options {
        std::string sql;
        Output output;
    };
    auto options = std::make_shared<Options>();
    command->add_option("sql", options->sql, "the SQL statement (see README for useful ones)")
        ->required();
    add_output_options(*command, options->output, "table", global);
    command->callback([&global, &exit_code, options] {
        store::Store store(global.db, store::OpenMode::read_only);
        emit(report::run_query(store, options->sql), options->output, "query");
        exit_code = k_exit_ok;
    });
}

void add_retry(CLI::App& app, GlobalOptions& global, int& exit_code) {
    auto* command =
        app.add_subcommand("retry", "put failed rows back in the queue for the next run");
    add_global_options(*command, global);
    struct Options {
        report::RetryFilter filter;
        ImportOption import;
    };
    auto options = std::make_shared<Options>();
    add_import_option(*command, options->import);
    command->add_option("--class", options->filter.classes,
                        "only rows that failed with these classes");
    command->add_option("--line", options->filter.lines, "only rows starting at these CSV lines");
    command->callback([&global, &exit_code, options] {
        options->filter.import_id = options->import.value();
        store::Store store(global.db, store::OpenMode::existing);
        const auto requeued = report::requeue_failed(store, options->filter);
        const auto left = report::count_leftovers(store, options->filter);
        std::string text = requeued > 0 ? "requeued " + rows_text(requeued, "failed") +
                                              (requeued == 1 ? "; `onboard run` sends it\n" : "; `onboard run` sends them\n")
                                        : std::string("no failed rows to requeue\n");
        if (left.rejected > 0) {
            text += rows_text(left.rejected, "rejected") + " cannot be retried: fix " +
                    (left.rejected == 1 ? "it" : "them") + " (`onboard export --failed`) and import the file again\n";
        }
        if (left.outcome_unknown > 0) {
            text += rows_text(left.outcome_unknown, "outcome_unknown") +
                    " will be reconciled by the next run\n";
        }
        write_output(text, "", "retry");
        exit_code = k_exit_ok;
    });
}

} // namespace

void add_report_commands(CLI::App& app, GlobalOptions& global, int& exit_code) {
    add_status(app, global, exit_code);
    add_report(app, global, exit_code);
    add_export(app, global, exit_code);
    add_query(app, global, exit_code);
    add_retry(app, global, exit_code);
}

} // namespace onboard::cli
