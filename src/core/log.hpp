#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace onboard::core {

enum class LogLevel { trace, debug, info, warn, error, off };

// Parses a level name; throws onboard::UsageError naming the unknown one and the choices.
LogLevel parse_log_level(std::string_view name);

// The secrets of a run (refresh and access tokens), kept so that no text leaves onboard with one in
// it: every log line goes through redact(). Thread-safe: tokens are added while lines are written.
class Secrets {
public:
    // Registers a secret with its JSON-escaped and percent-encoded forms (as request bodies and URLs
    // carry it); strings shorter than 4 bytes are ignored (they would redact ordinary words).
    void add(const std::string& secret);

    // `text` with every registered secret (in any of its forms), and anything shaped like a JWT,
    // replaced by "[redacted]".
    std::string redact(std::string_view text) const;

private:
    mutable std::mutex m_mutex;
    std::vector<std::string> m_secrets;
};

// Points spdlog's default logger at stderr (or `file`, appended) at `level`, every line passed
// through `secrets`. Throws onboard::UsageError when the file cannot be opened.
void setup_logging(LogLevel level, std::shared_ptr<const Secrets> secrets, const std::string& file = "");

} // namespace onboard::core
