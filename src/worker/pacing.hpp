#pragma once

#include <cstdint>
#include <optional>
#include <random>

namespace onboard::worker {

// Exponential backoff with full jitter and a cap: the delay before retry number `attempt` (1-based).
class Backoff {
public:
    Backoff(double base_seconds, double cap_seconds, std::uint64_t seed);
    // A server's Retry-After wins when it asks for longer than the jittered delay.
    double delay(int attempt, std::optional<double> retry_after_seconds);

private:
    double m_base;
    double m_cap;
    std::mt19937_64 m_random;
};

// One request budget shared by every worker and by the batch-scoped steps (the refresh): a token
// bucket of one request whose rate backs off on 429 (multiplicative decrease) and recovers while
// answers are good (additive increase).
class RateBudget {
public:
    // `ceiling` requests/s; 0 means unlimited until the first 429.
    explicit RateBudget(double ceiling);
    // Takes a token if one is available at `now` (seconds, monotonic).
    bool try_take(double now);
    // Seconds until a token will be available (0 when one is).
    double wait_time(double now) const;
    // A 429 arrived: halve the rate (at most once per second). `observed_rate` seeds an unlimited budget.
    void on_throttled(double now, double observed_rate);
    // A request succeeded: add back a little rate, at most once per second.
    void on_success(double now);
    double current_rate() const { return m_rate; }

private:
    void refill(double now);

    double m_ceiling;
    double m_rate;
    double m_tokens = 1;
    double m_last_refill = -1;
    double m_last_decrease = -1e9;
    double m_last_increase = -1e9;
};

} // namespace onboard::worker
