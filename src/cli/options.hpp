#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace onboard::cli {

// Exit codes, documented in the README.
inline constexpr int k_exit_ok = 0;           // everything asked for succeeded
inline constexpr int k_exit_rows_failed = 1;  // the command ran, but some rows failed or were rejected
inline constexpr int k_exit_usage = 2;        // bad arguments, bad workflow, missing token, bad file
inline constexpr int k_exit_aborted = 3;      // a run stopped early: refused token, repeated auth failures
inline constexpr int k_exit_interrupted = 130; // SIGINT

// Options every command takes.
struct GlobalOptions {
    std::string db = "onboard.db";  // --db, env ONBOARD_DB
    std::string workflow;           // --workflow, default: the shipped job
    std::string log_level = "warn"; // --log-level
};

// Throws UsageError when `path` (an --out or --log-file) is the results database `db` or one of its
// WAL files: writing there would destroy every recorded result.
void refuse_database_as_output(const std::string& path, const std::string& db, const std::string& where);

// Adds --db and --workflow (with their env fallbacks) to a subcommand.
inline void add_global_options(CLI::App& command, GlobalOptions& options) {
    // No envname: every subcommand binds the same variable, and CLI11 then let ONBOARD_DB overwrite
    // a --db given on the command line. cli::run puts ONBOARD_DB in the default instead.
    command.add_option("--db", options.db, "results database (env ONBOARD_DB)")->capture_default_str();
    command.add_option("--workflow", options.workflow, "Arazzo workflow file (default: the shipped job)");
    command.add_option("--log-level", options.log_level, "trace|debug|info|warn|error|off")
        ->capture_default_str()
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
}

} // namespace onboard::cli
