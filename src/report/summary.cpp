#include "report/summary.hpp"

#include "core/error.hpp"
#include "report/filter.hpp"
#include "report/render.hpp"

#include <SQLiteCpp/Statement.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <map>
#include <string_view>

namespace onboard::report {

namespace {

SqlWhere import_where(std::optional<std::int64_t> import_id, const std::string& column) {
    SqlWhere where;
    if (import_id) {
        where.equals(column, *import_id);
    }
    return where;
}

// What a summary is made of, gathered in one pass over the rows and one over the attempts.
struct Tally {
    store::StateCounts counts;
    std::vector<double> durations;
    std::string first_request_at;
    std::string last_request_at;
    // Per run: when its first request started and its last one ended, in seconds.
    std::map<std::optional<std::int64_t>, std::pair<double, double>> runs;

    void add_attempt(std::optional<std::int64_t> run, double duration_ms, std::string_view started_at,
                     double started_julian_day) {
        durations.push_back(duration_ms);
        note_requests(started_at, started_at);
        const double start = started_julian_day * 86400.0;
        widen_run(run, start, start + duration_ms / 1000.0);
    }

    void merge(const Tally& other) {
        for (const auto field : k_state_fields) {
            counts.*field += other.counts.*field;
        }
        durations.insert(durations.end(), other.durations.begin(), other.durations.end());
        if (!other.first_request_at.empty()) {
            note_requests(other.first_request_at, other.last_request_at);
        }
        for (const auto& [run, span] : other.runs) {
            widen_run(run, span.first, span.second);
        }
    }

    // Requests started from `first` to `last` (ISO 8601 text sorts as time does).
    void note_requests(std::string_view first, std::string_view last) {
        if (first_request_at.empty() || first < first_request_at) {
            first_request_at = first;
        }
        if (last_request_at.empty() || last > last_request_at) {
            last_request_at = last;
        }
    }

    // Run `run` also had requests from `start` to `end` seconds.
    void widen_run(std::optional<std::int64_t> run, double start, double end) {
        const auto [span, added] = runs.try_emplace(run, start, end);
        if (!added) {
            span->second.first = std::min(span->second.first, start);
            span->second.second = std::max(span->second.second, end);
        }
    }

    // The counts of k_row_states, in its order.
    static constexpr std::array<std::int64_t store::StateCounts::*, 7> k_state_fields{
        &store::StateCounts::pending,         &store::StateCounts::in_flight, &store::StateCounts::succeeded,
        &store::StateCounts::failed,          &store::StateCounts::outcome_unknown,
        &store::StateCounts::rejected,        &store::StateCounts::superseded};
};

// Nearest-rank percentile of sorted values.
double percentile(const std::vector<double>& sorted, double p) {
    const auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(sorted.size())));
    return sorted[rank == 0 ? 0 : rank - 1];
}

// Tallies per import (all of them, or `import_id` alone); `by_import` false puts every row and
// attempt under import 0, without looking up each attempt's row.
std::map<std::int64_t, Tally> tally(store::Store& store, std::optional<std::int64_t> import_id, bool by_import) {
    std::map<std::int64_t, Tally> tallies;
    SqlWhere rows_where = import_where(import_id, "import_id");
    SQLite::Statement rows(store.database(), "SELECT import_id, state FROM rows" + rows_where.text());
    rows_where.bind(rows);
    std::int64_t last_import = -1;
    Tally* tally = nullptr;
    while (rows.executeStep()) {
        const std::int64_t id = by_import ? rows.getColumn(0).getInt64() : 0;
        if (tally == nullptr || id != last_import) {
            tally = &tallies[id];
            last_import = id;
        }
        const std::string_view state(rows.getColumn(1).getText(), static_cast<std::size_t>(rows.getColumn(1).getBytes()));
        const auto known = std::find(k_row_states.begin(), k_row_states.end(), state);
        if (known != k_row_states.end()) {
            ++(tally->counts.*Tally::k_state_fields[static_cast<std::size_t>(known - k_row_states.begin())]);
        }
    }
    const bool join = by_import || import_id.has_value();
    SqlWhere where = import_where(import_id, "r.import_id");
    SQLite::Statement attempts(store.database(),
                               std::string("SELECT ") + (by_import ? "r.import_id" : "0") +
                                   ", a.run_id, a.duration_ms, a.started_at, julianday(a.started_at) FROM attempts a" +
                                   (join ? " JOIN rows r ON r.id = a.row_id" : "") + where.text());
    where.bind(attempts);
    tally = nullptr;
    while (attempts.executeStep()) {
        const std::int64_t id = attempts.getColumn(0).getInt64();
        if (tally == nullptr || id != last_import) {
            tally = &tallies[id];
            last_import = id;
        }
        const auto run = attempts.isColumnNull(1) ? std::nullopt : std::optional(attempts.getColumn(1).getInt64());
        const std::string_view started_at(attempts.getColumn(3).getText(),
                                          static_cast<std::size_t>(attempts.getColumn(3).getBytes()));
        tally->add_attempt(run, attempts.getColumn(2).getDouble(), started_at, attempts.getColumn(4).getDouble());
    }
    return tallies;
}

// The summary a tally comes to: its success rate, latency percentiles and throughput.
void fill(ImportSummary& summary, Tally& tally) {
    auto& c = summary.counts;
    for (const auto field : Tally::k_state_fields) {
        c.*field = tally.counts.*field;
    }
    const auto live = c.total() - c.superseded;
    if (live > 0) {
        summary.success_rate = static_cast<double>(c.succeeded) / static_cast<double>(live);
    }
    std::vector<double>& sorted = tally.durations;
    summary.attempts = static_cast<std::int64_t>(sorted.size());
    if (sorted.empty()) {
        return;
    }
    std::sort(sorted.begin(), sorted.end());
    summary.latency_p50_ms = percentile(sorted, 0.50);
    summary.latency_p95_ms = percentile(sorted, 0.95);
    summary.first_request_at = tally.first_request_at;
    summary.last_request_at = tally.last_request_at;
    // Time spent running, run by run, so the hours between a run and a rerun do not count.
    double seconds = 0;
    for (const auto& [run, span] : tally.runs) {
        seconds += span.second - span.first;
    }
    if (seconds > 0) {
        summary.throughput_per_s = static_cast<double>(c.succeeded) / seconds;
    }
}

std::string fixed(double value, int decimals) {
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
    return buffer;
}


core::Json optional_number(std::optional<double> value, int decimals) {
    if (!value) {
        return nullptr;
    }
    const double scale = std::pow(10.0, decimals);
    return std::round(*value * scale) / scale;
}

// `rate` (0 to 1) rounded to 1/`steps`, except that it reaches 1 only when it is 1 and 0 only when
// it is 0: "100.0%" or success_rate == 1 must never hide a failed row.
double rounded_rate(double rate, double steps) {
    double scaled = std::round(rate * steps);
    if (rate < 1.0) {
        scaled = std::min(scaled, steps - 1.0);
    }
    if (rate > 0.0) {
        scaled = std::max(scaled, 1.0);
    }
    return scaled / steps;
}

// The JSON success rate, at 4 decimals.
core::Json optional_rate(std::optional<double> rate) {
    return rate ? core::Json(rounded_rate(*rate, 10000.0)) : core::Json();
}

core::Json optional_text(const std::string& text) {
    return text.empty() ? core::Json() : core::Json(text);
}

// The file's last path component: what tells imports apart at a glance in a narrow table (the id
// and `status --json` carry the rest).
std::string base_name(const std::string& path) {
    const auto slash = path.find_last_of('/');
    return slash == std::string::npos || slash + 1 == path.size() ? path : path.substr(slash + 1);
}

std::string state_breakdown(const store::StateCounts& c) {
    std::string out;
    const std::pair<const char*, std::int64_t> parts[] = {
        {"succeeded", c.succeeded},  {"failed", c.failed},
        {"rejected", c.rejected},    {"pending", c.pending},
        {"in flight", c.in_flight},  {"outcome unknown", c.outcome_unknown},
        {"superseded", c.superseded}};
    for (const auto& [name, count] : parts) {
        if (count > 0) {
            out += (out.empty() ? "" : ", ") + std::to_string(count) + " " + name;
        }
    }
    return out.empty() ? "none" : out;
}

} // namespace

ImportSummary summarize(store::Store& store, std::optional<std::int64_t> import_id) {
    ImportSummary summary;
    summary.import_id = import_id;
    try {
        if (import_id) {
            SQLite::Statement select(store.database(),
                                     "SELECT file_name, imported_at FROM imports WHERE id = ?");
            select.bind(1, *import_id);
            if (!select.executeStep()) {
                throw UsageError("status: no import with id " + std::to_string(*import_id));
            }
            summary.file_name = select.getColumn(0).getString();
            summary.imported_at = select.getColumn(1).getString();
            summary.counts.import_id = *import_id;
            summary.counts.file_name = summary.file_name;
        }
        auto tallies = tally(store, import_id, false);
        fill(summary, tallies[0]);
    } catch (const SQLite::Exception& e) {
        throw StoreError(std::string("status: ") + e.what());
    }
    return summary;
}

StatusSummary summarize_all(store::Store& store) {
    StatusSummary status;
    try {
        auto tallies = tally(store, std::nullopt, true);
        Tally all;
        SQLite::Statement select(store.database(), "SELECT id, file_name, imported_at FROM imports ORDER BY id");
        while (select.executeStep()) {
            ImportSummary summary;
            summary.import_id = select.getColumn(0).getInt64();
            summary.file_name = select.getColumn(1).getString();
            summary.imported_at = select.getColumn(2).getString();
            summary.counts.import_id = *summary.import_id;
            summary.counts.file_name = summary.file_name;
            Tally& mine = tallies[*summary.import_id];
            all.merge(mine);
            fill(summary, mine);
            status.imports.push_back(std::move(summary));
        }
        fill(status.total, all);
    } catch (const SQLite::Exception& e) {
        throw StoreError(std::string("status: ") + e.what());
    }
    return status;
}

std::vector<ImportSummary> summarize_imports(store::Store& store) { return summarize_all(store).imports; }

// Rounded to the nearest tenth, except that 100.0% means every row and 0.0% none: 3,500 of 3,501
// reads 99.9%, 1 of 3,001 reads 0.1%.
std::string format_percent(std::optional<double> rate) {
    return rate ? fixed(rounded_rate(*rate, 1000.0) * 100.0, 1) + "%" : "-";
}

std::string format_summary(const ImportSummary& s) {
    const auto& c = s.counts;
    std::string out = s.import_id
                          ? "import " + std::to_string(*s.import_id) + " (" +
                                base_name(s.file_name) + ", imported " + s.imported_at + ")\n"
                          : std::string("all imports\n");
    out += "  rows        " + std::to_string(c.total()) + ": " + state_breakdown(c) + "\n";
    out += "  success     " + format_percent(s.success_rate) + "\n";
    out += "  attempts    " + std::to_string(s.attempts);
    if (s.latency_p50_ms) {
        out += ", latency p50 " + fixed(*s.latency_p50_ms, 0) + " ms, p95 " +
               fixed(*s.latency_p95_ms, 0) + " ms";
    }
    out += "\n";
    if (s.throughput_per_s) {
        out += "  throughput  " + fixed(*s.throughput_per_s, 1) + " rows/s\n";
    }
    if (!s.first_request_at.empty()) {
        out += "  requests    " + s.first_request_at + " to " + s.last_request_at + "\n";
    }
    return out;
}

ResultSet status_table(const std::vector<ImportSummary>& imports, const ImportSummary& total) {
    ResultSet table;
    table.columns = {"import",  "file",      "rows",    "succeeded",  "failed", "rejected",
                     "pending", "in_flight", "unknown", "superseded", "success"};
    // Rows in flight exist only during a run; the success rate is what a glance is for.
    table.drop_order = {7, 9, 8, 6};
    auto add = [&](const ImportSummary& s, core::Json id, core::Json file) {
        const auto& c = s.counts;
        table.rows.push_back({std::move(id), std::move(file), c.total(), c.succeeded, c.failed,
                              c.rejected, c.pending, c.in_flight, c.outcome_unknown, c.superseded,
                              format_percent(s.success_rate)});
    };
    for (const auto& s : imports) {
        add(s, *s.import_id, base_name(s.file_name));
    }
    add(total, core::Json(), "total");
    return table;
}

std::string format_status_table(const std::vector<ImportSummary>& imports,
                                const ImportSummary& total, int width, bool color) {
    return format_table(status_table(imports, total), width, color);
}

core::Json summary_json(const ImportSummary& s) {
    const auto& c = s.counts;
    core::Json out = core::Json::object();
    out.set("import_id", s.import_id ? core::Json(*s.import_id) : core::Json());
    out.set("file_name", optional_text(s.file_name));
    out.set("imported_at", optional_text(s.imported_at));
    out.set("rows", c.total());
    const std::pair<const char*, std::int64_t> states[] = {{"pending", c.pending},
                                                           {"in_flight", c.in_flight},
                                                           {"succeeded", c.succeeded},
                                                           {"failed", c.failed},
                                                           {"outcome_unknown", c.outcome_unknown},
                                                           {"rejected", c.rejected},
                                                           {"superseded", c.superseded}};
    for (const auto& [name, count] : states) {
        out.set(name, count);
    }
    out.set("success_rate", optional_rate(s.success_rate));
    out.set("attempts", s.attempts);
    out.set("latency_p50_ms", optional_number(s.latency_p50_ms, 1));
    out.set("latency_p95_ms", optional_number(s.latency_p95_ms, 1));
    out.set("throughput_per_s", optional_number(s.throughput_per_s, 2));
    out.set("first_request_at", optional_text(s.first_request_at));
    out.set("last_request_at", optional_text(s.last_request_at));
    return out;
}

core::Json status_json(const std::vector<ImportSummary>& imports, const ImportSummary& total) {
    core::Json list = core::Json::array();
    for (const auto& s : imports) {
        list.push_back(summary_json(s));
    }
    core::Json out = core::Json::object();
    out.set("imports", std::move(list));
    out.set("total", summary_json(total));
    return out;
}

} // namespace onboard::report
