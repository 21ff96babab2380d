#include "report/summary.hpp"

#include "core/error.hpp"
#include "report/filter.hpp"
#include "report/render.hpp"

#include <SQLiteCpp/Statement.h>
#include <cmath>
#include <cstdio>

namespace onboard::report {

namespace {

SqlWhere import_where(std::optional<std::int64_t> import_id, const std::string& column) {
    SqlWhere where;
    if (import_id) {
        where.equals(column, *import_id);
    }
    return where;
}

void count_states(store::Store& store, ImportSummary& summary) {
    const auto where = import_where(summary.import_id, "import_id");
    std::string sql = "SELECT";
    for (std::size_t i = 0; i < k_row_states.size(); ++i) {
        sql += std::string(i > 0 ? "," : "") + " COUNT(CASE WHEN state = '" +
               std::string(k_row_states[i]) + "' THEN 1 END)";
    }
    SQLite::Statement select(store.database(), sql + " FROM rows" + where.text());
    where.bind(select);
    select.executeStep();
    auto& c = summary.counts;
    for (auto* count : {&c.pending, &c.in_flight, &c.succeeded, &c.failed, &c.outcome_unknown,
                        &c.rejected, &c.superseded}) {
        *count = select.getColumn(static_cast<int>(count - &c.pending)).getInt64();
    }
    const auto live = c.total() - c.superseded;
    if (live > 0) {
        summary.success_rate = static_cast<double>(c.succeeded) / static_cast<double>(live);
    }
}

// Nearest-rank percentile of sorted values.
double percentile(const std::vector<double>& sorted, double p) {
    const auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(sorted.size())));
    return sorted[rank == 0 ? 0 : rank - 1];
}

void time_requests(store::Store& store, ImportSummary& summary) {
    const auto where = import_where(summary.import_id, "r.import_id");
    const std::string from = " FROM attempts a JOIN rows r ON r.id = a.row_id" + where.text();
    SQLite::Statement durations(store.database(),
                                "SELECT a.duration_ms" + from + " ORDER BY a.duration_ms");
    where.bind(durations);
    std::vector<double> sorted;
    while (durations.executeStep()) {
        sorted.push_back(durations.getColumn(0).getDouble());
    }
    summary.attempts = static_cast<std::int64_t>(sorted.size());
    if (sorted.empty()) {
        return;
    }
    summary.latency_p50_ms = percentile(sorted, 0.50);
    summary.latency_p95_ms = percentile(sorted, 0.95);
    SQLite::Statement bounds(store.database(),
                             "SELECT MIN(a.started_at), MAX(a.started_at)" + from);
    where.bind(bounds);
    bounds.executeStep();
    summary.first_request_at = bounds.getColumn(0).getString();
    summary.last_request_at = bounds.getColumn(1).getString();
    // Time spent running, run by run, so the hours between a run and a rerun do not count.
    SQLite::Statement spans(
        store.database(),
        "SELECT TOTAL(span) FROM (SELECT MAX(julianday(a.started_at) * 86400.0 + "
        "a.duration_ms / 1000.0) - MIN(julianday(a.started_at) * 86400.0) AS span" +
            from + " GROUP BY a.run_id)");
    where.bind(spans);
    spans.executeStep();
    const double seconds = spans.getColumn(0).getDouble();
    if (seconds > 0) {
        summary.throughput_per_s = static_cast<double>(summary.counts.succeeded) / seconds;
    }
}

void fill(store::Store& store, ImportSummary& summary) {
    count_states(store, summary);
    time_requests(store, summary);
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
        fill(store, summary);
    } catch (const SQLite::Exception& e) {
        throw StoreError(std::string("status: ") + e.what());
    }
    return summary;
}

std::vector<ImportSummary> summarize_imports(store::Store& store) {
    std::vector<std::int64_t> ids;
    try {
        SQLite::Statement select(store.database(), "SELECT id FROM imports ORDER BY id");
        while (select.executeStep()) {
            ids.push_back(select.getColumn(0).getInt64());
        }
    } catch (const SQLite::Exception& e) {
        throw StoreError(std::string("status: ") + e.what());
    }
    std::vector<ImportSummary> summaries;
    for (const auto id : ids) {
        summaries.push_back(summarize(store, id));
    }
    return summaries;
}

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
