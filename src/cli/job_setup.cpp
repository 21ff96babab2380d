#include "cli/job_setup.hpp"

#include "core/error.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

namespace onboard::cli {

namespace {

// The seed workflow with payload errors selected (jobs/arazzo/prismatic-create-customer-workflow.yml is the seed itself).
constexpr const char* k_shipped_job = "jobs/arazzo/onboard-create-customer.yml";

std::filesystem::path executable_dir() {
    std::error_code error;
    const auto self = std::filesystem::read_symlink("/proc/self/exe", error);
    return error ? std::filesystem::path() : self.parent_path();
}

std::string env_or_empty(const char* name) {
    const char* value = std::getenv(name);
    return value != nullptr ? value : "";
}

bool looks_like_refresh_token(const std::string& name) {
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    return lower.find("refresh") != std::string::npos;
}

std::string read_token_file(const std::string& path) {
    std::ifstream in(path);
    if (!in) {
        throw UsageError(path + ": cannot read the refresh token file (" + std::strerror(errno) + ")");
    }
    struct stat status {};
    if (::stat(path.c_str(), &status) == 0 && (status.st_mode & 077) != 0) {
        // Not refused: a shared CI secret mount may be group-readable on purpose.
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(status.st_mode & 07777));
        spdlog::warn("{}: the refresh token file can be read by other users (mode {}); chmod 600 it", path, mode);
    }
    std::string token;
    std::getline(in, token);
    while (!token.empty() && (token.back() == '\r' || token.back() == ' ' || token.back() == '\t')) {
        token.pop_back();
    }
    if (token.empty()) {
        throw UsageError(path + ": the refresh token file is empty");
    }
    return token;
}

std::string env_name_for(const std::string& input) {
    std::string name = "ONBOARD_INPUT_";
    for (const char c : input) {
        name += static_cast<char>(std::isalnum(static_cast<unsigned char>(c)) ? std::toupper(c) : '_');
    }
    return name;
}

} // namespace

std::string default_workflow_path() {
    const auto dir = executable_dir();
    // build/onboard (in the source tree), bin/../share/onboard (installed), then where it was built.
    for (const auto& candidate : {dir / ".." / k_shipped_job, dir / ".." / "share" / "onboard" / k_shipped_job,
                                  dir / k_shipped_job}) {
        if (!dir.empty() && std::filesystem::exists(candidate)) {
            return std::filesystem::weakly_canonical(candidate).string();
        }
    }
    return ONBOARD_DEFAULT_WORKFLOW;
}

std::vector<std::string> run_input_names(const workflow::Workflow& workflow) {
    return workflow.secret_inputs();
}

workflow::Workflow load_job(const GlobalOptions& global) {
    const std::string path = global.workflow.empty() ? default_workflow_path() : global.workflow;
    workflow::Workflow loaded = workflow::Workflow::load(path);
    // Row inputs are every declared input that is not a secret: secrets never come from the file.
    std::vector<std::string> row_inputs;
    const auto secret = loaded.secret_inputs();
    for (const auto& input : loaded.inputs()) {
        if (std::find(secret.begin(), secret.end(), input.name) == secret.end()) {
            row_inputs.push_back(input.name);
        }
    }
    return workflow::Workflow::load(path, row_inputs);
}

core::Json collect_run_inputs(const workflow::Workflow& workflow, const std::string& token_file,
                              core::Secrets& secrets) {
    core::Json values = core::Json::object();
    const auto names = run_input_names(workflow);
    for (const auto& input : workflow.inputs()) {
        if (std::find(names.begin(), names.end(), input.name) == names.end()) {
            continue;
        }
        std::string value = env_or_empty(env_name_for(input.name).c_str());
        if (looks_like_refresh_token(input.name)) {
            if (!token_file.empty()) {
                value = read_token_file(token_file);
            } else if (value.empty()) {
                value = env_or_empty("PRISMATIC_REFRESH_TOKEN");
            }
        }
        if (value.empty()) {
            if (input.required) {
                throw UsageError(looks_like_refresh_token(input.name)
                                     ? "no refresh token: set PRISMATIC_REFRESH_TOKEN or pass --refresh-token-file"
                                     : "no value for the workflow input \"" + input.name + "\": set " +
                                           env_name_for(input.name));
            }
            continue;
        }
        secrets.add(value);
        values.set(input.name, value);
    }
    return values;
}

} // namespace onboard::cli
