#include "cli/progress.hpp"

#include <cmath>
#include <unistd.h>

namespace onboard::cli {

ProgressLine::ProgressLine(bool enabled) : m_enabled(enabled && isatty(STDERR_FILENO) == 1) {}

std::string format_duration(double seconds) {
    if (!std::isfinite(seconds) || seconds < 0) {
        return "?";
    }
    const long total = std::lround(seconds);
    char buffer[32];
    if (total >= 3600) {
        std::snprintf(buffer, sizeof buffer, "%ldh%02ldm%02lds", total / 3600, total / 60 % 60, total % 60);
    } else if (total >= 60) {
        std::snprintf(buffer, sizeof buffer, "%ldm%02lds", total / 60, total % 60);
    } else {
        std::snprintf(buffer, sizeof buffer, "%lds", total);
    }
    return buffer;
}

void ProgressLine::update(const worker::RunTotals& totals) {
    if (!m_enabled) {
        return;
    }
    const std::int64_t finished = totals.succeeded + totals.failed;
    const double rate = totals.elapsed_seconds > 0 ? static_cast<double>(finished) / totals.elapsed_seconds : 0;
    const std::int64_t left = std::max<std::int64_t>(0, totals.to_do - finished);
    const std::string eta = rate > 0 ? format_duration(static_cast<double>(left) / rate) : "?";
    std::fprintf(stderr, "\r\033[K%lld/%lld done, %lld failed, %lld retries, %.0f rows/s, ETA %s",
                 static_cast<long long>(finished), static_cast<long long>(totals.to_do),
                 static_cast<long long>(totals.failed), static_cast<long long>(totals.retries), rate, eta.c_str());
    std::fflush(stderr);
    m_drawn = true;
}

void ProgressLine::update_import(std::int64_t records, double elapsed_seconds) {
    if (!m_enabled) {
        return;
    }
    const double rate = elapsed_seconds > 0 ? static_cast<double>(records) / elapsed_seconds : 0;
    std::fprintf(stderr, "\r\033[K%lld records read, %.0f records/s", static_cast<long long>(records), rate);
    std::fflush(stderr);
    m_drawn = true;
}

void ProgressLine::finish() {
    if (m_drawn) {
        std::fputc('\n', stderr);
        m_drawn = false;
    }
}

} // namespace onboard::cli
