#pragma once

#include "store/store.hpp"

#include <SQLiteCpp/Statement.h>
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace onboard::report {

// The row states of schema/001_initial.sql.
inline constexpr std::array<std::string_view, 7> k_row_states{
    "pending", "in_flight", "succeeded", "failed", "outcome_unknown", "rejected", "superseded"};

// The failure classes a failed attempt or row carries (README "Failure classes"); stable names.
inline constexpr std::array<std::string_view, 10> k_failure_classes{
    "invalid_input",   // rejected at import: a bad record, or a duplicate in the file or queue
    "validation",      // the server refused a field of the payload
    "duplicate",       // the server already holds a customer with this name or externalId
    "graphql",         // top-level GraphQL errors
    "auth",            // refresh refused, or 401/403 after a re-refresh
    "rate_limited",    // 429 after the retries allowed
    "server",          // 5xx, non-JSON bodies
    "network",         // connect, reset, timeout
    "outcome_unknown", // the request may have reached the server (reconciled by the next run)
    "stale_copy",      // an export row whose source row is already done or replaced: never queued
};

// Which rows a report, export or retry is about; empty lists mean "any".
struct RowFilter {
    std::optional<std::int64_t> import_id;
    std::vector<std::string> states;
    std::vector<std::string> classes;
    std::vector<std::int64_t> lines;
};

// Throws onboard::UsageError "<where>: unknown state ..." / "unknown failure class ..." for a name
// outside k_row_states / k_failure_classes.
void validate(const RowFilter& filter, std::string_view where);

// Throws onboard::UsageError "<where>: no import with id N" when `import_id` names no import (an
// unknown id would otherwise look like an import with nothing in it), StoreError on a database
// failure.
void require_import(store::Store& store, std::optional<std::int64_t> import_id,
                    std::string_view where);

// A WHERE clause built from conditions with bound parameters.
class SqlWhere {
public:
    // Adds "<column> = ?".
    void equals(const std::string& column, std::int64_t value);
    // Adds "<column> IN (?, ...)"; nothing for an empty list.
    void in(const std::string& column, const std::vector<std::string>& values);
    void in(const std::string& column, const std::vector<std::int64_t>& values);
    // Adds a condition without parameters.
    void raw(const std::string& condition);
    // Adds the conditions of a RowFilter on the rows table aliased `table`.
    void add(const RowFilter& filter, const std::string& table);

    // " WHERE a AND b", or "" with no conditions.
    std::string text() const;
    // Binds the parameters, in order, from index 1.
    void bind(SQLite::Statement& statement) const;

private:
    std::vector<std::string> m_conditions;
    std::vector<std::variant<std::int64_t, std::string>> m_values;
};

} // namespace onboard::report
