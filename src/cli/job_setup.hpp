#pragma once

#include "cli/options.hpp"
#include "core/json.hpp"
#include "core/log.hpp"
#include "workflow/workflow.hpp"

#include <memory>
#include <string>
#include <vector>

namespace onboard::cli {

// The shipped job, found next to the executable (build tree or install tree) or where it was built.
std::string default_workflow_path();

// Loads the workflow named by the options (or the shipped one), with secret-looking inputs as run
// inputs and the others as row inputs. Throws WorkflowError listing every problem.
workflow::Workflow load_job(const GlobalOptions& global);

// The inputs a run supplies once (not from the CSV): secret-looking ones and any not in the CSV.
std::vector<std::string> run_input_names(const workflow::Workflow& workflow);

// Makes the process non-dumpable (no core file, no ptrace by other users): call before reading secrets.
void keep_secrets_out_of_core_dumps();

// Checks before any request that a rotated refresh token could be saved to `path` as the run would
// save it; throws UsageError saying why not (the first refresh would otherwise retire the only token).
void check_token_file_writable(const std::string& path);

// Values of the run inputs: the refresh token from PRISMATIC_REFRESH_TOKEN or `token_file`, others from
// ONBOARD_INPUT_<NAME>; each variable read is removed from the environment (and /proc/PID/environ), and
// PRISMATIC_REFRESH_TOKEN even when the file is used. Registers every secret with `secrets`. Throws
// UsageError when a required one is missing.
core::Json collect_run_inputs(const workflow::Workflow& workflow, const std::string& token_file,
                              core::Secrets& secrets);

} // namespace onboard::cli
