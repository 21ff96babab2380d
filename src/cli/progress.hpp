#pragma once

#include "worker/pool.hpp"

#include <cstdio>
#include <string>

namespace onboard::cli {

// A one-line progress display, redrawn in place on a terminal; silent when stderr is not one.
class ProgressLine {
public:
    explicit ProgressLine(bool enabled);
    void update(const worker::RunTotals& totals);
    // An import's progress: records read so far and their rate.
    void update_import(std::int64_t records, double elapsed_seconds);
    // Ends the line so later output starts on a fresh one.
    void finish();

private:
    bool m_enabled;
    bool m_drawn = false;
};

// "1h02m03s" style durations for humans.
std::string format_duration(double seconds);

} // namespace onboard::cli
