#include "worker/pool_impl.hpp"
#include "worker/reconcile.hpp"

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

namespace onboard::worker {

namespace {

// Writes the file next to itself, created 0600, synced, and renamed over the original: after a
// crash or power loss the file holds the old token or the new one, never half of one, and the
// rotated token (the only one that still works) is on disk before it is used.
void write_secret_file(const std::string& path, const std::string& value) {
    const std::string temporary = path + ".tmp";
    const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        throw UsageError(temporary + ": cannot write the rotated refresh token: " + std::strerror(errno));
    }
    const std::string text = value + "\n";
    const bool written = ::fchmod(fd, 0600) == 0 && ::write(fd, text.data(), text.size()) ==
                                                       static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
    ::close(fd);
    if (!written) {
        ::unlink(temporary.c_str());
        throw UsageError(temporary + ": cannot write the rotated refresh token");
    }
    if (std::rename(temporary.c_str(), path.c_str()) != 0) {
        throw UsageError(path + ": cannot replace it with the rotated refresh token: " + std::strerror(errno));
    }
    const std::string dir = std::filesystem::path(path).parent_path().string();
    if (const int dir_fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dir_fd >= 0) {
        ::fsync(dir_fd); // the rename itself survives a power loss
        ::close(dir_fd);
    }
}

} // namespace

std::optional<std::string> read_token_line(const std::string& path) {
    std::ifstream in(path);
    std::string token;
    if (!in || !std::getline(in, token)) {
        return std::nullopt;
    }
    while (!token.empty() && (token.back() == '\r' || token.back() == ' ' || token.back() == '\t')) {
        token.pop_back();
    }
    return token;
}

// A refresh refused with the token read at start: when another run sharing the token file rotated it
// meanwhile, the file holds the token that works now. True when it did and the refresh can go again.
bool Pool::Impl::take_token_from_file() {
    if (options.refresh_token_file.empty()) {
        return false;
    }
    const auto token = read_token_line(options.refresh_token_file);
    if (!token || token->empty()) {
        return false;
    }
    bool changed = false;
    for (const auto& name : workflow.secret_inputs()) {
        if (core::Json* value = run_inputs.find(name); value != nullptr && value->is_string() && value->as_string() != *token) {
            *value = *token;
            changed = true;
        }
    }
    if (changed) {
        secrets->add(*token);
        spdlog::info("{}: the refresh token was refused, and the file holds another one (rotated by another run?): "
                     "refreshing with it", options.refresh_token_file);
    }
    return changed;
}

void Pool::Impl::register_secrets(const TokenContext& context) const {
    for (const auto& [step, outputs] : context.step_outputs) {
        for (std::size_t i = 0; i < outputs.size(); ++i) {
            if (outputs.items()[i].is_string()) {
                for (const auto& secret : workflow.secret_outputs()) {
                    if (secret == step + "." + outputs.keys()[i]) {
                        secrets->add(outputs.items()[i].as_string());
                    }
                }
            }
        }
    }
}

void Pool::Impl::read_token_expiry(TokenContext& context) const {
    register_secrets(context);
    const double now = store::now_unix();
    for (const auto& [step, outputs] : context.step_outputs) {
        for (const auto& value : outputs.items()) {
            if (!value.is_string()) {
                continue;
            }
            if (const auto exp = jwt_expiry(value.as_string())) {
                context.expires_at = *exp;
                context.lifetime = std::max(0.0, *exp - now);
                return;
            }
        }
    }
}

// A batch never starts, and a row is never sent, with a token in its last fifth of life
// (at most a minute before exp): it would expire in flight.
bool Pool::Impl::token_needs_refresh(const TokenContext& context, double now) const {
    if (!context.expires_at) {
        return false;
    }
    const double margin = std::min(60.0, context.lifetime * 0.2);
    return now + margin >= *context.expires_at;
}

void Pool::Impl::remember_rotated_refresh_token(const http::Response& response) {
    if (response.body.find("refresh_token") == std::string::npos) {
        return;
    }
    core::Json body;
    try {
        body = core::Json::parse(response.body, "refresh response");
    } catch (const Error&) {
        return;
    }
    const core::Json* rotated = body.find("refresh_token");
    if (rotated == nullptr || !rotated->is_string() || rotated->as_string().empty()) {
        return;
    }
    secrets->add(rotated->as_string());
    refresh_tokens_rotate = true;
    for (const auto& name : workflow.secret_inputs()) {
        if (core::Json* value = run_inputs.find(name); value != nullptr && value->is_string()) {
            *value = rotated->as_string();
        }
    }
    if (!options.refresh_token_file.empty()) {
        write_secret_file(options.refresh_token_file, rotated->as_string());
    }
    spdlog::info("the refresh token was rotated; using the new one from now on");
}

} // namespace onboard::worker
