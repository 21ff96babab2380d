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

// Values of the run inputs: the refresh token from PRISMATIC_REFRESH_TOKEN or `token_file`, others from
// ONBOARD_INPUT_<NAME>. Registers every secret with `secrets`. Throws UsageError when a required one
// is missing.
core::Json collect_run_inputs(const workflow::Workflow& workflow, const std::string& token_file,
                              core::Secrets& secrets);

} // namespace onboard::cli
