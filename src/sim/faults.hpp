#pragma once

#include <cstdint>
#include <mutex>
#include <string>

namespace onboard::sim {

// The fault injection flags of prismatic-sim.
struct FaultOptions {
    int latency_ms = 0;
    int jitter_ms = 0;
    double fail_rate = 0;          // 500/502/503 with an HTML body, as a proxy sends
    int rate_limit = 0;            // requests per second; 0 is unlimited
    double drop_rate = 0;          // commit, then close the connection with no response
    double graphql_error_rate = 0; // 200 with top-level errors, nothing executed
    double slow_rate = 0;          // commit, then answer after slow_ms
    int slow_ms = 0;
    std::uint64_t seed = 0;
};

enum class Fault { failure, drop, graphql_error, slow };

// Decides which request suffers which fault: a hash of (seed, request number, fault), so a run is
// reproducible under --seed whatever the threads do; thread-safe.
class Faults {
public:
    explicit Faults(FaultOptions options);

    const FaultOptions& options() const { return m_options; }
    // Whether request number `n` suffers `fault`.
    bool hits(Fault fault, std::uint64_t n) const;
    // The status of an injected failure for request `n`: 500, 502 or 503.
    int failure_status(std::uint64_t n) const;
    // The latency plus jitter to add to request `n`'s answer.
    int delay_ms(std::uint64_t n) const;
    // Whether one more request fits in the current second under --rate-limit.
    bool admit(std::int64_t now_ms);
    // Forgets the rate limiter's current window.
    void reset();

private:
    double uniform(std::uint64_t n, std::uint64_t salt) const;

    FaultOptions m_options;
    std::mutex m_mutex;
    std::int64_t m_window = -1;
    int m_count = 0;
};

// The HTML page a proxy sends with `status`.
std::string proxy_error_page(int status);

} // namespace onboard::sim
