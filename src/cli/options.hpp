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

// Adds --db and --workflow (with their env fallbacks) to a subcommand.
inline void add_global_options(CLI::App& command, GlobalOptions& options) {
    command.add_option("--db", options.db, "results database (env ONBOARD_DB)")
        ->envname("ONBOARD_DB")
        ->capture_default_str();
    command.add_option("--workflow", options.workflow, "Arazzo workflow file (default: the shipped job)");
    command.add_option("--log-level", options.log_level, "trace|debug|info|warn|error|off")
        ->capture_default_str();
}

} // namespace onboard::cli
