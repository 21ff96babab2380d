#include "worker/pacing.hpp"

#include <algorithm>
#include <cmath>

namespace onboard::worker {

Backoff::Backoff(double base_seconds, double cap_seconds, std::uint64_t seed)
    : m_base(base_seconds), m_cap(cap_seconds), m_random(seed) {}

double Backoff::delay(int attempt, std::optional<double> retry_after_seconds) {
    const double ceiling = std::min(m_cap, m_base * std::pow(2.0, std::max(0, attempt - 1)));
    std::uniform_real_distribution<double> jitter(0.0, ceiling);
    const double chosen = jitter(m_random);
    if (retry_after_seconds && *retry_after_seconds > chosen) {
        return std::min(*retry_after_seconds, std::max(m_cap, 3600.0));
    }
    return chosen;
}

RateBudget::RateBudget(double ceiling) : m_ceiling(ceiling), m_rate(ceiling) {}

void RateBudget::refill(double now) {
    if (m_last_refill < 0) {
        m_last_refill = now;
        return;
    }
    // Room for one request and a half: requests go out evenly spaced, and a caller that polls a little
    // late keeps the time it lost. A larger bucket lets a burst follow a pause, and a server counting
    // requests per calendar second (as many limiters do) answers the burst's excess with 429s.
    m_tokens = std::min(1.5, m_tokens + (now - m_last_refill) * m_rate);
    m_last_refill = now;
}

bool RateBudget::try_take(double now) {
    if (m_rate <= 0) {
        return true;
    }
    refill(now);
    if (m_tokens >= 1) {
        m_tokens -= 1;
        return true;
    }
    return false;
}

double RateBudget::wait_time(double now) const {
    if (m_rate <= 0 || m_tokens >= 1) {
        return 0;
    }
    const double elapsed = m_last_refill < 0 ? 0 : now - m_last_refill;
    return std::max(0.0, (1 - m_tokens) / m_rate - elapsed);
}

void RateBudget::on_throttled(double now, double observed_rate) {
    if (now - m_last_decrease < 1.0) {
        return;
    }
    m_last_decrease = now;
    const double base = m_rate > 0 ? m_rate : std::max(1.0, observed_rate);
    m_rate = std::max(1.0, base * 0.5);
    if (m_ceiling <= 0) {
        m_ceiling = base; // recover towards what worked before the first 429
    }
    m_tokens = std::min(m_tokens, 0.0);
}

void RateBudget::on_success(double now) {
    if (m_rate <= 0 || m_rate >= m_ceiling || now - m_last_increase < 1.0 || now - m_last_decrease < 1.0) {
        return;
    }
    m_last_increase = now;
    m_rate = std::min(m_ceiling, m_rate + std::max(1.0, m_ceiling * 0.05));
}

} // namespace onboard::worker
