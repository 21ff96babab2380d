#pragma once

#include "core/json.hpp"
#include "report/render.hpp"
#include "store/store.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace onboard::report {

// What one import (or all of them) came to: rows per state, success rate, requests and their
// timing.
struct ImportSummary {
    std::optional<std::int64_t> import_id; // none: every import together
    std::string file_name;                 // as given to `import`; empty for every import together
    std::string imported_at;
    store::StateCounts counts;
    std::optional<double> success_rate;   // succeeded / rows not superseded; none without rows
    std::int64_t attempts = 0;            // requests recorded (create and reconcile)
    std::optional<double> latency_p50_ms; // nearest-rank percentiles of request durations
    std::optional<double> latency_p95_ms;
    std::optional<double> throughput_per_s; // succeeded rows per second of run time (idle gaps
                                            // between runs not counted); none without requests
    std::string first_request_at;           // ISO 8601 UTC, empty without requests
    std::string last_request_at;
};

// Summarises one import, or every import together when `import_id` is empty. Throws UsageError
// "status: no import with id N" for an unknown id, StoreError on a database failure.
ImportSummary summarize(store::Store& store, std::optional<std::int64_t> import_id);

// Every import's summary, in import order, and all of them together.
struct StatusSummary {
    std::vector<ImportSummary> imports;
    ImportSummary total;
};

// What `onboard status` shows, from one pass over the rows and one over the attempts (not one per
// import). Throws StoreError on a database failure.
StatusSummary summarize_all(store::Store& store);

// One summary per import, in import order. Throws StoreError on a database failure.
std::vector<ImportSummary> summarize_imports(store::Store& store);

// The summary as a few lines for a terminal (what `onboard run` prints at its end and `status
// --import` shows); the file is named by its last path component.
// A success rate as "99.9%" (nearest tenth; 100.0% only for all, 0.0% only for none), "-" for none.
std::string format_percent(std::optional<double> rate);

std::string format_summary(const ImportSummary& summary);

// A line per import (its file by the last path component) and a total line: import, file, rows,
// succeeded, failed, rejected, pending, in_flight, unknown, superseded, success; a narrow table
// leaves out in_flight, superseded, unknown and pending first.
ResultSet status_table(const std::vector<ImportSummary>& imports, const ImportSummary& total);

// status_table as text fitting `width` (0 = unlimited).
std::string format_status_table(const std::vector<ImportSummary>& imports,
                                const ImportSummary& total, int width, bool color);

// The summary as a JSON object with stable names: import_id, file_name, imported_at, rows, pending,
// in_flight, succeeded, failed, outcome_unknown, rejected, superseded, success_rate, attempts,
// latency_p50_ms, latency_p95_ms, throughput_per_s, first_request_at, last_request_at (null when
// not known).
core::Json summary_json(const ImportSummary& summary);

// {"imports":[summary_json...],"total":summary_json}.
core::Json status_json(const std::vector<ImportSummary>& imports, const ImportSummary& total);

} // namespace onboard::report
