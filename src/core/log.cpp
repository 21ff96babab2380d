#include "core/log.hpp"

#include "core/error.hpp"
#include "core/json.hpp"
#include "core/text.hpp"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cstdio>

namespace onboard::core {

namespace {

constexpr std::string_view k_redacted = "[redacted]";

constexpr std::array<std::pair<std::string_view, LogLevel>, 6> k_levels{{
    {"trace", LogLevel::trace},
    {"debug", LogLevel::debug},
    {"info", LogLevel::info},
    {"warn", LogLevel::warn},
    {"error", LogLevel::error},
    {"off", LogLevel::off},
}};

bool is_base64url(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '=';
}

// The length of a JWT (three base64url parts, the first a JSON header "eyJ…") starting at `pos`, or 0.
std::size_t jwt_length_at(std::string_view text, std::size_t pos) {
    if (text.compare(pos, 3, "eyJ") != 0 || (pos > 0 && is_base64url(text[pos - 1]))) {
        return 0;
    }
    std::size_t end = pos;
    int dots = 0;
    while (end < text.size() && (is_base64url(text[end]) || (text[end] == '.' && dots < 2))) {
        dots += text[end] == '.' ? 1 : 0;
        ++end;
    }
    return dots == 2 ? end - pos : 0;
}

// The forms in which a secret can appear in text onboard writes or logs: as it is, inside a JSON
// string (a request body: `\\` for `\`, `\"` for `"`; some servers also write `/` as `\/`) and
// percent-encoded (a query parameter or a form body).
std::vector<std::string> encoded_forms(const std::string& secret) {
    std::string json;
    append_json_string(json, secret);
    json = json.substr(1, json.size() - 2);
    std::string json_slashes;
    for (const char c : json) {
        json_slashes += c == '/' ? std::string("\\/") : std::string(1, c);
    }
    return {secret, json, json_slashes, percent_encode(secret)};
}

spdlog::level::level_enum to_spdlog(LogLevel level) {
    switch (level) {
    case LogLevel::trace:
        return spdlog::level::trace;
    case LogLevel::debug:
        return spdlog::level::debug;
    case LogLevel::info:
        return spdlog::level::info;
    case LogLevel::warn:
        return spdlog::level::warn;
    case LogLevel::error:
        return spdlog::level::err;
    case LogLevel::off:
        break;
    }
    return spdlog::level::off;
}

// Formats each line, redacts it, then writes it: nothing reaches the file before redact().
class RedactingSink : public spdlog::sinks::base_sink<std::mutex> {
public:
    RedactingSink(std::FILE* file, bool owned, std::shared_ptr<const Secrets> secrets)
        : m_file(file), m_owned(owned), m_secrets(std::move(secrets)) {}
    ~RedactingSink() override {
        if (m_owned) {
            std::fclose(m_file);
        }
    }
    RedactingSink(const RedactingSink&) = delete;
    RedactingSink& operator=(const RedactingSink&) = delete;

protected:
    void sink_it_(const spdlog::details::log_msg& message) override {
        spdlog::memory_buf_t formatted;
        formatter_->format(message, formatted);
        const std::string line =
            m_secrets ? m_secrets->redact({formatted.data(), formatted.size()}) : fmt::to_string(formatted);
        std::fwrite(line.data(), 1, line.size(), m_file);
    }
    void flush_() override { std::fflush(m_file); }

private:
    std::FILE* m_file;
    bool m_owned;
    std::shared_ptr<const Secrets> m_secrets;
};

} // namespace

LogLevel parse_log_level(std::string_view name) {
    for (const auto& [text, level] : k_levels) {
        if (text == name) {
            return level;
        }
    }
    throw UsageError("unknown log level \"" + std::string(name) + "\" (trace, debug, info, warn, error, off)");
}

void Secrets::add(const std::string& secret) {
    if (secret.size() < 4) {
        return;
    }
    const auto forms = encoded_forms(secret);
    const std::lock_guard lock(m_mutex);
    for (const auto& form : forms) {
        if (std::find(m_secrets.begin(), m_secrets.end(), form) == m_secrets.end()) {
            m_secrets.push_back(form);
        }
    }
}

std::string Secrets::redact(std::string_view text) const {
    std::string out;
    out.reserve(text.size());
    const std::lock_guard lock(m_mutex);
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t length = jwt_length_at(text, pos);
        for (const auto& secret : m_secrets) {
            // The longest form wins: a shorter one that is its prefix would leave the rest in clear.
            if (secret.size() > length && text.compare(pos, secret.size(), secret) == 0) {
                length = secret.size();
            }
        }
        if (length > 0) {
            out += k_redacted;
            pos += length;
        } else {
            out += text[pos++];
        }
    }
    return out;
}

void setup_logging(LogLevel level, std::shared_ptr<const Secrets> secrets, const std::string& file) {
    std::FILE* target = stderr;
    if (!file.empty()) {
        target = std::fopen(file.c_str(), "a");
        if (target == nullptr) {
            throw UsageError(file + ": cannot open the log file");
        }
    }
    auto sink = std::make_shared<RedactingSink>(target, !file.empty(), std::move(secrets));
    auto logger = std::make_shared<spdlog::logger>("onboard", std::move(sink));
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %l %v");
    logger->set_level(to_spdlog(level));
    logger->flush_on(spdlog::level::warn);
    spdlog::set_default_logger(std::move(logger));
}

} // namespace onboard::core
