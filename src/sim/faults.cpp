#include "sim/faults.hpp"

namespace onboard::sim {

namespace {

std::uint64_t splitmix64(std::uint64_t x) {
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

constexpr std::uint64_t k_salt_jitter = 17;
constexpr std::uint64_t k_salt_status = 19;

} // namespace

Faults::Faults(FaultOptions options) : m_options(options) {}

double Faults::uniform(std::uint64_t n, std::uint64_t salt) const {
    const std::uint64_t h = splitmix64(splitmix64(m_options.seed ^ (salt << 56)) ^ n);
    return static_cast<double>(h >> 11) * 0x1.0p-53;
}

bool Faults::hits(Fault fault, std::uint64_t n) const {
    double rate = 0;
    switch (fault) {
    case Fault::failure: rate = m_options.fail_rate; break;
    case Fault::drop: rate = m_options.drop_rate; break;
    case Fault::graphql_error: rate = m_options.graphql_error_rate; break;
    case Fault::slow: rate = m_options.slow_rate; break;
    }
    return rate > 0 && uniform(n, static_cast<std::uint64_t>(fault) + 1) < rate;
}

int Faults::failure_status(std::uint64_t n) const {
    static constexpr int k_statuses[] = {500, 502, 503};
    return k_statuses[static_cast<int>(uniform(n, k_salt_status) * 3)];
}

int Faults::delay_ms(std::uint64_t n) const {
    int delay = m_options.latency_ms;
    if (m_options.jitter_ms > 0) {
        delay += static_cast<int>(uniform(n, k_salt_jitter) * (m_options.jitter_ms + 1));
    }
    return delay;
}

bool Faults::admit(std::int64_t now_ms) {
    if (m_options.rate_limit <= 0) {
        return true;
    }
    const std::lock_guard lock(m_mutex);
    const std::int64_t window = now_ms / 1000;
    if (window != m_window) {
        m_window = window;
        m_count = 0;
    }
    if (m_count >= m_options.rate_limit) {
        return false;
    }
    ++m_count;
    return true;
}

void Faults::reset() {
    const std::lock_guard lock(m_mutex);
    m_window = -1;
    m_count = 0;
}

std::string proxy_error_page(int status) {
    const char* reason = status == 502 ? "502 Bad Gateway" : status == 503 ? "503 Service Temporarily Unavailable"
                                                                            : "500 Internal Server Error";
    return std::string("<html>\r\n<head><title>") + reason + "</title></head>\r\n<body>\r\n<center><h1>" + reason +
           "</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
}

} // namespace onboard::sim
