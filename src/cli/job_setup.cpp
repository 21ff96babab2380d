#include "cli/job_setup.hpp"

#include "core/error.hpp"
#include "worker/pool.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <spdlog/spdlog.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
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

// Reads a secret from the environment and removes it: unsetenv() alone would leave the text in the
// initial environment block, which /proc/PID/environ shows, so the "NAME=value" entry is wiped too.
// (onboard never setenv()s these, so the entry is that block's or the caller's, never glibc's own copy.)
std::string take_env_secret(const char* name) {
    char* value = std::getenv(name);
    if (value == nullptr) {
        return "";
    }
    std::string taken = value;
    char* entry = value - std::strlen(name) - 1;
    const std::size_t length = std::strlen(entry);
    ::unsetenv(name);
    ::explicit_bzero(entry, length);
    return taken;
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
    const std::string token = worker::read_token_line(path).value_or("");
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

void keep_secrets_out_of_core_dumps() {
    // Also makes /proc/PID/{mem,environ} readable only by root, and refuses ptrace to others.
    if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
        spdlog::warn("cannot make the process non-dumpable: {}", std::strerror(errno));
    }
}

void check_token_file_writable(const std::string& path) {
    const auto refuse = [&](const std::string& reason) {
        throw UsageError(path + ": a rotated refresh token could not be saved here (" + reason +
                         "); nothing was sent, as the first refresh would retire the token in the file. "
                         "Make the file and its folder writable, or, if your refresh tokens do not rotate, "
                         "pass the token in PRISMATIC_REFRESH_TOKEN");
    };
    // The save writes PATH.tmp and renames it over PATH (worker's write_secret_file): try the first
    // step for real (for root too), and the flags that make the rename fail whatever the permissions.
    const std::string temporary = path + ".tmp";
    const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        refuse("cannot create \"" + temporary + "\": " + std::strerror(errno));
    }
    ::close(fd);
    ::unlink(temporary.c_str());
    if (const int file = ::open(path.c_str(), O_RDONLY | O_CLOEXEC); file >= 0) {
        int flags = 0;
        const bool locked =
            ::ioctl(file, FS_IOC_GETFLAGS, &flags) == 0 && (flags & (FS_IMMUTABLE_FL | FS_APPEND_FL)) != 0;
        ::close(file);
        if (locked) {
            refuse("the file is immutable or append-only (chattr -i / -a)");
        }
    }
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
        std::string value = take_env_secret(env_name_for(input.name).c_str());
        if (looks_like_refresh_token(input.name)) {
            std::string from_env = take_env_secret("PRISMATIC_REFRESH_TOKEN");
            // As from the token file: `export PRISMATIC_REFRESH_TOKEN="$(cat f; echo)"` keeps a line end.
            while (!from_env.empty() && (from_env.back() == '\n' || from_env.back() == '\r')) {
                from_env.pop_back();
            }
            if (!token_file.empty()) {
                value = read_token_file(token_file);
            } else if (value.empty()) {
                value = from_env;
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
