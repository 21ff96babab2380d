#pragma once

#include "cli/options.hpp"

#include <CLI/CLI.hpp>

namespace onboard::cli {

// Adds the read-side commands `status`, `report`, `export`, `query` and the `retry` command to
// `app`. Their callbacks write to stdout (or --out), set `exit_code` and throw onboard::Error on
// failure.
void add_report_commands(CLI::App& app, GlobalOptions& global, int& exit_code);

} // namespace onboard::cli
